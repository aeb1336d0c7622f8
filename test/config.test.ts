import { describe, expect, it } from "vitest";
import { loadConfig } from "../src/config";

const lark = {
  LARK_APP_ID: "cli_a1b2c3d4e5f60718",
  LARK_APP_SECRET: "s3cr3t",
  LARK_VERIFICATION_TOKEN: "vtoken",
};

function problems(env: Record<string, string | undefined>): string[] {
  const r = loadConfig(env);
  return r.ok ? [] : r.problems;
}

describe("loadConfig", () => {
  it("starts in sandbox mode with no variables at all, with the documented defaults", () => {
    const r = loadConfig({});
    expect(r).toEqual({
      ok: true,
      config: {
        port: 3000,
        dataDir: "./data",
        databaseUrl: undefined,
        databasePrepare: true,
        mode: "sandbox",
        lark: undefined,
        admins: [],
        cronSecret: undefined,
        tzDisplay: "Asia/Shanghai",
        digestAt: "08:30",
      },
    });
  });

  it("treats empty strings as unset", () => {
    const r = loadConfig({ PORT: "", LARK_APP_ID: " ", DATABASE_URL: "" });
    expect(r.ok && r.config.mode).toBe("sandbox");
    expect(r.ok && r.config.port).toBe(3000);
  });

  it("reads a full webhook configuration", () => {
    const r = loadConfig({
      ...lark,
      LARK_ENCRYPT_KEY: "ekey",
      PORT: "8080",
      DATABASE_URL: "postgres://u@db:5432/whistle",
      WHISTLE_ADMINS: "ou_aaa, ou_bbb，ou_ccc",
      CRON_SECRET: "0123456789abcdef0123",
      TZ_DISPLAY: "Asia/Urumqi",
    });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.config.mode).toBe("webhook");
    expect(r.config.port).toBe(8080);
    expect(r.config.databaseUrl).toBe("postgres://u@db:5432/whistle");
    expect(r.config.lark).toEqual({
      appId: lark.LARK_APP_ID,
      appSecret: "s3cr3t",
      verificationToken: "vtoken",
      encryptKey: "ekey",
      domain: "feishu",
    });
    expect(r.config.admins).toEqual(["ou_aaa", "ou_bbb", "ou_ccc"]);
    expect(r.config.tzDisplay).toBe("Asia/Urumqi");
  });

  it.each([
    ["feishu", "feishu"],
    ["lark", "lark"],
    ["http://127.0.0.1:9999", "http://127.0.0.1:9999"],
    ["http://127.0.0.1:9999/", "http://127.0.0.1:9999"],
    ["https://open.example.gov.cn", "https://open.example.gov.cn"],
  ])("LARK_DOMAIN=%s → %s", (value, domain) => {
    const r = loadConfig({ ...lark, LARK_DOMAIN: value });
    expect(r.ok && r.config.lark?.domain).toBe(domain);
  });

  it("ws mode does not need a verification token", () => {
    const r = loadConfig({ LARK_APP_ID: lark.LARK_APP_ID, LARK_APP_SECRET: "s", LARK_MODE: "ws" });
    expect(r.ok && r.config.mode).toBe("ws");
  });

  it("needs the long connection's app id form (cli_ + 16 hex digits) in ws mode", () => {
    expect(problems({ LARK_APP_ID: "cli_abc", LARK_APP_SECRET: "s", LARK_MODE: "ws" })).toEqual([
      "LARK_APP_ID must be cli_ followed by 16 hex digits for the long connection (LARK_MODE=ws)",
    ]);
  });

  it("names LARK_APP_SECRET when the app id is set without it", () => {
    expect(problems({ LARK_APP_ID: lark.LARK_APP_ID, LARK_VERIFICATION_TOKEN: "v" })).toEqual([
      "LARK_APP_SECRET is required when LARK_APP_ID is set",
    ]);
  });

  it("names LARK_VERIFICATION_TOKEN in webhook mode", () => {
    const p = problems({ LARK_APP_ID: lark.LARK_APP_ID, LARK_APP_SECRET: "s" });
    expect(p).toHaveLength(1);
    expect(p[0]).toMatch(/^LARK_VERIFICATION_TOKEN is required in webhook mode/);
  });

  it.each([
    [{ PORT: "abc" }, /^PORT /],
    [{ PORT: "70000" }, /^PORT must be between 1 and 65535/],
    [{ PORT: "80.5" }, /^PORT must be a whole number/],
    [{ DATABASE_URL: "mysql://x" }, /^DATABASE_URL must be a postgres/],
    [{ DATABASE_PREPARE: "no" }, /^DATABASE_PREPARE must be "on" or "off"/],
    [{ LARK_DOMAIN: "ftp://x" }, /^LARK_DOMAIN must be/],
    [{ LARK_MODE: "poll" }, /^LARK_MODE must be "webhook" or "ws"/],
    [{ WHISTLE_ADMINS: "ou_a,alice" }, /^WHISTLE_ADMINS must be comma-separated open_ids/],
    [{ CRON_SECRET: "short" }, /^CRON_SECRET must be at least 16 characters/],
    [{ TZ_DISPLAY: "Mars/Olympus" }, /^TZ_DISPLAY must be an IANA time zone/],
    [{ DIGEST_AT: "8:30am" }, /^DIGEST_AT must be a time of day/],
    [
      { LARK_APP_ID: "app123", LARK_APP_SECRET: "s", LARK_VERIFICATION_TOKEN: "v" },
      /^LARK_APP_ID must look like/,
    ],
  ])("rejects %j with one line naming the variable", (env, line) => {
    const p = problems(env);
    expect(p).toHaveLength(1);
    expect(p[0]).toMatch(line);
  });

  it("reports every problem at once, one line each", () => {
    const p = problems({ PORT: "x", TZ_DISPLAY: "Nowhere/Town", LARK_APP_ID: lark.LARK_APP_ID });
    expect(p.map((l) => l.split(" ")[0])).toEqual([
      "PORT",
      "TZ_DISPLAY",
      "LARK_APP_SECRET",
      "LARK_VERIFICATION_TOKEN",
    ]);
  });
});
