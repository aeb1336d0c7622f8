import { eq } from "drizzle-orm";
import type { Tx } from "../../db/database";
import { whistleView } from "../../db/queries/whistles";
import { dispatches, whistles } from "../../db/schema";
import type { DispatchView, WhistleView } from "../../domain/whistle";
import { renderDepartmentCard } from "../cards/department-card";
import { renderSummaryCard } from "../cards/summary-card";
import { content, type MessageRef, type OutboxWriter } from "../outbox";
import type { CardRenderer, RecordHook } from "../outbox-worker";

/**
 * Where a whistle's cards live and how they are kept current: every change re-renders the cards
 * from the database and queues one update per card (coalesced: only the newest render is sent) —
 * or, for the summary during a burst of taps, queues an update rendered from the database when it
 * is delivered (`queueSummaryRefresh`). Until a card's send is delivered, updates point at it
 * through its outbox key.
 */

const stamp = (w: Pick<WhistleView, "createdAt">) => w.createdAt.getTime().toString(36);

/** The outbox key (and Lark uuid) of a department card's send. */
export const dispatchCardKey = (w: Pick<WhistleView, "createdAt">, d: Pick<DispatchView, "id">) =>
  `dcard-${d.id}-${stamp(w)}`;

/** The outbox key of the street summary card's send. */
export const summaryCardKey = (w: Pick<WhistleView, "id" | "createdAt">) => `scard-${w.id}-${stamp(w)}`;

export const dispatchCardRef = (w: WhistleView, d: DispatchView): MessageRef =>
  d.cardMessageId ?? `outbox:${dispatchCardKey(w, d)}`;

export const summaryCardRef = (w: Pick<WhistleView, "id" | "createdAt" | "summaryMessageId">): MessageRef =>
  w.summaryMessageId ?? `outbox:${summaryCardKey(w)}`;

/** Hooks the outbox worker calls once a card's message exists. */
export const cardHooks: Record<string, RecordHook> = {
  dispatch_card: async (tx, id, messageId) => {
    await tx.update(dispatches).set({ cardMessageId: messageId }).where(eq(dispatches.id, id));
  },
  summary_card: async (tx, id, messageId) => {
    await tx.update(whistles).set({ summaryMessageId: messageId }).where(eq(whistles.id, id));
  },
};

/** The renderer name of the street summary card rendered at delivery (`queueSummaryRefresh`). */
const SUMMARY_RENDERER = "summary_card";

/** Renderers of cards patched with what the database holds when the patch is delivered. */
export function cardRenderers(tz: string): Record<string, CardRenderer> {
  return {
    [SUMMARY_RENDERER]: async (db, arg, now) => {
      const w = await whistleView(db, Number(arg));
      return w ? content.card(renderSummaryCard(w, now, tz)) : undefined;
    },
  };
}

/**
 * Queue an update of a whistle's summary card, rendered when it is delivered. For changes that come
 * in bursts (department taps): the burst's updates coalesce into one patch showing all of it, and the
 * transaction that made the change renders nothing. The caller holds the whistle's summary lock
 * (`lockSummaries`) until it commits, so a summary rendered in a concurrent transaction is either
 * queued before this row or has read this change.
 */
export function queueSummaryRefresh(
  out: OutboxWriter,
  w: Pick<WhistleView, "id" | "createdAt" | "summaryMessageId">,
): void {
  out.refreshCard(summaryCardRef(w), { name: SUMMARY_RENDERER, arg: w.id }, { whistleId: w.id });
}

export interface PublishOptions {
  /** Skip the summary card (the callback answer carries it). */
  exceptSummary?: boolean;
}

/** Queue updates of a whistle's cards rendered from `w` (already loaded from the database). */
export function publishCards(
  out: OutboxWriter,
  w: WhistleView,
  now: Date,
  tz: string,
  opts: PublishOptions = {},
): void {
  if (!opts.exceptSummary)
    out.patchCard(summaryCardRef(w), renderSummaryCard(w, now, tz), { whistleId: w.id });
  for (const d of w.dispatches) {
    out.patchCard(dispatchCardRef(w, d), renderDepartmentCard(w, d, now, tz), { whistleId: w.id });
  }
}

/** Re-render a whistle's cards from the database and queue the updates. Returns the fresh view. */
export async function publish(
  tx: Tx,
  out: OutboxWriter,
  whistleId: number,
  now: Date,
  tz: string,
  opts: PublishOptions = {},
): Promise<WhistleView> {
  const w = await whistleView(tx, whistleId);
  if (!w) throw new Error(`whistle ${whistleId} vanished`);
  publishCards(out, w, now, tz, opts);
  return w;
}
