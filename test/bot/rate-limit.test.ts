import { describe, expect, it } from "vitest";
import { RateLimiter } from "../../src/bot/rate-limit";

describe("RateLimiter", () => {
  it("lets `limit` calls through at once, then spaces the rest so no window holds more", () => {
    let now = 0;
    const rl = new RateLimiter(5, 1000, () => now);
    const waits = Array.from({ length: 12 }, () => rl.reserve("chat"));
    expect(waits).toEqual([0, 0, 0, 0, 0, 1000, 1000, 1000, 1000, 1000, 2000, 2000]);
    // Slots booked never exceed 5 per any 1000 ms window.
    const slots = waits.map((w) => w + now);
    for (const s of slots) expect(slots.filter((x) => x >= s && x < s + 1000).length).toBeLessThanOrEqual(5);
    now = 5000;
    expect(rl.reserve("chat")).toBe(0);
  });

  it("keeps keys apart", () => {
    const rl = new RateLimiter(1, 1000, () => 0);
    expect(rl.reserve("a")).toBe(0);
    expect(rl.reserve("b")).toBe(0);
    expect(rl.reserve("a")).toBe(1000);
  });
});
