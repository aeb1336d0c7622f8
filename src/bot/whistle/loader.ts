import type { DbOrTx } from "../../db/database";
import { whistleViews } from "../../db/queries/whistles";
import type { WhistleView } from "../../domain/whistle";
import type { BatchMemo } from "../router";

/**
 * Whistle views for a batch's deferred answers, loaded together: every `load(id)` asked for in the
 * same tick is answered by one `whistleViews(ids)` (a few statements), however many whistles the
 * batch's taps touched.
 */
class WhistleLoader {
  private wanted = new Map<
    number,
    { resolve: (w: WhistleView | undefined) => void; reject: (e: unknown) => void }[]
  >();
  private scheduled = false;

  constructor(private readonly db: DbOrTx) {}

  load(id: number): Promise<WhistleView | undefined> {
    return new Promise((resolve, reject) => {
      this.wanted.set(id, [...(this.wanted.get(id) ?? []), { resolve, reject }]);
      if (!this.scheduled) {
        this.scheduled = true;
        queueMicrotask(() => void this.flush());
      }
    });
  }

  private async flush() {
    const wanted = this.wanted;
    this.wanted = new Map();
    this.scheduled = false;
    try {
      const views = new Map((await whistleViews(this.db, [...wanted.keys()])).map((w) => [w.id, w] as const));
      for (const [id, waiters] of wanted) for (const w of waiters) w.resolve(views.get(id));
    } catch (err) {
      for (const waiters of wanted.values()) for (const w of waiters) w.reject(err);
    }
  }
}

/** The batch's loader (one per batch: what it loads reflects every handler of the batch). */
export function batchWhistles(ctx: { tx: DbOrTx; batch: BatchMemo }): Promise<WhistleLoader> {
  return ctx.batch.once("whistle-loader", async () => new WhistleLoader(ctx.tx));
}
