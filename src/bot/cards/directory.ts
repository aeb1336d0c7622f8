import type { DirectoryView } from "../../db/queries/directory";
import { type Card, card, type Element, hr, md } from "./kit";

/** The whole mapping as one card (/目录), and the welcome card when the bot joins a group. */

const at = (openId: string) => `<at id=${openId}></at>`;
const chatRef = (chatId: string, here: string | undefined) =>
  chatId === here ? "**本群**" : `\`${chatId}\``;

export function directoryCard(view: DirectoryView, hereChatId?: string): Card {
  const els: Element[] = [];
  const streets = view.streets.map((s) => {
    const chats = s.chats.map((c) => chatRef(c.chatId, hereChatId)).join("、") || "（未绑定群）";
    const forces = s.forces.length ? s.forces.join("、") : "未设置";
    return `**${s.unit.name}** · 群 ${chats}\n1+4：${forces}`;
  });
  els.push(md(`**街乡**（${view.streets.length}）\n${streets.join("\n") || "尚未绑定"}`));
  els.push(hr());
  const departments = view.departments.map((d) => {
    const chats =
      d.chats.map((c) => `${chatRef(c.chatId, hereChatId)}${c.isCardGroup ? "（卡片群）" : ""}`).join("、") ||
      "⚠️ 未绑定群";
    const aliases = d.aliases.length ? `（${d.aliases.join("、")}）` : "";
    const duty = d.duty.length ? `\n值班：${d.duty.map(at).join(" ")}` : "";
    return `**${d.unit.name}**${aliases} · ${chats}${duty}`;
  });
  els.push(md(`**部门**（${view.departments.length}）\n${departments.join("\n") || "尚未绑定"}`));
  els.push(hr());
  const oversight = view.oversight.map(
    (o) =>
      `**${o.unit.name}** · ${o.chats.map((c) => chatRef(c.chatId, hereChatId)).join("、") || "未绑定群"}`,
  );
  els.push(md(`**督办**\n${oversight.join("\n") || "尚未绑定"}`));
  els.push(
    md(`**管理员**：${view.admins.map((a) => at(a.openId)).join(" ") || "尚无（请配置 WHISTLE_ADMINS）"}`, {
      size: "notation",
    }),
  );
  return card(
    {
      title: "📒 吹哨报到 · 目录",
      color: "blue",
      summary: `${view.streets.length} 个街乡，${view.departments.length} 个部门`,
    },
    els,
  );
}

export function welcomeCard(groupName?: string): Card {
  return card({ title: "👋 吹哨报到已加入本群", color: "blue", summary: "请管理员绑定本群" }, [
    md(
      [
        `${groupName ? `**${groupName}**：` : ""}请管理员在本群发送一条命令，说明本群属于谁：`,
        "• 街乡工作群：`/绑定 街乡 朝阳门街道`",
        "• 部门群：`/绑定 部门 城管执法队 城管,执法队`",
        "• 督办群：`/绑定 督办 东城区接诉即办中心`",
        "",
        "绑定后，街乡在工作群里 `/吹哨`，被召集部门的群会收到卡片，30 分钟内点“报到”。发送 `/帮助` 查看全部命令。",
      ].join("\n"),
    ),
  ]);
}
