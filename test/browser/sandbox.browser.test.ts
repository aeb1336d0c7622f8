/**
 * The sandbox in a real browser: `npm start` with no Lark variables, then only clicks and typing on
 * the emulator page — whistle from the street chat, report in from a department chat, watch the
 * street's summary follow, resolve through its form, rate. Screenshots go to test/artifacts/.
 *
 * Needs Debian's chromium (`apt-get install -y chromium`; .ci/run installs it).
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type BrowserContext, chromium, type Locator, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, runServer, type ServerProcess, waitForHealth } from "../support/server-process";

const CHROMIUM = "/usr/bin/chromium";
const ARTIFACTS = fileURLToPath(new URL("../artifacts/", import.meta.url));
const MATTER = "朝阳门内大街81号门前占道经营，多次劝离无效";

let server: ServerProcess;
let browser: BrowserContext;
let page: Page;
const dirs: string[] = [];
const pageErrors: string[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium) to run the browser tests`,
    );
  }
  mkdirSync(ARTIFACTS, { recursive: true });
  const dataDir = mkdtempSync(join(tmpdir(), "whistle-sandbox-"));
  const profile = mkdtempSync(join(tmpdir(), "whistle-chromium-"));
  dirs.push(dataDir, profile);
  server = runServer({ PORT: String(await freePort()), DATA_DIR: dataDir });
  expect((await waitForHealth(server)).status).toBe(200);
  // A fresh profile directory per run (playwright passes it as --user-data-dir).
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    viewport: { width: 1360, height: 900 },
    locale: "zh-CN",
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-quic",
      "--no-first-run",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  page = browser.pages()[0] ?? (await browser.newPage());
  page.on("pageerror", (e) => pageErrors.push(e.message));
});

afterAll(async () => {
  await browser?.close();
  if (server) expect(await server.stop()).toBe(0);
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const shot = (name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`) });

/** The chat in the list on the left. */
const openChat = async (name: string) => {
  await page.getByRole("button", { name, exact: true }).click();
  await page.locator(".chat-title", { hasText: name }).waitFor();
};

/**
 * The newest message in the open chat whose card matches, followed by its message id: the card is
 * replaced in place when the bot updates it, and this keeps pointing at it.
 */
async function card(match: { text?: string; has?: Locator }): Promise<Locator> {
  const msg = page
    .locator(".msg")
    .filter({
      has: page.locator(".card", {
        ...(match.text ? { hasText: match.text } : {}),
        ...(match.has ? { has: match.has } : {}),
      }),
    })
    .last();
  await msg.waitFor();
  const id = await msg.getAttribute("data-id");
  return page.locator(`.msg[data-id="${id}"] .card`);
}

const toast = (text: string) => page.locator(".toast", { hasText: text }).first().waitFor();

async function typeAndSend(text: string) {
  const box = page.getByRole("textbox", { name: "输入消息" });
  await box.click();
  await box.pressSequentially(text);
  await box.press("Enter");
}

/** Types a command in the open chat and waits for the bot's answer to it. */
async function askAndWait(text: string) {
  const before = await page.locator(".msg.from-bot").count();
  await typeAndSend(text);
  await page.locator(".msg.from-bot").nth(before).waitFor();
}

/** Opens a card's dropdown (found by its placeholder or its form item name) and clicks an option. */
async function choose(inCard: Locator, which: { placeholder: string } | { name: string }, option: string) {
  const select =
    "name" in which
      ? inCard.locator(`.select[data-name="${which.name}"]`)
      : inCard.locator(".select", { has: page.locator(".select-shown", { hasText: which.placeholder }) });
  // A multi-select stays open between picks.
  if (!(await select.locator(".select-menu").isVisible())) await select.locator(".select-shown").click();
  await select.getByRole("option", { name: option, exact: true }).click();
}

