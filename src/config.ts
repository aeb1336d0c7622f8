import { z } from "zod";

/**
 * Start-up configuration, read from a plain record of strings (process.env on Node,
 * the bindings object on Workers). Every problem is reported on its own line so an
 * operator can fix them all in one go.
 */

const emptyToUndefined = (v: unknown) => (typeof v === "string" && v.trim() === "" ? undefined : v);
const optionalString = z.preprocess(emptyToUndefined, z.string().trim().optional());

const larkDomain = z.preprocess(
  emptyToUndefined,
  z
    .string()
    .trim()
    .default("feishu")
    .refine((v) => v === "feishu" || v === "lark" || /^https?:\/\/[^\s/]+(\/[^\s]*)?$/.test(v), {
      message: 'must be "feishu", "lark" or a base URL such as http://127.0.0.1:9999',
    })
    .transform((v) => (v === "feishu" || v === "lark" ? v : v.replace(/\/+$/, ""))),
);

function validTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

const envSchema = z.object({
  PORT: z.preprocess(
    emptyToUndefined,
    z.coerce
      .number({ message: "must be a port number" })
      .int("must be a whole number")
      .min(1, "must be between 1 and 65535")
      .max(65535, "must be between 1 and 65535")
      .default(3000),
  ),
  DATA_DIR: z.preprocess(emptyToUndefined, z.string().trim().default("./data")),
  DATABASE_URL: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .trim()
      .regex(/^postgres(ql)?:\/\/\S+$/, "must be a postgres:// or postgresql:// URL")
      .optional(),
  ),
  DATABASE_PREPARE: z.preprocess(
    emptyToUndefined,
    z
      .enum(["on", "off"], {
        message: 'must be "on" or "off" ("off" behind a transaction-pooling PgBouncer older than 1.21)',
      })
      .default("on"),
  ),
  LARK_APP_ID: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .trim()
      .regex(
        /^cli_[0-9A-Za-z]+$/,
        'must look like "cli_a1b2c3d4e5f60718" (Developer Console → 凭证与基础信息)',
      )
      .optional(),
  ),
  LARK_APP_SECRET: optionalString,
  LARK_VERIFICATION_TOKEN: optionalString,
  LARK_ENCRYPT_KEY: optionalString,
  LARK_DOMAIN: larkDomain,
  LARK_MODE: z.preprocess(
    emptyToUndefined,
    z.enum(["webhook", "ws"], { message: 'must be "webhook" or "ws"' }).default("webhook"),
  ),
  WHISTLE_ADMINS: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .default("")
      .transform((v) =>
        v
          .split(/[,，\s]+/)
          .map((s) => s.trim())
          .filter(Boolean),
      )
      .refine((ids) => ids.every((id) => /^ou_[0-9A-Za-z]+$/.test(id)), {
        message: 'must be comma-separated open_ids such as "ou_84aad35d084aa403a838cf73ee18467"',
      }),
  ),
  CRON_SECRET: z.preprocess(
    emptyToUndefined,
    z.string().trim().min(16, "must be at least 16 characters (it guards POST /tasks/sweep)").optional(),
  ),
  DIGEST_AT: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .trim()
      .default("08:30")
      .refine((v) => /^([01]\d|2[0-3]):[0-5]\d$/.test(v), {
        message: 'must be a time of day such as "08:30"',
      }),
  ),
  TZ_DISPLAY: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .trim()
      .default("Asia/Shanghai")
      .refine(validTimeZone, { message: 'must be an IANA time zone such as "Asia/Shanghai"' }),
  ),
});

/** Rules that join several variables; checked on the raw record so they are reported together with the rest. */
function crossChecks(env: Record<string, string | undefined>): string[] {
  const has = (name: string) => (env[name] ?? "").trim() !== "";
  if (!has("LARK_APP_ID")) return [];
  const problems: string[] = [];
  if (!has("LARK_APP_SECRET")) problems.push("LARK_APP_SECRET is required when LARK_APP_ID is set");
  const mode = (env.LARK_MODE ?? "").trim() || "webhook";
  const appId = (env.LARK_APP_ID ?? "").trim();
  if (mode === "ws" && /^cli_[0-9A-Za-z]+$/.test(appId) && !/^cli_[0-9a-fA-F]{16}$/.test(appId)) {
    problems.push(
      "LARK_APP_ID must be cli_ followed by 16 hex digits for the long connection (LARK_MODE=ws)",
    );
  }
  if (mode === "webhook" && !has("LARK_VERIFICATION_TOKEN")) {
    problems.push(
      "LARK_VERIFICATION_TOKEN is required in webhook mode (Developer Console → 事件与回调 → 加密策略)",
    );
  }
  return problems;
}

export type Mode = "sandbox" | "webhook" | "ws";

export interface Config {
  port: number;
  dataDir: string;
  databaseUrl: string | undefined;
  /** Named (cached) prepared statements on Postgres connections. */
  databasePrepare: boolean;
  mode: Mode;
  lark:
    | {
        appId: string;
        appSecret: string;
        verificationToken: string | undefined;
        encryptKey: string | undefined;
        domain: string;
      }
    | undefined;
  admins: string[];
  cronSecret: string | undefined;
  tzDisplay: string;
  /** When the daily digest goes to the oversight chats, "HH:MM" in tzDisplay. */
  digestAt: string;
}

export type ConfigResult = { ok: true; config: Config } | { ok: false; problems: string[] };

/** Validate an environment record. Never throws; returns one readable line per problem. */
export function loadConfig(env: Record<string, string | undefined>): ConfigResult {
  const parsed = envSchema.safeParse(env);
  const problems = parsed.success
    ? []
    : parsed.error.issues.map((issue) => `${issue.path.join(".") || "environment"} ${issue.message}`);
  problems.push(...crossChecks(env));
  if (!parsed.success || problems.length > 0) return { ok: false, problems };
  const e = parsed.data;
  const lark =
    e.LARK_APP_ID && e.LARK_APP_SECRET
      ? {
          appId: e.LARK_APP_ID,
          appSecret: e.LARK_APP_SECRET,
          verificationToken: e.LARK_VERIFICATION_TOKEN,
          encryptKey: e.LARK_ENCRYPT_KEY,
          domain: e.LARK_DOMAIN,
        }
      : undefined;
  return {
    ok: true,
    config: {
      port: e.PORT,
      dataDir: e.DATA_DIR,
      databaseUrl: e.DATABASE_URL,
      databasePrepare: e.DATABASE_PREPARE === "on",
      mode: lark ? e.LARK_MODE : "sandbox",
      lark,
      admins: e.WHISTLE_ADMINS,
      cronSecret: e.CRON_SECRET,
      tzDisplay: e.TZ_DISPLAY,
      digestAt: e.DIGEST_AT,
    },
  };
}
