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
});
