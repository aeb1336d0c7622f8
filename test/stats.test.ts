import ExcelJS from "exceljs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { lintCard } from "../src/bot/cards/lint";
import { whistles } from "../src/db/schema";
import { localDay } from "../src/domain/time";
import { button, cardText } from "./support/cards";
import { say } from "./support/chat";
import { resetDatabase } from "./support/db";
import { standardDistrict } from "./support/district";
import { type Harness, larkHarness } from "./support/harness";

const ADMIN = "ou_admin000000000000000000000000001";
const OFFICIAL = "ou_official0000000000000000000000002";
const CG1 = "ou_cg100000000000000000000000000003";
const GA1 = "ou_ga100000000000000000000000000005";
const MIN = 60_000;

let h: Harness;
let clock: number;
let t0: number;
const at = (min: number) => {
  clock = t0 + min * MIN;
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
const cardOf = (chat: string, code: string) => cards(chat).find((m) => cardText(m.content).includes(code));

async function click(
  who: string,
  chat: string,
  code: string,
  action: string,
  formValue?: Record<string, unknown>,
) {
  const c = cardOf(chat, code);
  await h.fake.push.cardAction(h.target, {
    operatorOpenId: who,
    messageId: c?.message_id as string,
    value: button(c?.content, action),
    formValue,
  });
  await h.runtime.settle();
}

describe("/统计 and /排名", () => {
  it("shows the district's rates, charts and ranking, by hand-computed figures", async () => {
    at(0);
    for (const matter of ["一号占道", "二号占道", "三号占道"])
      await say(h, "oc_street", OFFICIAL, `/吹哨 执法 城管,公安 ${matter}`);
    const codes = (await h.t.db.select().from(whistles).orderBy(whistles.id)).map((w) => w.code);
    const [w1 = "", w2 = "", w3 = ""] = codes;
    at(5); // 城管 on time on all three; 公安 on time on the first only
    for (const c of codes) await click(CG1, "oc_cg", c, "report_in");
    await click(GA1, "oc_ga", w1, "report_in");
    at(40);
    await click(GA1, "oc_ga", w2, "report_in"); // late; w3: never
    for (const c of [w1, w2]) {
      const summary = cards("oc_street").find(
        (m) => cardText(m.content).includes(c) && JSON.stringify(m.content).includes('"resolve"'),
      );
      await h.fake.push.cardAction(h.target, {
        operatorOpenId: OFFICIAL,
        messageId: summary?.message_id as string,
        value: button(summary?.content, "resolve"),
        formValue: { text: "已处理" },
      });
      await h.runtime.settle();
    }
    const rating = cards("oc_street").find((m) => cardText(m.content).includes(`评价 · ${w1}`));
    const ids =
      JSON.stringify(rating?.content)
        .match(/level_(\d+)/g)
        ?.map((s) => s.slice(6)) ?? [];
    await h.fake.push.cardAction(h.target, {
      operatorOpenId: OFFICIAL,
      messageId: rating?.message_id as string,
      value: button(rating?.content, "rate"),
      formValue: {
        [`level_${ids[0]}`]: "satisfied",
        [`level_${ids[1]}`]: "veto",
        [`note_${ids[1]}`]: "未按时到场",
      },
    });
    await h.runtime.settle();
    void w3;

    const month = localDay(new Date(t0), "Asia/Shanghai").slice(0, 7);
    const stats = await say(h, "oc_ov", ADMIN, `/统计 ${month}`);
    const card = stats.replies[0];
    expect(lintCard(card)).toEqual([]);
    const text = cardText(card);
    // 6 dispatches: on time 4 (城管 3 + 公安 1) → 66.7%; reported 5 → 83.3%; resolved whistles' dispatches 4/6 → 66.7%;
    // rated 2, (满意 + 基本满意) 1 → 50%; one veto.
    expect(text).toContain("召集 **6** 次");
    expect(text).toContain("**响应率** 66.7%");
    expect(text).toContain("报到率 83.3%");
    expect(text).toContain("**解决率** 66.7%");
    expect(text).toContain("**满意率** 50%");
    expect(text).toContain("否决 1");
    const charts = JSON.stringify(card).match(/"tag":"chart"/g) ?? [];
    expect(charts).toHaveLength(2);

    // The department sees only its own: 城管 3/3 on time.
    const own = await say(h, "oc_cg", CG1, `/stats ${month}`);
    expect(cardText(own.replies[0])).toContain("**响应率** 100%");

    // Ranking: 城管 = 40·1 + 30·(2/3) + 30·1 = 90; 公安 = 40·(1/3) + 30·(2/3) + 30·0 = 33.3 (veto cap 60 not reached).
    const r = await say(h, "oc_ov", ADMIN, `/排名 部门 ${month}`);
    expect(lintCard(r.replies[0])).toEqual([]);
    const ranking = cardText(r.replies[0]);
    expect(ranking).toContain("**1. 城管执法队** · 90 分");
    expect(ranking).toContain("**2. 公安** · 33.3 分");
    expect(ranking).toContain("召集次数前十");

    // /导出: an .xlsx file whose rows match the database.
    const exported = await say(h, "oc_ov", ADMIN, `/导出 ${month}`);
    const fileMsg = h.fake
      .messages("oc_ov")
      .find((m) => m.parent_id === exported.messageId && m.msg_type === "file");
    const fileKey = (fileMsg?.content as { file_key?: string } | undefined)?.file_key as string;
    const file = h.fake.file(fileKey);
    expect(file?.name).toMatch(/\.xlsx$/);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(Buffer.from(file?.bytes ?? new Uint8Array()) as never);
    const rowsOf = (name: string) => {
      const sheet = wb.getWorksheet(name);
      const out: unknown[][] = [];
      sheet?.eachRow((row, n) => {
        if (n > 1) out.push((row.values as unknown[]).slice(1));
      });
      return out;
    };
    const dbWhistles = await h.t.db.select().from(whistles).orderBy(whistles.id);
    expect(rowsOf("哨单").map((r) => r[0])).toEqual(dbWhistles.map((w) => w.code));
    expect(rowsOf("派单")).toHaveLength(6);
    expect(rowsOf("派单").filter((r) => r[6] === 10)).toHaveLength(1); // 公安 on the second whistle: 10 minutes late
    expect(rowsOf("评价").map((r) => [r[1], r[2]])).toEqual([
      ["城管执法队", "满意"],
      ["公安", "否决"],
    ]);
    expect(rowsOf("考核").map((r) => [r[0], r[7]])).toEqual([
      ["城管执法队", 90],
      ["公安", 33.3],
    ]);
    expect((await say(h, "oc_cg", CG1, "/导出")).text).toContain("只有管理员和督办中心成员可以导出数据");

    expect((await say(h, "oc_ov", ADMIN, "/统计 明年")).text).toContain("看不懂期间");
    expect((await say(h, "oc_x", CG1, "/统计")).text).toContain("还没有绑定");
  });
});
