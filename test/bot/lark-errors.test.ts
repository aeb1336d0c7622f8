import { describe, expect, it } from "vitest";
import { backoffMs, classify, LarkApiError } from "../../src/bot/lark-errors";

const half = () => 0.5;
const err = (code: number, status: number, reset?: number) => new LarkApiError("x", code, status, reset);

describe("classify", () => {
  it.each([
    ["bot not in chat", err(230002, 400), "fail"],
    ["chat dissolved", err(232009, 400), "fail"],
    ["card rejected", err(230099, 400), "fail"],
    ["missing scope", err(99991672, 400), "fail"],
    ["unknown 4xx business error", err(123456, 400), "fail"],
    ["HTTP 500", err(0, 500), "retry"],
    ["HTTP 503 with a Lark code", err(2200, 503), "retry"],
    ["network error or timeout", err(0, 0), "retry"],
    ["per-chat rate limit", err(230020, 400), "retry"],
    ["gateway rate limit", err(99991400, 429), "retry"],
    ["expired token (after the client's own retry)", err(99991663, 400), "retry"],
    ["a non-Lark exception", new Error("boom"), "retry"],
  ])("%s → %s", (_name, e, action) => {
    expect(classify(e, 1, half).action).toBe(action);
  });

  it("waits for the rate-limit reset Lark announces", () => {
    const v = classify(err(99991400, 429, 7), 1, () => 0);
    expect(v).toMatchObject({ action: "retry", delayMs: 7000 });
  });

  it("backs off exponentially with jitter, capped", () => {
    expect(backoffMs(1, () => 0)).toBe(500);
    expect(backoffMs(1, () => 1)).toBe(1000);
    expect(backoffMs(4, () => 1)).toBe(8000);
    expect(backoffMs(20, () => 1)).toBe(60_000);
    expect(backoffMs(20, () => 0)).toBe(30_000);
  });

  it("says why a permanent failure happened in words an admin can act on", () => {
    const v = classify(err(230002, 400), 1);
    expect(v).toEqual({ action: "fail", reason: "230002: the bot is not in this chat" });
  });
});
