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

describe("RateLimiter: calls count from when they ended", () => {
  it("makes calls booked after slow ones wait until the window has room at Lark", () => {
    let now = 0;
    const rl = new RateLimiter(5, 1000, () => now);
    const booked = Array.from({ length: 10 }, () => rl.book("chat"));
    expect(booked.map((b) => b.wait)).toEqual([0, 0, 0, 0, 0, 1000, 1000, 1000, 1000, 1000]);
    // The first five went out at once, but the first took until 80 (a token fetch, a busy loop).
    now = 80;
    rl.finished("chat", booked[0]?.slot as number);
    for (const b of booked.slice(1, 5)) rl.finished("chat", b.slot);
    // The next five are due at 1000: Lark may have seen the first five as late as 80.
    now = 1000;
    for (const b of booked.slice(5)) expect(rl.stillToWait("chat", b.slot)).toBe(80);
    now = 1080;
    for (const b of booked.slice(5)) expect(rl.stillToWait("chat", b.slot)).toBe(0);
    // Later bookings are spaced from when those ended.
    for (const b of booked.slice(5)) rl.finished("chat", b.slot);
    expect(rl.reserve("chat")).toBe(1000);
  });

  it("changes nothing for calls that end at once", () => {
    let now = 0;
    const rl = new RateLimiter(2, 1000, () => now);
    const booked = Array.from({ length: 4 }, () => rl.book("chat"));
    expect(booked.map((b) => b.wait)).toEqual([0, 0, 1000, 1000]);
    for (const b of booked.slice(0, 2)) rl.finished("chat", b.slot);
    now = 1000;
    expect(rl.stillToWait("chat", booked[2]?.slot as number)).toBe(0);
    expect(rl.stillToWait("chat", booked[3]?.slot as number)).toBe(0);
    expect(rl.reserve("chat")).toBe(1000);
  });
});
