/**
 * The street's evaluation power (评价权): a rating per department per resolved whistle —
 * 满意 / 基本满意 / 不满意 — or a veto (否决), which needs a reason and marks the department's
 * performance on the whistle as failed. A rating may be changed for 24 hours, then it is final.
 */

export type RatingLevel = "satisfied" | "basic" | "unsatisfied";
export type RatingChoice = RatingLevel | "veto";

export const RATING_LABEL: Record<RatingChoice, string> = {
  satisfied: "满意",
  basic: "基本满意",
  unsatisfied: "不满意",
  veto: "否决",
};

export const RATING_CHANGE_WINDOW_MS = 24 * 60 * 60_000;
/** Unrated whistles are reminded once, this long after they were resolved. */
export const RATING_REMINDER_AFTER_MS = 24 * 60 * 60_000;

export interface ExistingRating {
  level: RatingLevel;
  veto: boolean;
  comment: string | null;
  vetoReason: string | null;
  ratedAt: Date;
}

export type RatingDecision =
  | { kind: "set"; level: RatingLevel; veto: boolean; comment: string | null; vetoReason: string | null }
  | { kind: "unchanged" }
  | { kind: "final"; reason: string }
  | { kind: "invalid"; reason: string };

const choices = new Set<string>(["satisfied", "basic", "unsatisfied", "veto"]);

/**
 * What a submitted choice does to one department's rating. A veto is stored as 不满意 + veto with
 * its reason; the note is the comment otherwise.
 */
export function decideRating(
  department: string,
  choice: unknown,
  note: unknown,
  existing: ExistingRating | undefined,
  now: Date,
): RatingDecision {
  if (choice === undefined || choice === null || choice === "") return { kind: "unchanged" };
  if (typeof choice !== "string" || !choices.has(choice))
    return { kind: "invalid", reason: `${department}：请选择评价。` };
  const text = typeof note === "string" && note.trim() ? note.trim().slice(0, 500) : null;
  if (choice === "veto" && !text) return { kind: "invalid", reason: `否决${department}需要填写理由。` };
  const next =
    choice === "veto"
      ? { level: "unsatisfied" as const, veto: true, comment: null, vetoReason: text }
      : { level: choice as RatingLevel, veto: false, comment: text, vetoReason: null };
  if (existing) {
    const same =
      existing.level === next.level &&
      existing.veto === next.veto &&
      (existing.comment ?? null) === next.comment &&
      (existing.vetoReason ?? null) === next.vetoReason;
    if (same) return { kind: "unchanged" };
    if (now.getTime() - existing.ratedAt.getTime() > RATING_CHANGE_WINDOW_MS) {
      return { kind: "final", reason: `${department}的评价已超过 24 小时，不能再修改。` };
    }
  }
  return { kind: "set", ...next };
}

export const choiceOf = (r: Pick<ExistingRating, "level" | "veto">): RatingChoice =>
  r.veto ? "veto" : r.level;
