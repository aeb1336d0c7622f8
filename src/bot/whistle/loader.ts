import type { DbOrTx } from "../../db/database";
import { whistleViews } from "../../db/queries/whistles";
import type { WhistleView } from "../../domain/whistle";
import type { BatchMemo } from "../router";

/**
 * Whistle views for a batch's deferred answers, loaded together: every `load(id, dispatchId)` asked
 * for in the same tick is answered by one `whistleViews(ids)` (one round trip), however many
 * whistles the batch's taps touched. Only the dispatches whose cards are answered with carry their
 * report-ins (the summary card shows none).
 */
class WhistleLoader {
  private wanted = new Map<
    number,
    { resolve: (w: WhistleView | undefined) => void; reject: (e: unknown) => void }[]
  >();
  private reportersOf = new Set<number>();
  private scheduled = false;

  constructor(private readonly db: DbOrTx) {}

  /** Whistle `id`, with the report-ins of its dispatch `cardOf` (the card to render). */
  load(id: number, cardOf: number): Promise<WhistleView | undefined> {
    this.reportersOf.add(cardOf);
    return new Promise((resolve, reject) => {
      this.wanted.set(id, [...(this.wanted.get(id) ?? []), { resolve, reject }]);
      if (!this.scheduled) {
        this.scheduled = true;
        queueMicrotask(() => void this.flush());
      }
    });
  }

  private async flush() {
    const [wanted, reportersOf] = [this.wanted, this.reportersOf];
    this.wanted = new Map();
    this.reportersOf = new Set();
    this.scheduled = false;
    try {
      const views = await whistleViews(this.db, [...wanted.keys()], { reportersOf: [...reportersOf] });
      const byId = new Map(views.map((w) => [w.id, w] as const));
      for (const [id, waiters] of wanted) for (const w of waiters) w.resolve(byId.get(id));
    } catch (err) {
      for (const waiters of wanted.values()) for (const w of waiters) w.reject(err);
    }
  }
}

/** The batch's loader (one per batch: what it loads reflects every handler of the batch). */
export function batchWhistles(ctx: { tx: DbOrTx; batch: BatchMemo }): Promise<WhistleLoader> {
  return ctx.batch.once("whistle-loader", async () => new WhistleLoader(ctx.tx));
}
