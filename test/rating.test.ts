import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { lintCard } from "../src/bot/cards/lint";
import { ratings, whistles } from "../src/db/schema";
import { decideRating } from "../src/domain/rating";
import { button, cardText } from "./support/cards";
import { say } from "./support/chat";
import { resetDatabase } from "./support/db";
import { standardDistrict } from "./support/district";
import { type Harness, larkHarness } from "./support/harness";

const ADMIN = "ou_admin000000000000000000000000001";
const OFFICIAL = "ou_official0000000000000000000000002";
const CG1 = "ou_cg100000000000000000000000000003";
const GA1 = "ou_ga100000000000000000000000000005";
const HOUR = 60 * 60_000;

let h: Harness;
let clock: number;
let t0: number;
const at = (hours: number) => {
  clock = t0 + hours * HOUR;
  return new Date(clock);
};

beforeEach(async () => {
  clock = Date.now();
  t0 = clock;
  h = await larkHarness({ now: () => new Date(clock) });
  await resetDatabase(h.t);
  await standardDistrict(h, { admin: ADMIN, official: OFFICIAL, cg: [CG1], ga: [GA1] });
});
afterEach(async () => {
  await h.close();
});

const cards = (chat: string) =>
  h.fake.messages(chat).filter((m) => m.sender === "bot" && m.msg_type === "interactive");
const texts = (chat: string) =>
  h.fake
    .messages(chat)
    .filter((m) => m.sender === "bot" && m.msg_type === "text")
    .map((m) => (m.content as { text: string }).text);

async function resolvedWhistle(matter: string) {
  await say(h, "oc_street", OFFICIAL, `/吹哨 执法 城管,公安 ${matter}`);
  const summary = cards("oc_street").find(
    (m) => cardText(m.content).includes(matter) && !cardText(m.content).includes("评价"),
  );
  await h.fake.push.cardAction(h.target, {
    operatorOpenId: OFFICIAL,
    messageId: summary?.message_id as string,
    value: button(summary?.content, "resolve"),
    formValue: { text: "已处理完毕" },
  });
  await h.runtime.settle();
  const rating = cards("oc_street").find(
    (m) => cardText(m.content).includes("⭐") || JSON.stringify(m.content).includes('"rate"'),
  );
  return { summary, rating };
}

async function rate(
  messageId: string,
  value: Record<string, unknown>,
  formValue: Record<string, unknown>,
  who = OFFICIAL,
) {
  const r = await h.fake.push.cardAction(h.target, { operatorOpenId: who, messageId, value, formValue });
  await h.runtime.settle();
  return r;
}

describe("rating and veto (评价权)", () => {
  it("the street rates each department after 办结; veto needs a reason; departments are told; 24 h to change", async () => {
    const { rating } = await resolvedWhistle("东直门内大街12号占道经营");
    expect(rating).toBeDefined();
    expect(lintCard(rating?.content)).toEqual([]);
    const value = button(rating?.content, "rate");
    const [w] = await h.t.db.select().from(whistles);
    const ids =
      JSON.stringify(rating?.content)
        .match(/level_(\d+)/g)
        ?.map((s) => s.slice(6)) ?? [];
    expect(ids).toHaveLength(2);
    const [cg, ga] = ids;

    // Not an official: refused.
    const outsider = await h.fake.push.cardAction(h.target, {
      operatorOpenId: CG1,
      messageId: rating?.message_id as string,
      value,
      formValue: { [`level_${cg}`]: "satisfied" },
      chatId: "oc_cg",
    });
    expect(JSON.stringify(outsider.toast)).toContain("只有朝阳门街道工作群的成员可以评价部门");

    // A veto without a reason saves nothing.
    const noReason = await rate(rating?.message_id as string, value, {
      [`level_${cg}`]: "satisfied",
      [`level_${ga}`]: "veto",
    });
    expect(JSON.stringify(noReason.toast)).toContain("否决公安需要填写理由");
    expect(await h.t.db.select().from(ratings)).toHaveLength(0);

    const ok = await rate(rating?.message_id as string, value, {
      [`level_${cg}`]: "satisfied",
      [`note_${cg}`]: "到场快",
      [`level_${ga}`]: "veto",
      [`note_${ga}`]: "超时未到场",
    });
    expect(ok.toast).toMatchObject({ type: "success" });
    const saved = await h.t.db.select().from(ratings);
    expect(saved.map((r) => [r.level, r.veto, r.comment, r.vetoReason]).sort()).toEqual(
      [
        ["satisfied", false, "到场快", null],
        ["unsatisfied", true, null, "超时未到场"],
      ].sort(),
    );
    expect(texts("oc_cg").some((t) => t.includes("评价为：满意") && t.includes(w?.code as string))).toBe(
      true,
    );
    expect(texts("oc_ga").some((t) => t.includes("评价为：否决") && t.includes("超时未到场"))).toBe(true);
    expect(cardText(h.fake.message(rating?.message_id as string)?.content)).toContain("已评 2/2");

    // Within 24 h a rating may change; after, it is final.
    at(23);
    const change = await rate(rating?.message_id as string, value, {
      [`level_${cg}`]: "basic",
      [`note_${cg}`]: "到场快",
    });
    expect(change.toast).toMatchObject({ type: "success" });
    at(25);
    const late = await rate(rating?.message_id as string, value, { [`level_${cg}`]: "unsatisfied" });
    expect(JSON.stringify(late.toast)).toContain("超过 24 小时");
    expect((await h.t.db.select().from(ratings)).find((r) => String(r.dispatchId) === cg)?.level).toBe(
      "basic",
    );
  });

  it("reminds an unrated whistle once, a day after 办结; a fully rated one not at all", async () => {
    await resolvedWhistle("南小街5号群租房");
    await h.runtime.sweep(at(23.9));
    expect(texts("oc_street").filter((t) => t.includes("未评价"))).toHaveLength(0);
    await h.runtime.sweep(at(24.1));
    const reminders = texts("oc_street").filter((t) => t.includes("未评价"));
    expect(reminders).toHaveLength(1);
    expect(reminders[0]).toContain("城管执法队、公安");
    await h.runtime.sweep(at(30));
    expect(texts("oc_street").filter((t) => t.includes("未评价"))).toHaveLength(1);
  });
});

describe("decideRating", () => {
  const now = new Date("2026-11-27T06:00:00Z");
  const existing = { level: "basic" as const, veto: false, comment: null, vetoReason: null, ratedAt: now };
  it.each([
    [undefined, undefined, undefined, { kind: "unchanged" }],
    ["great", undefined, undefined, { kind: "invalid" }],
    ["veto", "  ", undefined, { kind: "invalid" }],
    ["veto", "未到场", undefined, { kind: "set", level: "unsatisfied", veto: true, vetoReason: "未到场" }],
    ["satisfied", "", undefined, { kind: "set", level: "satisfied", veto: false, comment: null }],
    ["basic", undefined, existing, { kind: "unchanged" }],
  ])("%s / %s → %o", (choice, note, ex, expected) => {
    expect(decideRating("城管", choice, note, ex, now)).toMatchObject(expected);
  });
  it("is final after 24 hours", () => {
    const later = new Date(now.getTime() + 24 * HOUR + 1);
    expect(decideRating("城管", "satisfied", "", existing, later)).toMatchObject({ kind: "final" });
  });
});
