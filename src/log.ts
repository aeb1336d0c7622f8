/**
 * Structured logs: one JSON line per record. Keys that could carry secrets are dropped, so a
 * careless field can never leak a token, a secret or an encrypted body.
 */
export type Level = "debug" | "info" | "warn" | "error";

export type Fields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: Fields): void;
  info(msg: string, fields?: Fields): void;
  warn(msg: string, fields?: Fields): void;
  error(msg: string, fields?: Fields): void;
  /** A logger that adds `fields` to every line. */
  child(fields: Fields): Logger;
}

const order: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

const SECRET_KEY = /secret|token|password|encrypt|authorization|signature|cookie/i;

function clean(fields: Fields): Fields {
  const out: Fields = {};
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined) continue;
    if (SECRET_KEY.test(k)) continue;
    out[k] = v instanceof Error ? errorText(v) : v;
  }
  return out;
}

export interface LoggerOptions {
  level?: Level;
  /** Where lines go; defaults to console.log (stdout on Node, the log stream on Workers). */
  write?: (line: string) => void;
  base?: Fields;
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  return new JsonLogger(
    order[opts.level ?? "info"],
    opts.write ?? ((line: string) => console.log(line)),
    opts.base ? [opts.base] : [],
  );
}

/**
 * A child is a list of field sets, merged only when a line is written: the pipeline makes a child
 * per event, and most of them never write a line.
 */
class JsonLogger implements Logger {
  constructor(
    private readonly min: number,
    private readonly write: (line: string) => void,
    private readonly base: readonly Fields[],
  ) {}

  debug(msg: string, fields?: Fields): void {
    this.emit("debug", msg, fields);
  }
  info(msg: string, fields?: Fields): void {
    this.emit("info", msg, fields);
  }
  warn(msg: string, fields?: Fields): void {
    this.emit("warn", msg, fields);
  }
  error(msg: string, fields?: Fields): void {
    this.emit("error", msg, fields);
  }

  child(fields: Fields): Logger {
    return new JsonLogger(this.min, this.write, [...this.base, fields]);
  }

  private emit(level: Level, msg: string, fields?: Fields): void {
    if (order[level] < this.min) return;
    const merged: Fields = Object.assign({}, ...this.base, fields);
    this.write(JSON.stringify(Object.assign({ t: new Date().toISOString(), level, msg }, clean(merged))));
  }
}

const drop = () => {};
/** A logger that drops everything without formatting it (tests and benchmarks that do not look at logs). */
export const silentLogger: Logger = {
  debug: drop,
  info: drop,
  warn: drop,
  error: drop,
  child: () => silentLogger,
};

/**
 * An error's message, with its cause's (Drizzle wraps the driver's error — "duplicate key value …",
 * "deadlock detected" — in a "Failed query: …" whose own message does not say what went wrong).
 */
function errorText(err: Error): string {
  const cause = err.cause instanceof Error ? err.cause.message : undefined;
  return cause && !err.message.includes(cause) ? `${err.message} — cause: ${cause}` : err.message;
}
