import { describe, expect, it } from "vitest";
import { createLogger } from "../src/log";

describe("log lines", () => {
  it("name the cause of a wrapped error (Drizzle's 'Failed query' hides the driver's message)", () => {
    const lines: string[] = [];
    const log = createLogger({ write: (l) => lines.push(l) });
    const driver = new Error(
      'duplicate key value violates unique constraint "report_ins_dispatch_person_key"',
    );
    log.error("tap failed", {
      error: new Error("Failed query: insert into report_ins …", { cause: driver }),
    });
    log.error("plain", { error: new Error("no cause") });
    expect(JSON.parse(lines[0] as string).error).toBe(
      'Failed query: insert into report_ins … — cause: duplicate key value violates unique constraint "report_ins_dispatch_person_key"',
    );
    expect(JSON.parse(lines[1] as string).error).toBe("no cause");
  });

  it("children add their fields (a nearer child wins), leave the parent alone, and keep the level", () => {
    const lines: string[] = [];
    const log = createLogger({ level: "info", write: (l) => lines.push(l), base: { part: "bot" } });
    const child = log.child({ event_id: "e1", part: "pipeline" });
    const grandchild = child.child({ event_id: "e2", handler: "report_in" });
    grandchild.info("tap", { took_ms: 3 });
    child.debug("dropped below the level");
    log.warn("plain", { token: "secret-never-logged" });
    expect(lines).toHaveLength(2);
    const [first, second] = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(first).toMatchObject({
      level: "info",
      msg: "tap",
      part: "pipeline",
      event_id: "e2",
      handler: "report_in",
      took_ms: 3,
    });
    expect(Object.keys(first ?? {}).slice(0, 3)).toEqual(["t", "level", "msg"]);
    expect(second).toMatchObject({ level: "warn", msg: "plain", part: "bot" });
    expect(second).not.toHaveProperty("event_id");
    expect(second).not.toHaveProperty("token");
  });
});
