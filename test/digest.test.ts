import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { lintCard } from "../src/bot/cards/lint";
import { sweepDigest } from "../src/bot/sweep";
import { jobRuns } from "../src/db/schema";
import { digestRunKey } from "../src/domain/digest";
import { silentLogger } from "../src/log";
import { cardText } from "./support/cards";
import { say } from "./support/chat";
import { resetDatabase } from "./support/db";
import { standardDistrict } from "./support/district";
import { type Harness, larkHarness } from "./support/harness";

const ADMIN = "ou_admin000000000000000000000000001";
const OFFICIAL = "ou_official0000000000000000000000002";
let h: Harness;
let clock = 0;
const set = (iso: string) => {
  clock = Date.parse(iso);
};

beforeEach(async () => {
  set("2026-11-21T02:00:00Z"); // 10:00 in Shanghai
  h = await larkHarness({ now: () => new Date(clock) });
  await resetDatabase(h.t);
  await standardDistrict(h, { admin: ADMIN, official: OFFICIAL });
});
afterEach(async () => {
  await h.close();
});

const digests = () =>
  h.fake.messages("oc_ov").filter((m) => m.sender === "bot" && cardText(m.content).includes("每日简报"));

describe("daily digest", () => {
  it("is due from 08:30 Shanghai time, keyed by the Shanghai date", () => {
    expect(digestRunKey(new Date("2026-11-26T00:29:59Z"), "Asia/Shanghai", "08:30")).toBeUndefined();
    expect(digestRunKey(new Date("2026-11-26T00:30:00Z"), "Asia/Shanghai", "08:30")).toBe("2026-11-26");
    expect(digestRunKey(new Date("2026-11-26T15:59:00Z"), "Asia/Shanghai", "08:30")).toBe("2026-11-26");
    expect(digestRunKey(new Date("2026-11-26T16:00:00Z"), "Asia/Shanghai", "08:30")).toBeUndefined(); // 00:00 on the 27th
  });

  it("goes to 督办 once a day with yesterday's whistles, late departments, the ranking and old open matters", async () => {
    await say(h, "oc_street", OFFICIAL, "/吹哨 重点 公安 南小街5号群租房"); // 21 Nov, still open later
    set("2026-11-25T02:00:00Z");
    await say(h, "oc_street", OFFICIAL, "/吹哨 执法 城管,公安 东直门内大街12号占道经营");
    set("2026-11-25T02:31:00Z");
    await h.runtime.sweep(); // both departments overdue (and the 25th's digest, it being past 08:30)
    const before = digests().length;
    set("2026-11-26T00:29:00Z");
    await h.runtime.sweep();
    expect(digests()).toHaveLength(before);
    set("2026-11-26T00:30:00Z");
    await h.runtime.sweep();
    // A second sweep two minutes later (delivering anything a loaded machine had to retry) adds none.
    set("2026-11-26T00:32:00Z");
    await h.runtime.sweep();
    expect(digests()).toHaveLength(before + 1);
    const card = digests()[before]?.content;
    expect(lintCard(card)).toEqual([]);
    const text = cardText(card);
    expect(text).toContain("昨日吹哨 1 次");
    expect(text).toContain("综合执法哨 1");
    expect(text).toContain("城管执法队（1 次）");
    expect(text).toContain("南小街5号群租房"); // open for 5 days
    set("2026-11-26T09:00:00Z");
    await h.runtime.sweep();
    expect(digests()).toHaveLength(before + 1);
  });

  it("is sent once even when several sweeps run at the same moment", async () => {
    set("2026-11-26T01:00:00Z");
    const opts = { db: h.t.db, log: silentLogger, tz: "Asia/Shanghai", digestAt: "08:30" };
    const now = new Date(clock);
    const sent = await Promise.all([sweepDigest(now, opts), sweepDigest(now, opts), sweepDigest(now, opts)]);
    expect(sent.filter(Boolean)).toHaveLength(1);
    expect(await h.t.db.select().from(jobRuns)).toHaveLength(1);
  });
});
