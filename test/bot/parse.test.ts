import { describe, expect, it } from "vitest";
import { commandKey, parseCommand } from "../../src/bot/commands/parse";
import type { Mention } from "../../src/bot/events";

const BOT = "ou_bot";
const known = new Set(["吹哨", "whistle", "帮助", "help", "值班", "duty"].map(commandKey));
const bot: Mention = { key: "@_user_1", openId: BOT, name: "吹哨报到", type: "bot" };
const alice = (key = "@_user_2"): Mention => ({ key, openId: "ou_alice", name: "张三", type: "user" });

function parse(text: string, mentions: Mention[] = [], botOpenId: string | undefined = BOT) {
  return parseCommand(text, mentions, { botOpenId, known });
}

describe("parseCommand", () => {
  it.each([
    ["/吹哨 执法 城管,公安 占道经营", "吹哨", "执法 城管,公安 占道经营"],
    ["／吹哨 执法 城管", "吹哨", "执法 城管"],
    ["/吹哨　执法　城管", "吹哨", "执法 城管"],
    ["  /吹哨   执法  ", "吹哨", "执法"],
    ["/Whistle enforcement police fire", "whistle", "enforcement police fire"],
    ["/ＨＥＬＰ", "help", ""],
    ["/吹哨执法 城管 占道", "吹哨", "执法 城管 占道"],
    ["/帮助", "帮助", ""],
  ])("%s → %s [%s]", (text, name, args) => {
    expect(parse(text)).toMatchObject({ name, args, addressed: false });
  });

  it("strips the bot's mention before the command", () => {
    expect(parse("@_user_1 /吹哨 执法 城管", [bot])).toMatchObject({
      name: "吹哨",
      args: "执法 城管",
      addressed: true,
    });
  });

  it("strips the bot's mention after the command or in the middle", () => {
    expect(parse("/吹哨 @_user_1 执法 城管", [bot])).toMatchObject({ name: "吹哨", args: "执法 城管" });
    expect(parse("/吹哨 执法 城管 @_user_1", [bot])).toMatchObject({ name: "吹哨", args: "执法 城管" });
  });

  it("accepts a known command without a slash when the bot is mentioned", () => {
    expect(parse("@_user_1 吹哨 执法 城管", [bot])).toMatchObject({ name: "吹哨", args: "执法 城管" });
    expect(parse("@_user_1 帮助", [bot])).toMatchObject({ name: "帮助" });
  });

  it("ignores chatter: no slash and no mention, or a mention without a known command", () => {
    expect(parse("吹哨 执法 城管")).toBeNull();
    expect(parse("@_user_1 你好", [bot])).toBeNull();
    expect(parse("收到")).toBeNull();
    expect(parse("/", [])).toBeNull();
    expect(parse("@_user_1", [bot])).toBeNull();
  });

  it("keeps other people's mentions as @Name and lists them in order", () => {
    const bob: Mention = { key: "@_user_3", openId: "ou_bob", name: "李四", type: "user" };
    const r = parse("@_user_1 /值班 城管 @_user_2 @_user_3", [bot, alice(), bob]);
    expect(r).toMatchObject({
      name: "值班",
      args: "城管 @张三 @李四",
      mentions: [
        { openId: "ou_alice", name: "张三" },
        { openId: "ou_bob", name: "李四" },
      ],
    });
  });

  it("only strips this bot: another bot's mention stays an argument", () => {
    const other: Mention = { key: "@_user_2", openId: "ou_other_bot", name: "别的机器人", type: "bot" };
    const r = parse("/帮助 @_user_2", [other]);
    expect(r).toMatchObject({ name: "帮助", args: "@别的机器人", addressed: false });
  });

  it("before the bot knows its open_id, any bot mention counts as addressing it", () => {
    expect(parse("@_user_1 帮助", [bot], undefined)).toMatchObject({ name: "帮助", addressed: true });
  });

  it("returns unknown slash commands so the router can answer them", () => {
    expect(parse("/天气 北京")).toMatchObject({ name: "天气", args: "北京" });
  });

  it("keeps @所有人 readable", () => {
    expect(parse("/帮助 @_all")).toMatchObject({ args: "@所有人" });
  });
});
