import { eq } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { renderDepartmentCard } from "../src/bot/cards/department-card";
import type { LarkEvent } from "../src/bot/events";
import { processEvent } from "../src/bot/pipeline";
import { departmentCardViews } from "../src/db/queries/department-cards";
import { dispatches, reportIns, units } from "../src/db/schema";
import { VIEW_REPORTERS } from "../src/domain/whistle";
import { button, cardText } from "./support/cards";
import { cardAction, say } from "./support/chat";
import { resetDatabase } from "./support/db";
import { standardDistrict } from "./support/district";
import { type Harness, larkHarness } from "./support/harness";

/**
 * A tap is answered with its card as the batch's desk knows it — the rows it locked and changed,
 * and report-ins, notes and names it read or kept from earlier batches (`CardCache`) — instead of
 * the card read back after the writes. Whatever the mix of taps in a batch, whatever another
 * process changed in between, that card must be the one the database gives once the batch has
 * committed.
 */

const ADMIN = "ou_admin000000000000000000000000001";
const OFFICIAL = "ou_official0000000000000000000000002";
const OUTSIDER = "ou_outsider000000000000000000000009";
const CG = Array.from({ length: VIEW_REPORTERS + 4 }, (_, i) => `ou_cg${String(i).padStart(30, "0")}`);
const GA = Array.from({ length: 4 }, (_, i) => `ou_ga${String(i).padStart(30, "0")}`);

let h: Harness;
let clock: Date;
let readBacks: number[];

beforeEach(async () => {
  clock = new Date("2026-11-27T01:00:00.000Z");
  readBacks = [];
  h = await larkHarness({ now: () => clock });
  await resetDatabase(h.t);
  await standardDistrict(h, { admin: ADMIN, official: OFFICIAL, cg: CG, ga: GA });
});
afterEach(async () => {
  await h.close();
});

const minutes = (n: number) => {
  clock = new Date(clock.getTime() + n * 60_000 + 137);
};

/** Deterministic choices (an LCG), so a failure replays. */
function chooser(seed: number) {
  let s = seed >>> 0;
  return <T>(items: readonly T[]): T => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return items[s % items.length] as T;
  };
}

interface DeptCard {
  messageId: string;
  chatId: string;
  staff: string[];
  value: (action: string) => Record<string, unknown>;
}

function departmentCard(chatId: string, matter: string, staff: string[]): DeptCard {
  const m = h.fake
    .messages(chatId)
    .find((x) => x.sender === "bot" && x.msg_type === "interactive" && cardText(x.content).includes(matter));
  if (!m) throw new Error(`no card for ${matter} in ${chatId}`);
  // The card as first sent has only 报到; the other buttons carry the same value with their action.
  const reportIn = button(m.content, "report_in");
  return { messageId: m.message_id, chatId, staff, value: (action) => ({ ...reportIn, action }) };
}

/** The events submitted together (one batch, or a few), and what each answered with. */
async function together(events: { event: LarkEvent; dispatchId: number }[]) {
  const before = h.logs.length;
  const results = await Promise.all(events.map((e) => processEvent(e.event, h.runtime.pipeline)));
  await h.runtime.settle();
  // How many answers read their card back instead of rendering the batch's state (logged).
  readBacks.push(h.logs.slice(before).filter((l) => l.msg === "department card read back").length);
  return results.map((r, i) => ({
    dispatchId: (events[i] as { dispatchId: number }).dispatchId,
    card: r.status === "processed" ? (r.answer?.card as { data?: unknown } | undefined)?.data : undefined,
    toast: r.status === "processed" ? r.answer?.toast : undefined,
  }));
}

/** Every answered card against the card rendered from the database now (after the commit). */
async function expectCardsAsStored(answers: Awaited<ReturnType<typeof together>>) {
  const ids = [...new Set(answers.filter((a) => a.card).map((a) => a.dispatchId))];
  const views = await departmentCardViews(h.t.db, ids);
  let compared = 0;
  for (const a of answers) {
    if (!a.card) continue;
    const v = views.get(a.dispatchId);
    expect(v, `dispatch ${a.dispatchId}`).toBeDefined();
    if (!v) continue;
    expect(a.card).toEqual(renderDepartmentCard(v.whistle, v.dispatch, clock, h.runtime.pipeline.tz));
    compared++;
  }
  return compared;
}

