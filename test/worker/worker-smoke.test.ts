import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import ExcelJS from "exceljs";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migratePostgresUrl } from "../../src/db/migrate";
import { type FakeLark, type PushTarget, startFakeLark } from "../../src/sandbox/fake-lark";
import { cardText } from "../support/cards";
import { withDatabase } from "../support/db";
import { ENCRYPT_KEY, VERIFICATION_TOKEN } from "../support/harness";
import { freePort } from "../support/server-process";

/**
 * The Workers build on workerd: `wrangler dev --local` runs src/worker.ts from the real wrangler.toml,
 * with the Hyperdrive binding pointed at a database of its own on TEST_DATABASE_URL and Lark pointed
 * at the fake. Set up a district by chat, whistle, see the department card; then let the deadline
 * pass, fire the cron (`/__scheduled`) and see exactly one escalation in the 督办 group.
 */
const root = fileURLToPath(new URL("../..", import.meta.url));
const ADMIN = "ou_admin0000000000000000000000000a";
const OFFICIAL = "ou_official000000000000000000000b";

const serverUrl = process.env.TEST_DATABASE_URL;
let fake: FakeLark;
let dbName: string;
let dbUrl: string;
let persistDir: string;
let wrangler: ChildProcess | undefined;
let exited: Promise<number | null> | undefined;
let output = "";
let base: string;

