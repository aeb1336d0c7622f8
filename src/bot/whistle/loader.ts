import type { DbOrTx } from "../../db/database";
import { departmentCardViews } from "../../db/queries/department-cards";
import type { DepartmentCardView } from "../../domain/whistle";
import type { BatchMemo } from "../router";

/**
 * What a batch's deferred answers render their department cards from, loaded together: every
 * `load(dispatchId)` asked for in the same tick is answered by one `departmentCardViews` (one
 * statement), however many cards the batch's taps answer with.
 */
class CardLoader {
  private wanted = new Map<
    number,
    { resolve: (v: DepartmentCardView | undefined) => void; reject: (e: unknown) => void }[]
  >();
  private scheduled = false;

  constructor(private readonly db: DbOrTx) {}

  /** The card data of dispatch `id`, or undefined when it does not exist. */
  load(id: number): Promise<DepartmentCardView | undefined> {
    return new Promise((resolve, reject) => {
      const waiters = this.wanted.get(id);
      if (waiters) waiters.push({ resolve, reject });
      else this.wanted.set(id, [{ resolve, reject }]);
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
      const views = await departmentCardViews(this.db, Array.from(wanted.keys()));
      for (const [id, waiters] of wanted) for (const w of waiters) w.resolve(views.get(id));
    } catch (err) {
      for (const waiters of wanted.values()) for (const w of waiters) w.reject(err);
    }
  }
}

/** The batch's loader (one per batch: what it loads reflects every handler of the batch). */
export function batchCards(ctx: { tx: DbOrTx; batch: BatchMemo }): Promise<CardLoader> {
  return ctx.batch.once("card-loader", async () => new CardLoader(ctx.tx));
}
