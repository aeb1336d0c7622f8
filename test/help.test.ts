import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { lintCard } from "../src/bot/cards/lint";
import { admins } from "../src/db/schema";
import { say } from "./support/chat";
import { resetDatabase } from "./support/db";
import { type Harness, larkHarness } from "./support/harness";

const ADMIN = "ou_admin000000000000000000000000001";
const PERSON = "ou_person00000000000000000000000002";
let h: Harness;

beforeEach(async () => {
  h = await larkHarness();
  await resetDatabase(h.t);
  await h.t.db.insert(admins).values({ openId: ADMIN, source: "env" });
  await say(h, "oc_s", ADMIN, "/绑定 街乡 朝阳门街道");
  await say(h, "oc_d", ADMIN, "/绑定 部门 城管执法队");
  await say(h, "oc_o", ADMIN, "/绑定 督办 东城区接诉即办中心");
});
afterEach(async () => {
  await h.close();
});

describe("/帮助 is tailored to the chat and the person", () => {
  it("a street chat learns to whistle", async () => {
    const r = await say(h, "oc_s", PERSON, "/帮助");
    expect(lintCard(r.replies[0])).toEqual([]);
    expect(r.text).toContain("街乡工作群");
    expect(r.text).toContain("/吹哨 <类型> <部门…> <事项>");
    expect(r.text).toContain("/状态");
    expect(r.text).not.toContain("/绑定 街乡|部门|督办");
  });

  it("a department chat learns to report in, and is not offered /吹哨", async () => {
    const r = await say(h, "oc_d", PERSON, "/help");
    expect(r.text).toContain("报到");
    expect(r.text).toContain("到场");
    expect(r.text).not.toContain("/吹哨 <类型>");
  });

  it("oversight and unbound chats get their own introduction", async () => {
    expect((await say(h, "oc_o", PERSON, "/帮助")).text).toContain("督办");
    expect((await say(h, "oc_x", PERSON, "/帮助")).text).toContain("本群尚未绑定");
  });

  it("admins also see the set-up commands", async () => {
    const r = await say(h, "oc_s", ADMIN, "/帮助");
    expect(r.text).toContain("管理员命令");
    expect(r.text).toContain("/一加四 <部门,部门,…>");
  });
});
