import { admins } from "../../src/db/schema";
import { say } from "./chat";
import type { Harness } from "./harness";

/**
 * The district most end-to-end tests start from, set up by chat commands as an admin would:
 * 朝阳门街道 (oc_street), 城管执法队 alias 城管 (oc_cg), 公安 (oc_ga), and 东城区接诉即办中心 (oc_ov).
 */
export async function standardDistrict(
  h: Harness,
  people: { admin: string; official: string; cg?: string[]; ga?: string[] },
): Promise<void> {
  const { admin } = people;
  await h.t.db.insert(admins).values({ openId: admin, source: "env" });
  h.fake.addChat("oc_street", { name: "街道", members: [admin, people.official] });
  h.fake.addChat("oc_cg", { name: "城管", members: [admin, ...(people.cg ?? [])] });
  h.fake.addChat("oc_ga", { name: "公安", members: [admin, ...(people.ga ?? [])] });
  h.fake.addChat("oc_ov", { name: "督办", members: [admin] });
  await say(h, "oc_street", admin, "/绑定 街乡 朝阳门街道");
  await say(h, "oc_cg", admin, "/绑定 部门 城管执法队 城管");
  await say(h, "oc_ga", admin, "/绑定 部门 公安");
  await say(h, "oc_ov", admin, "/绑定 督办 东城区接诉即办中心");
}
