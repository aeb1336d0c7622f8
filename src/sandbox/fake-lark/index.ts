/** Fake Lark / Feishu Open Platform for tests and the sandbox (see docs/lark-protocol.md §8). */
export * from "./cards";
export * from "./crypto";
export * from "./envelopes";
export * from "./faults";
export * from "./pbbp2";
export * from "./pusher";
export * from "./server";
export * from "./types";
export * from "./ws";
