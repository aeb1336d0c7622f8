/**
 * Run `fn` after the I/O callbacks and microtasks already queued: `setImmediate` where the runtime
 * has it (Node), a zero timeout elsewhere (Workers without it).
 */
export const nextMacrotask: (fn: () => void) => void =
  typeof globalThis.setImmediate === "function" ? (fn) => setImmediate(fn) : (fn) => setTimeout(fn, 0);