describe(`tap answers rendered from the batch's state (${process.env.TEST_DATABASE_URL ? "postgres" : "pglite"})`, () => {
  it("equal the stored card in every batch: report-ins, 到场, notes, refusals, repeats, another process's writes", async () => {
    await say(h, "oc_street", OFFICIAL, "/吹哨 执法 城管,公安 东直门内大街12号门前占道经营");
    await say(h, "oc_street", OFFICIAL, "/吹哨 应急 城管 南小街5号燃气泄漏");
    const cards = [
      departmentCard("oc_cg", "东直门内大街12号", CG),
      departmentCard("oc_ga", "东直门内大街12号", GA),
      departmentCard("oc_cg", "南小街5号", CG),
    ];
    const dispatchOf = (c: DeptCard) => Number(c.value("report_in").d);
    const pick = chooser(20261127);
    let compared = 0;
    for (let round = 0; round < 10; round++) {
      // Time moves on, and once backwards (another instance's clock a little behind): lists must
      // still come out in the database's order.
      minutes(round === 6 ? -4 : 1 + (round % 3));
      const events: { event: LarkEvent; dispatchId: number }[] = [];
      for (let i = 0; i < 12; i++) {
        const card = pick(cards);
        const who = pick([...card.staff, ...card.staff, OUTSIDER]);
        const kind = pick(["report_in", "report_in", "report_in", "on_site", "progress"] as const);
        const value = card.value(kind);
        const formValue = kind === "progress" ? { note: `第${round}轮进展${i}：已到现场核实` } : undefined;
        events.push({
          dispatchId: dispatchOf(card),
          event: cardAction(h, {
            operatorOpenId: who,
            messageId: card.messageId,
            chatId: card.chatId,
            value,
            ...(formValue ? { formValue } : {}),
          }),
        });
      }
      compared += await expectCardsAsStored(await together(events));
      if (round === 3) {
        // Another process adds a report-in (holding the row lock, as every writer does) and the
        // directory renames a department: the lists kept here no longer match, names are read anew.
        const d = dispatchOf(cards[0] as DeptCard);
        await h.t.db.transaction(async (tx) => {
          await tx.select().from(dispatches).where(eq(dispatches.id, d)).for("update");
          await tx.insert(reportIns).values({ dispatchId: d, openId: "ou_elsewhere", at: clock });
        });
        await h.t.db.update(units).set({ name: "公安分局" }).where(eq(units.name, "公安"));
      }
    }
    // The street resolves the first whistle in the same batch as more taps on its cards: the taps
    // are answered with the final cards.
    minutes(1);
    const summary = h.fake
      .messages("oc_street")
      .find(
        (m) =>
          m.sender === "bot" &&
          m.msg_type === "interactive" &&
          cardText(m.content).includes("东直门内大街12号"),
      );
    const resolve = cardAction(h, {
      operatorOpenId: OFFICIAL,
      messageId: summary?.message_id as string,
      chatId: "oc_street",
      value: button(summary?.content, "resolve"),
      formValue: { text: "已劝离，恢复通行" },
    });
    const last = await together([
      { event: resolve, dispatchId: 0 },
      ...[cards[0], cards[1], cards[2]].map((c) => ({
        dispatchId: dispatchOf(c as DeptCard),
        event: cardAction(h, {
          operatorOpenId: (c as DeptCard).staff[1] as string,
          messageId: (c as DeptCard).messageId,
          chatId: (c as DeptCard).chatId,
          value: (c as DeptCard).value("on_site"),
        }),
      })),
    ]);
    expect(last[0]?.toast).toMatchObject({ type: "success" });
    expect(last.slice(1).map((a) => a.toast?.content)).toEqual([
      expect.stringContaining("办结"),
      expect.stringContaining("办结"),
      expect.any(String),
    ]);
    compared += await expectCardsAsStored(last.slice(1));
    // Most taps answered with a card (refusals answer with a toast only).
    expect(compared).toBeGreaterThan(60);
    // Rendered from what the batches knew, but for the cards of the round after the other process
    // wrote (which read theirs back), and only then.
    expect(readBacks.map((n, round) => (n > 0 ? round : -1)).filter((r) => r >= 0)).toEqual([4]);
    expect(readBacks).toHaveLength(11);
    const all = await h.t.db.select().from(reportIns);
    expect(all.length).toBeGreaterThan(VIEW_REPORTERS);
  }, 60_000);

  it("do not use what was kept for rows of a database emptied and filled again under the process", async () => {
    await say(h, "oc_street", OFFICIAL, "/吹哨 执法 城管,公安 东四北大街8号占道经营");
    const before = departmentCard("oc_cg", "东四北大街8号", CG);
    const tap = (c: DeptCard, who: string) => ({
      dispatchId: Number(c.value("report_in").d),
      event: cardAction(h, {
        operatorOpenId: who,
        messageId: c.messageId,
        chatId: c.chatId,
        value: c.value("report_in"),
      }),
    });
    minutes(1);
    await expectCardsAsStored(await together([tap(before, CG[0] as string), tap(before, CG[1] as string)]));
    // The same ids again, for other rows: one department summoned, nobody reported in yet.
    await resetDatabase(h.t);
    await standardDistrict(h, { admin: ADMIN, official: OFFICIAL, cg: CG, ga: GA });
    minutes(5);
    await say(h, "oc_street", OFFICIAL, "/吹哨 应急 城管 南小街3号燃气泄漏");
    const after = departmentCard("oc_cg", "南小街3号", CG);
    expect(Number(after.value("report_in").d)).toBe(Number(before.value("report_in").d));
    minutes(1);
    const first = await together([tap(after, CG[5] as string)]);
    expect(await expectCardsAsStored(first)).toBe(1);
    expect(cardText(first[0]?.card)).not.toContain("公安");
    minutes(1);
    expect(await expectCardsAsStored(await together([tap(after, CG[6] as string)]))).toBe(1);
    // Read back once, in the first batch after the reset; kept anew after it.
    expect(readBacks.slice(-2)).toEqual([1, 0]);
  });
});
