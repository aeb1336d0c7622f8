import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lintCard } from "../src/bot/cards/lint";
import { type FakeLark, type PushTarget, startFakeLark } from "../src/sandbox/fake-lark";
import { ENCRYPT_KEY, larkEnv, VERIFICATION_TOKEN } from "./support/harness";
import { freePort, runServer, type ServerProcess, waitForHealth } from "./support/server-process";

/**
 * Black box: the real server process, spoken to only through the fake Lark (signed, encrypted
 * pushes in; Open API calls out). An admin binds a street, five departments and an oversight group
 * purely by chat messages, and /目录 shows the result.
 */
const ADMIN = "ou_admin0000000000000000000000000a";
let fake: FakeLark;
let server: ServerProcess;
let target: PushTarget;
let dataDir: string;

beforeAll(async () => {
  fake = await startFakeLark();
  dataDir = mkdtempSync(join(tmpdir(), "whistle-bb-"));
  const port = await freePort();
  server = runServer({
    PORT: String(port),
    DATA_DIR: dataDir,
    ...larkEnv(fake),
    WHISTLE_ADMINS: ADMIN,
  });
  await waitForHealth(server);
  target = {
    url: `${server.url}/lark/events`,
    verificationToken: VERIFICATION_TOKEN,
    encryptKey: ENCRYPT_KEY,
  };
}, 60_000);

afterAll(async () => {
  await server?.stop();
  await fake?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

/** Say something in a chat as the admin and wait for the bot's reply to it. */
async function say(chatId: string, text: string): Promise<unknown> {
  const pushed = await fake.push.message(target, { chatId, senderOpenId: ADMIN, text, mentionBot: "before" });
  expect(pushed.status).toBe(200);
  const deadline = Date.now() + 10_000;
  for (;;) {
    const reply = fake.messages(chatId).find((m) => m.sender === "bot" && m.parent_id === pushed.messageId);
    if (reply) return reply.content;
    if (Date.now() > deadline)
      throw new Error(`no reply to "${text}" in ${chatId}\n${server.output().slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("black box: setting up a street by chat messages only", () => {
  it("binds a street, five departments and an oversight group, then shows them in /目录", async () => {
    const departments: [string, string][] = [
      ["oc_bb_cg", "/绑定 部门 城管执法队 城管,执法队"],
      ["oc_bb_ga", "/绑定 部门 公安 派出所"],
      ["oc_bb_xf", "/绑定 部门 消防 消防救援站"],
      ["oc_bb_jt", "/绑定 部门 交通 交警"],
      ["oc_bb_sc", "/绑定 部门 市场监管 市场所"],
    ];
    const replies = [await say("oc_bb_street", "/绑定 街乡 朝阳门街道")];
    for (const [chat, text] of departments) replies.push(await say(chat, text));
    replies.push(await say("oc_bb_ov", "/绑定 督办 东城区接诉即办中心"));
    replies.push(await say("oc_bb_street", "/一加四 城管,派出所,消防救援站,交警,市场所"));
    for (const r of replies) {
      expect(lintCard(r)).toEqual([]);
      expect(JSON.stringify(r)).toContain("✅");
    }

    const directory = JSON.stringify(await say("oc_bb_ov", "/目录"));
    for (const name of [
      "朝阳门街道",
      "城管执法队",
      "公安",
      "消防",
      "交通",
      "市场监管",
      "东城区接诉即办中心",
    ]) {
      expect(directory).toContain(name);
    }
    expect(directory).toContain("1+4：城管执法队、公安、消防、交通、市场监管");
    expect(directory).toContain("部门**（5）");
    expect((directory.match(/（卡片群）/g) ?? []).length).toBe(5);
  }, 60_000);
});