async function admin<T>(fn: (sql: postgres.Sql) => Promise<T>): Promise<T> {
  const sql = postgres(serverUrl as string, { max: 1, onnotice: () => {} });
  try {
    return await fn(sql);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/** Hyperdrive's local binding insists on a password in the URL; a trust-auth server ignores it. */
function withPassword(url: string): string {
  const u = new URL(url);
  if (!u.password) u.password = "local";
  return u.toString();
}

async function until(cond: () => boolean | Promise<boolean>, ms: number, what: string) {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (wrangler?.exitCode !== null && wrangler?.exitCode !== undefined)
      throw new Error(
        `wrangler exited (${wrangler.exitCode}) while waiting for ${what}\n${output.slice(-3000)}`,
      );
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}\n${output.slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

beforeAll(async () => {
  if (!serverUrl) {
    throw new Error(
      "the Workers smoke test needs Postgres: TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npm run test:worker",
    );
  }
  dbName = `whistle_wk_${process.pid}_${Date.now().toString(36)}`;
  await admin((sql) => sql.unsafe(`create database "${dbName}"`));
  dbUrl = withDatabase(serverUrl, dbName);
  await migratePostgresUrl(dbUrl); // what `npm run db:migrate` does before a Workers deploy

  fake = await startFakeLark();
  const port = await freePort();
  const inspector = await freePort();
  persistDir = mkdtempSync(join(tmpdir(), "whistle-wrangler-"));
  const vars = {
    LARK_APP_ID: fake.appId,
    LARK_APP_SECRET: fake.appSecret,
    LARK_VERIFICATION_TOKEN: VERIFICATION_TOKEN,
    LARK_ENCRYPT_KEY: ENCRYPT_KEY,
    LARK_DOMAIN: fake.url,
    WHISTLE_ADMINS: ADMIN,
    CRON_SECRET: "worker-smoke-cron-secret-0123456789",
  };
  const args = ["wrangler", "dev", "--local", "--ip", "127.0.0.1", "--port", String(port)];
  args.push(
    "--inspector-port",
    String(inspector),
    "--test-scheduled",
    "--show-interactive-dev-session=false",
  );
  args.push("--persist-to", persistDir, "--log-level", "log");
  for (const [k, v] of Object.entries(vars)) args.push("--var", `${k}:${v}`);
  wrangler = spawn("npx", args, {
    cwd: root,
    // Its own process group, so stopping it stops workerd too.
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "",
      TMPDIR: tmpdir(),
      WRANGLER_SEND_METRICS: "false",
      CLOUDFLARE_LOAD_DEV_VARS_FROM_DOT_ENV: "false",
      CLOUDFLARE_HYPERDRIVE_LOCAL_CONNECTION_STRING_HYPERDRIVE: withPassword(dbUrl),
    },
  });
  wrangler.stdout?.on("data", (d) => {
    output += d;
  });
  wrangler.stderr?.on("data", (d) => {
    output += d;
  });
  const proc = wrangler;
  exited = new Promise((resolve) => proc.on("exit", (code) => resolve(code)));
  base = `http://127.0.0.1:${port}`;
  await until(
    async () => {
      try {
        return (await fetch(`${base}/healthz`)).status === 200;
      } catch {
        return false;
      }
    },
    90_000,
    "wrangler dev to answer /healthz",
  );
});

/** Whether any process of the group is still there. */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Stop wrangler and workerd (the process group we started), SIGKILL after 10 s; leave nothing behind. */
async function stopWrangler() {
  const pgid = wrangler?.pid;
  if (!pgid || !groupAlive(pgid)) return;
  process.kill(-pgid, "SIGTERM");
  const end = Date.now() + 10_000;
  while (groupAlive(pgid) && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
  if (groupAlive(pgid)) process.kill(-pgid, "SIGKILL");
  await exited;
}

afterAll(async () => {
  await stopWrangler();
  await fake?.close();
  if (persistDir) rmSync(persistDir, { recursive: true, force: true });
  if (serverUrl && dbName)
    await admin((sql) => sql.unsafe(`drop database if exists "${dbName}" with (force)`));
});

const target = (): PushTarget => ({
  url: `${base}/lark/events`,
  verificationToken: VERIFICATION_TOKEN,
  encryptKey: ENCRYPT_KEY,
});

/** Say something in a chat and wait for the bot's reply to it (delivered after the ack, in waitUntil). */
async function say(chatId: string, who: string, text: string): Promise<string> {
  const r = await fake.push.message(target(), { chatId, senderOpenId: who, text });
  expect(r.status, output.slice(-2000)).toBe(200);
  await until(
    () => fake.messages(chatId).some((m) => m.sender === "bot" && m.parent_id === r.messageId),
    15_000,
    `a reply to ${text}`,
  );
  return r.messageId;
}

const escalations = () =>
  fake.messages("oc_ov").filter((m) => m.sender === "bot" && cardText(m.content).includes("🚨 督办"));

const scheduled = () => fetch(`${base}/__scheduled?cron=${encodeURIComponent("* * * * *")}`);

describe("Cloudflare Workers build on workerd (wrangler dev --local)", () => {
  it("answers /healthz from Postgres through the Hyperdrive binding", async () => {
    const res = await fetch(`${base}/healthz`);
    expect(await res.json()).toEqual({ ok: true, db: "postgres", mode: "webhook" });
  });

  it("whistles, delivers the department cards, and escalates from the cron", async () => {
    fake.addChat("oc_street", { name: "街道", members: [ADMIN, OFFICIAL] });
    fake.addChat("oc_cg", { name: "城管", members: [ADMIN] });
    fake.addChat("oc_ga", { name: "公安", members: [ADMIN] });
    fake.addChat("oc_ov", { name: "督办", members: [ADMIN] });
    await say("oc_street", ADMIN, "/绑定 街乡 朝阳门街道");
    await say("oc_cg", ADMIN, "/绑定 部门 城管执法队 城管");
    await say("oc_ga", ADMIN, "/绑定 部门 公安");
    await say("oc_ov", ADMIN, "/绑定 督办 东城区接诉即办中心");

    await say("oc_street", OFFICIAL, "/吹哨 执法 城管,公安 东直门内大街12号门前占道经营");
    for (const chat of ["oc_cg", "oc_ga"]) {
      await until(
        () =>
          fake.messages(chat).some((m) => m.sender === "bot" && m.msg_type === "interactive" && !m.parent_id),
        15_000,
        `the department card in ${chat}`,
      );
    }
    const card = fake.messages("oc_cg").find((m) => m.sender === "bot" && !m.parent_id);
    expect(cardText(card?.content)).toContain("东直门内大街12号门前占道经营");

    // The clock moves on: nobody reported in and the 30-minute limit is behind us.
    const sql = postgres(dbUrl, { max: 1, onnotice: () => {} });
    try {
      await sql`update dispatches set deadline_at = now() - interval '2 minutes', next_check_at = now() - interval '2 minutes'`;
      await sql`update whistles set deadline_at = now() - interval '2 minutes'`;
    } finally {
      await sql.end({ timeout: 5 });
    }
    expect(escalations()).toHaveLength(0);

    expect((await scheduled()).status).toBe(200);
    await until(() => escalations().length === 1, 20_000, "the escalation card in the 督办 group");
    const escalation = cardText(escalations()[0]?.content);
    expect(escalation).toContain("城管执法队");
    expect(escalation).toContain("公安");

    // Another cron run finds nothing left to do: still one escalation.
    expect((await scheduled()).status).toBe(200);
    await new Promise((r) => setTimeout(r, 1500));
    expect(escalations()).toHaveLength(1);
  });

  it("exports the workbook (/导出) with exceljs's browser build", async () => {
    const asked = await say("oc_ov", ADMIN, "/导出");
    await until(
      () => fake.messages("oc_ov").some((m) => m.parent_id === asked && m.msg_type === "file"),
      15_000,
      "the exported file",
    );
    const fileMsg = fake.messages("oc_ov").find((m) => m.parent_id === asked && m.msg_type === "file");
    const fileKey = (fileMsg?.content as { file_key?: string } | undefined)?.file_key ?? "";
    const file = fake.file(fileKey);
    expect(file?.name).toMatch(/\.xlsx$/);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(Buffer.from(file?.bytes ?? new Uint8Array()) as never);
    expect(wb.getWorksheet("哨单")?.rowCount).toBe(2); // header + the one whistle
  });

  it("logged no errors (offline warnings from wrangler are fine)", () => {
    expect(output).not.toMatch(/\[ERROR\]|Uncaught|"level":"error"/);
  });
});