describe("the sandbox page, by clicking and typing only", () => {
  it("whistle → report in → summary follows → 办结 through the form → rate", async () => {
    await page.goto(server.url);
    await page.getByText("沙箱模式 — 未连接飞书").waitFor();
    await page.locator("#live.on").waitFor();

    // The street whistles, speaking as its duty officer (the default speaker in the street's group).
    await openChat("朝阳门街道吹哨指挥群");
    await page.locator(".speaker.on", { hasText: "李娜" }).waitFor();
    await typeAndSend(`/吹哨 执法 城管执法队,公安 ${MATTER}`);
    const summary = await card({ has: page.getByPlaceholder("办结结果或撤销原因") });
    expect(await summary.textContent()).toContain("朝阳门内大街81号");
    expect(await summary.textContent()).toContain("已报到 0/2");
    await shot("01-whistle");

    // 城管执法队's group got its card; 赵磊 taps 报到 and the card names him.
    await openChat("城管执法队值班群");
    const deptCard = await card({ text: MATTER.slice(0, 10) });
    await deptCard.getByRole("button", { name: "✋ 报到" }).click();
    await toast("报到");
    await deptCard.locator(".at", { hasText: "赵磊" }).first().waitFor();
    // A colleague joins, speaking as 孙强 through the person picker.
    await page.locator(".speaker", { hasText: "孙强" }).click();
    await deptCard.getByRole("button", { name: "✋ 我也报到" }).click();
    await deptCard.locator(".at", { hasText: "孙强" }).first().waitFor();
    await shot("02-report-in");

    // The street's summary has followed, live.
    await openChat("朝阳门街道吹哨指挥群");
    await summary.locator(".at", { hasText: "赵磊" }).first().waitFor();
    expect(await summary.textContent()).toContain("已报到 1/2");
    await page.locator(".toast").first().waitFor({ state: "detached" });
    await shot("03-summary");

    // The street resolves through the summary's form.
    const resolution = summary.getByPlaceholder("办结结果或撤销原因");
    await resolution.click();
    await resolution.pressSequentially("已清理占道摊位，当事人承诺不再占道");
    await summary.getByRole("button", { name: "✅ 办结" }).click();
    await toast("办结");
    await summary.locator(".tag", { hasText: "已办结" }).waitFor();
    expect(await summary.getByRole("button").count()).toBe(0);

    // The rating card arrives under it; rate both departments.
    const rating = await card({ text: "提交评价" });
    await choose(rating, { placeholder: "评价城管执法队" }, "城管执法队 · 满意");
    await choose(rating, { placeholder: "评价公安" }, "公安 · 不满意");
    const note = rating.getByPlaceholder("对公安的意见（选“否决”时必须填写理由）");
    await note.click();
    await note.pressSequentially("未到场");
    await rating.getByRole("button", { name: "提交评价" }).click();
    await toast("评价");
    await rating.locator(".tag", { hasText: "已评 2/2" }).waitFor();
    expect(await rating.textContent()).toContain("满意");
    await shot("04-rated");

    // 城管执法队's group is told its rating.
    await openChat("城管执法队值班群");
    await page.locator(".msg .bubble", { hasText: "满意" }).last().waitFor();
    await shot("05-department-told");

    // The district's oversight asks for this month's figures: a card with charts.
    await openChat("东城区接诉即办督办群");
    await typeAndSend("/统计 本月");
    const stats = await card({ text: "考核分" });
    await stats.locator("svg.chart rect").first().waitFor();
    await shot("06-stats");

    // More answers for the renderer: the directory, the ranking, help, the street's status.
    for (const command of ["/目录", "/排名", "/帮助"]) await askAndWait(command);
    await shot("06-help");
    await openChat("朝阳门街道吹哨指挥群");
    await askAndWait("/状态");

    // Every element the bot sent on the way was one the page knows how to draw.
    for (const chat of [
      "朝阳门街道吹哨指挥群",
      "城管执法队值班群",
      "朝阳门派出所值班群",
      "东城区接诉即办督办群",
    ]) {
      await openChat(chat);
      expect(await page.locator(".msg .card").count()).toBeGreaterThan(0);
      expect(await page.locator(".unsupported").allTextContents()).toEqual([]);
    }
    expect(pageErrors).toEqual([]);
  });

  it("the card renderer draws all 36 official Card JSON 2.0 samples with no unsupported element", async () => {
    const fixture = fileURLToPath(new URL("../fixtures/card-json-v2-official-samples.json", import.meta.url));
    const cards = (JSON.parse(readFileSync(fixture, "utf8")) as { samples: { card: unknown }[] }).samples.map(
      (x) => x.card,
    );
    expect(cards).toHaveLength(36);
    // A script string: vitest would rewrite an import() written inside a function passed to evaluate.
    const unsupported = (await page.evaluate(`(async (cards) => {
      const { renderCard } = await import("/sandbox/web/card.js");
      const ctx = { names: new Map(), members: [], act: async () => {}, confirm: async () => true };
      return cards.map((c, i) =>
        [...renderCard(c, ctx).querySelectorAll(".unsupported")].map((e) => "#" + i + ": " + e.textContent));
    })(${JSON.stringify(cards)})`)) as string[][];
    expect(unsupported.flat()).toEqual([]);
  });

  it("the whistle form: a select, a multi-select and inputs; 撤销 asks for confirmation first", async () => {
    await openChat("朝阳门街道吹哨指挥群");
    await typeAndSend("/吹哨");
    const form = await card({ text: "召集部门" });
    // 1+4 are pre-selected; make it an emergency for 城管执法队, 消防 and 房管 only.
    await choose(form, { name: "type" }, "🚨 应急处置哨");
    for (const name of ["公安", "交通", "市场监管", "房管"]) {
      await choose(form, { name: "departments" }, name);
    }
    await shot("07-whistle-form-choosing");
    await form.locator('.select[data-name="departments"] .select-shown').click(); // close the list
    const place = form.getByPlaceholder("如：朝阳门内大街 81 号门前");
    await place.click();
    await place.pressSequentially("南小街5号");
    const matter = form.getByPlaceholder("要处置的问题，如：占道经营反弹，需联合执法");
    await matter.click();
    await matter.pressSequentially("南小街5号燃气泄漏，需疏散");
    await shot("07-whistle-form");
    await form.getByRole("button", { name: "📣 吹哨" }).click();
    await toast("吹哨");
    // The form card became the whistle's summary.
    await form.locator(".card-title", { hasText: "应急处置哨" }).waitFor();
    const text = (await form.textContent()) ?? "";
    expect(text).toContain("城管执法队");
    expect(text).toContain("消防");
    expect(text).toContain("房管");
    expect(text).not.toContain("公安");

    // 房管 was summoned; 公安 was not.
    await openChat("朝阳门房管所");
    await card({ text: "燃气泄漏" });
    await openChat("朝阳门派出所值班群");
    expect(await page.locator(".msg .card", { hasText: "燃气泄漏" }).count()).toBe(0);

    // 撤销 needs its reason: an empty box is marked and nothing is sent; then confirm in the dialog.
    await openChat("朝阳门街道吹哨指挥群");
    await form.getByRole("button", { name: "撤销" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "确定" }).click();
    await form.locator(".card-input.invalid").waitFor();
    const reason = form.getByPlaceholder("办结结果或撤销原因");
    await reason.click();
    await reason.pressSequentially("误报，现场无泄漏");
    await form.getByRole("button", { name: "撤销" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "确定" }).click();
    await toast("撤销");
    await form.locator(".tag", { hasText: "已撤销" }).waitFor();
    await shot("08-cancelled");
    expect(pageErrors).toEqual([]);
  });

  it("重置演示 empties every chat and the page follows", async () => {
    await page.getByRole("button", { name: "重置演示" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "确定" }).click();
    await toast("演示已重置");
    await openChat("朝阳门街道吹哨指挥群");
    await page.locator(".empty-hint").waitFor();
    expect(await page.locator(".msg").count()).toBe(0);
    // The demo street works again from scratch: a new whistle is the day's first.
    await typeAndSend("/吹哨 执法 城管 东四北大街占道经营");
    const summary = await card({ text: "东四北大街" });
    expect(await summary.textContent()).toMatch(/W\d{6}-01/);
    expect(pageErrors).toEqual([]);
  });
});
