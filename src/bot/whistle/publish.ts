import { eq } from "drizzle-orm";
import type { Tx } from "../../db/database";
import { whistleView } from "../../db/queries/whistles";
import { dispatches, whistles } from "../../db/schema";
import type { DispatchView, WhistleView } from "../../domain/whistle";
import { renderDepartmentCard } from "../cards/department-card";
import { renderSummaryCard } from "../cards/summary-card";
import type { MessageRef, OutboxWriter } from "../outbox";
import type { RecordHook } from "../outbox-worker";

/**
 * Where a whistle's cards live and how they are kept current: every change re-renders the cards
 * from the database and queues one update per card (coalesced: only the newest render is sent).
 * Until a card's send is delivered, updates point at it through its outbox key.
 */

const stamp = (w: Pick<WhistleView, "createdAt">) => w.createdAt.getTime().toString(36);

/** The outbox key (and Lark uuid) of a department card's send. */
export const dispatchCardKey = (w: Pick<WhistleView, "createdAt">, d: Pick<DispatchView, "id">) =>
  `dcard-${d.id}-${stamp(w)}`;

/** The outbox key of the street summary card's send. */
export const summaryCardKey = (w: Pick<WhistleView, "id" | "createdAt">) => `scard-${w.id}-${stamp(w)}`;

export const dispatchCardRef = (w: WhistleView, d: DispatchView): MessageRef =>
  d.cardMessageId ?? `outbox:${dispatchCardKey(w, d)}`;

export const summaryCardRef = (w: WhistleView): MessageRef =>
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

export interface PublishOptions {
  /** Skip this department card (the callback answer carries it). */
  exceptDispatchId?: number;
  /** Skip the summary card (the callback answer carries it). */
  exceptSummary?: boolean;
  /** Only the summary card (a change that shows on no department card). */
  summaryOnly?: boolean;
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
  if (opts.summaryOnly) return;
  for (const d of w.dispatches) {
    if (d.id === opts.exceptDispatchId) continue;
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
