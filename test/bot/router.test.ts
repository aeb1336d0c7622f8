import { describe, expect, it } from "vitest";
import type { CardActionEvent, MessageEvent, OtherEvent } from "../../src/bot/events";
import { OutboxWriter } from "../../src/bot/outbox";
import { Bot, batchMemo } from "../../src/bot/router";
import type { Tx } from "../../src/db/database";
import { silentLogger } from "../../src/log";

const base = () => ({
  tx: {} as Tx,
  now: new Date("2026-11-27T02:00:00Z"),
  log: silentLogger,
  out: new OutboxWriter({} as Tx),
  botOpenId: "ou_bot",
  lookup: undefined,
  tz: "Asia/Shanghai",
  batch: batchMemo(),
  fresh: async () => true,
});

function message(text: string, over: Partial<MessageEvent> = {}): MessageEvent {
  return {
    kind: "message",
    eventId: "e1",
    eventType: "im.message.receive_v1",
    createTime: undefined,
    tenantKey: undefined,
    messageId: "om_1",
    chatId: "oc_1",
    chatType: "group",
    senderOpenId: "ou_a",
    senderType: "user",
    messageType: "text",
    text,
    mentions: [],
    rootId: undefined,
    parentId: undefined,
    ...over,
  };
}

describe("Bot router", () => {
  it("routes a command by any of its names to one handler, with parsed arguments", async () => {
    const seen: string[] = [];
    const bot = new Bot().command(
      ["吹哨", "whistle"],
      async (ctx) => void seen.push(`${ctx.command.name}|${ctx.command.args}`),
    );
    await bot.route(message("/吹哨 执法 城管"), base());
    await bot.route(message("/WHISTLE key housing"), base());
    expect(seen).toEqual(["吹哨|执法 城管", "whistle|key housing"]);
  });

  it("routes card actions by value.action and returns the answer", async () => {
    const bot = new Bot().action("report_in", async (ctx) => ({
      toast: { type: "success", content: ctx.action },
    }));
    const ev: CardActionEvent = {
      kind: "card_action",
      eventId: "e2",
      eventType: "card.action.trigger",
      createTime: undefined,
      tenantKey: undefined,
      operatorOpenId: "ou_a",
      messageId: "om_card",
      chatId: "oc_1",
      value: { action: "report_in", dispatch: 3 },
      formValue: undefined,
      name: undefined,
      tag: "button",
      option: undefined,
      inputValue: undefined,
      cardToken: "c-1",
    };
    expect(await bot.route(ev, base())).toEqual({
      handled: true,
      answer: { toast: { type: "success", content: "report_in" } },
    });
    const stale = await bot.route({ ...ev, value: { action: "gone" } }, base());
    expect(stale).toMatchObject({ handled: true, answer: { toast: { type: "warning" } } });
  });

  it("routes other events by type and lists them for the long connection", async () => {
    const seen: string[] = [];
    const bot = new Bot().on(
      "im.chat.member.bot.added_v1",
      async (ctx) => void seen.push(String(ctx.event.event.chat_id)),
    );
    const ev: OtherEvent = {
      kind: "event",
      eventId: "e3",
      eventType: "im.chat.member.bot.added_v1",
      createTime: undefined,
      tenantKey: undefined,
      event: { chat_id: "oc_new" },
    };
    expect(await bot.route(ev, base())).toEqual({ handled: true, answer: undefined });
    expect(seen).toEqual(["oc_new"]);
    expect(bot.eventTypes()).toEqual([
      "im.message.receive_v1",
      "card.action.trigger",
      "im.chat.member.bot.added_v1",
    ]);
    expect(await bot.route({ ...ev, eventType: "x.y" }, base())).toMatchObject({ handled: false });
  });

  it("ignores bots, non-text messages and chatter", async () => {
    const bot = new Bot().command("帮助", async () => {
      throw new Error("must not run");
    });
    expect(await bot.route(message("/帮助", { senderType: "bot" }), base())).toMatchObject({
      handled: false,
    });
    expect(await bot.route(message("/帮助", { text: null, messageType: "image" }), base())).toMatchObject({
      handled: false,
    });
    expect(await bot.route(message("今天天气不错"), base())).toMatchObject({ handled: false });
  });

  it("answers unknown commands only when addressed or in p2p", async () => {
    const seen: string[] = [];
    const bot = new Bot().otherwise(async (ctx) => void seen.push(ctx.command.name));
    await bot.route(message("/天气"), base());
    await bot.route(message("/天气", { chatType: "p2p" }), base());
    expect(seen).toEqual(["天气"]);
  });

  it("refuses to register a name twice", () => {
    const bot = new Bot().command(["帮助", "help"], async () => {});
    expect(() => bot.command("HELP", async () => {})).toThrow(/registered twice/);
  });
});
