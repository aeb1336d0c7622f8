// The sandbox page: chats on the left, the selected chat on the right, a compose box and a
// "speaking as" picker. Every action goes to /sandbox/api/*, where the fake Lark pushes it to the bot's
// /lark/events as Lark would; what the bot sends back arrives over /sandbox/api/stream.
import { renderCard } from "./card.js";
import { escapeHtml, renderTextMessage } from "./markdown.js";

const KIND_LABEL = { street: "街乡", department: "部门", oversight: "督办", p2p: "单聊", group: "群" };
const TRY_FIRST = {
  street: [
    "/吹哨 执法 城管执法队,公安 朝阳门内大街81号门前占道经营，多次劝离无效",
    "/吹哨",
    "/状态",
    "/帮助",
  ],
  department: ["/状态", "/帮助"],
  oversight: ["/统计 本月", "/排名", "/目录"],
};
const AVATAR_COLORS = [
  "#3370ff",
  "#ff8800",
  "#34c724",
  "#7f3bf5",
  "#f54a45",
  "#14c0ff",
  "#e1226b",
  "#04b49c",
];

const state = {
  tz: "Asia/Shanghai",
  bot: { openId: "", name: "吹哨报到" },
  people: [],
  names: new Map(),
  roles: new Map(),
  chats: [],
  messages: new Map(),
  selected: null,
  speaker: new Map(),
  seen: new Map(),
};

const $ = (sel) => document.querySelector(sel);

async function api(path, body) {
  const res = await fetch(path, {
    method: body === undefined ? "GET" : "POST",
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json().catch(() => ({}));
  if (!res.ok && json.ok !== false) throw new Error(`HTTP ${res.status}`);
  return json;
}

async function load() {
  const s = await api("/sandbox/api/state");
  state.tz = s.tz;
  state.bot = s.bot;
  state.people = s.people;
  state.names = new Map(s.people.map((p) => [p.openId, p.name]));
  state.names.set(s.bot.openId, s.bot.name);
  state.roles = new Map(s.people.map((p) => [p.openId, p.role]));
  state.chats = s.chats;
  state.messages = new Map(s.messages.map((m) => [m.message_id, m]));
  if (!state.selected || !state.chats.some((c) => c.chatId === state.selected)) {
    state.selected = state.chats[0]?.chatId ?? null;
  }
  const chat = selectedChat();
  if (chat) state.seen.set(chat.chatId, countIn(chat.chatId));
  renderChatList();
  renderChat(true);
}

const selectedChat = () => state.chats.find((c) => c.chatId === state.selected);
const messagesIn = (chatId) =>
  [...state.messages.values()]
    .filter((m) => m.chat_id === chatId)
    .sort((a, b) => Number(a.create_time) - Number(b.create_time));
const countIn = (chatId) => messagesIn(chatId).length;

function avatar(name, id) {
  let n = 0;
  for (const ch of id) n = (n * 31 + ch.charCodeAt(0)) >>> 0;
  const color = id === state.bot.openId || id === "bot" ? "#3370ff" : AVATAR_COLORS[n % AVATAR_COLORS.length];
  const text = id === "bot" ? "🤖" : escapeHtml([...name].slice(-2).join(""));
  return `<span class="avatar" style="background:${color}">${text}</span>`;
}

function preview(m) {
  if (!m) return "";
  const who = m.sender === "bot" ? "" : `${state.names.get(m.sender) ?? ""}：`;
  if (m.msg_type === "text") {
    const t = (m.content?.text ?? "")
      .replace(/<at[^>]*>([^<]*)<\/at>/g, "@$1")
      .replace(/@_user_\d+/g, (k) => {
        const x = (m.mentions ?? []).find((y) => y.key === k);
        return x ? `@${x.name}` : k;
      });
    return who + t;
  }
  if (m.msg_type === "interactive") {
    return `${who}[卡片] ${m.content?.config?.summary?.content ?? m.content?.header?.title?.content ?? ""}`;
  }
  if (m.msg_type === "file") return `${who}[文件]`;
  return `${who}[${m.msg_type}]`;
}

function renderChatList() {
  const list = $("#chat-list");
  list.innerHTML = "";
  for (const c of state.chats) {
    const msgs = messagesIn(c.chatId);
    const last = msgs[msgs.length - 1];
    const unread = Math.max(0, msgs.length - (state.seen.get(c.chatId) ?? 0));
    const item = document.createElement("button");
    item.type = "button";
    item.className = `chat-item${c.chatId === state.selected ? " active" : ""}`;
    item.dataset.chat = c.chatId;
    item.setAttribute("aria-label", c.name);
    const time = last ? clock(last.create_time) : "";
    item.innerHTML = `
      <span class="chat-avatar kind-${c.kind}">${escapeHtml(KIND_LABEL[c.kind] ?? "群")}</span>
      <span class="chat-main">
        <span class="chat-top"><span class="chat-name">${escapeHtml(c.name)}</span><span class="chat-time">${time}</span></span>
        <span class="chat-bottom"><span class="chat-preview">${escapeHtml(preview(last))}</span>${
          unread && c.chatId !== state.selected ? `<span class="badge">${unread}</span>` : ""
        }</span>
      </span>`;
    item.addEventListener("click", () => {
      state.selected = c.chatId;
      state.seen.set(c.chatId, msgs.length);
      renderChatList();
      renderChat(true);
    });
    list.append(item);
  }
}

/** "14:05" today, else "11月26日 14:05", in the zone the cards use (TZ_DISPLAY). */
function clock(ms) {
  const opts = { timeZone: state.tz, hour: "2-digit", minute: "2-digit", hour12: false };
  const day = (d) => d.toLocaleDateString("zh-CN", { timeZone: state.tz, month: "long", day: "numeric" });
  const d = new Date(Number(ms));
  const t = d.toLocaleTimeString("zh-CN", opts);
  return day(d) === day(new Date()) ? t : `${day(d)} ${t}`;
}

function speakerOf(chat) {
  const chosen = state.speaker.get(chat.chatId);
  return chosen && chat.members.includes(chosen) ? chosen : chat.members[0];
}

function renderChat(scroll) {
  const chat = selectedChat();
  const header = $("#chat-header");
  const box = $("#messages");
  if (!chat) {
    header.innerHTML = "";
    box.innerHTML = "";
    return;
  }
  header.innerHTML = `
    <div class="chat-title">${escapeHtml(chat.name)} <span class="kind kind-${chat.kind}">${KIND_LABEL[chat.kind] ?? ""}${
      chat.unit ? ` · ${escapeHtml(chat.unit)}` : ""
    }</span></div>
    <div class="chat-members">${chat.members.length + 1} 位成员：${[
      state.bot.name,
      ...chat.members.map((m) => state.names.get(m) ?? m),
    ]
      .map(escapeHtml)
      .join("、")}</div>`;
  box.innerHTML = "";
  const msgs = messagesIn(chat.chatId);
  if (msgs.length === 0) box.append(emptyHint(chat));
  for (const m of msgs) box.append(messageNode(m));
  renderCompose(chat);
  if (scroll) box.scrollTop = box.scrollHeight;
}

function emptyHint(chat) {
  const e = document.createElement("div");
  e.className = "empty-hint";
  const tips = {
    street: "这是街道的吹哨指挥群。先试试吹一声哨：点下面的示例，或输入 <code>/吹哨</code> 打开吹哨表单。",
    department: "这是部门的派单群。街道吹哨后，这里会收到派单卡片，点 <b>报到</b> 即可。",
    oversight: "这是督办群：超时未报到会升级到这里，每天 08:30 收到日报。",
  };
  e.innerHTML = tips[chat.kind] ?? "还没有消息。";
  return e;
}

function messageNode(m) {
  const mine = m.sender !== "bot";
  const name = mine ? (state.names.get(m.sender) ?? m.sender) : state.bot.name;
  const row = document.createElement("div");
  row.className = `msg${mine ? " from-user" : " from-bot"}`;
  row.dataset.id = m.message_id;
  row.dataset.version = `${m.update_time}:${m.versions}:${m.urgent?.length ?? 0}`;
  const meta = `<div class="msg-meta"><span class="msg-name">${escapeHtml(name)}</span>${
    mine ? "" : '<span class="bot-tag">机器人</span>'
  }<span class="msg-time">${clock(m.create_time)}</span></div>`;
  row.innerHTML = `${avatar(name, mine ? m.sender : "bot")}<div class="msg-col">${meta}</div>`;
  const col = row.querySelector(".msg-col");
  const parent = m.parent_id ? state.messages.get(m.parent_id) : undefined;
  if (parent) {
    const q = document.createElement("div");
    q.className = "quote";
    const who = parent.sender === "bot" ? state.bot.name : (state.names.get(parent.sender) ?? "");
    q.textContent = `回复 ${who}：${preview({ ...parent, sender: "bot" })}`;
    col.append(q);
  }
  if (m.msg_type === "interactive") {
    col.append(
      renderCard(m.content, {
        names: state.names,
        members: state.chats.find((c) => c.chatId === m.chat_id)?.members ?? [],
        act: (action, el) => act(m, action, el),
        confirm: confirmDialog,
      }),
    );
  } else if (m.msg_type === "text") {
    const b = document.createElement("div");
    b.className = "bubble";
    b.innerHTML = renderTextMessage(m.content?.text ?? "", state.names, m.mentions ?? []);
    col.append(b);
  } else if (m.msg_type === "file") {
    const b = document.createElement("a");
    b.className = "bubble file";
    b.href = `/sandbox/api/files/${encodeURIComponent(m.content?.file_key ?? "")}`;
    b.textContent = `📎 ${m.fileName ?? "文件"}（点击下载）`;
    col.append(b);
  } else {
    const b = document.createElement("div");
    b.className = "bubble";
    b.textContent = `[${m.msg_type}] ${JSON.stringify(m.content)}`;
    col.append(b);
  }
  for (const u of m.urgent ?? []) {
    const n = document.createElement("div");
    n.className = "urgent";
    const kind = { app: "应用内", sms: "短信", phone: "电话" }[u.kind] ?? u.kind;
    n.textContent = `❗ 加急（${kind}）：${u.user_ids.map((id) => state.names.get(id) ?? id).join("、")}`;
    col.append(n);
  }
  return row;
}

async function act(m, action, el) {
  const chat = state.chats.find((c) => c.chatId === m.chat_id);
  const as = chat ? speakerOf(chat) : undefined;
  if (!as) return;
  const cardEl = el.closest(".card");
  cardEl?.classList.add("busy");
  try {
    const r = await api("/sandbox/api/actions", {
      messageId: m.message_id,
      as,
      value: action.value,
      ...(action.formValue ? { formValue: action.formValue } : {}),
      ...(action.name ? { name: action.name } : {}),
      ...(action.tag ? { tag: action.tag } : {}),
    });
    if (r.toast) toast(r.toast.type, r.toast.content ?? r.toast.i18n?.zh_cn ?? "");
    else if (r.errorCode) toast("error", `卡片回调失败（错误码 ${r.errorCode}）`);
    else if (r.ok === false) toast("error", r.error ?? "操作失败");
  } catch (err) {
    toast("error", `操作失败：${err.message}`);
  } finally {
    cardEl?.classList.remove("busy");
  }
}

function renderCompose(chat) {
  const picker = $("#speaker");
  const current = speakerOf(chat);
  picker.innerHTML = `<span class="speaker-label">以此身份发言和点击：</span>`;
  for (const id of chat.members) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = `speaker${id === current ? " on" : ""}`;
    b.title = state.roles.get(id) ?? "";
    b.innerHTML = `${avatar(state.names.get(id) ?? id, id)}<span>${escapeHtml(state.names.get(id) ?? id)}</span><small>${escapeHtml(
      state.roles.get(id) ?? "",
    )}</small>`;
    b.addEventListener("click", () => {
      state.speaker.set(chat.chatId, id);
      renderCompose(chat);
    });
    picker.append(b);
  }
  const tries = $("#try");
  tries.innerHTML = "";
  const list = TRY_FIRST[chat.kind] ?? [];
  if (list.length) tries.insertAdjacentHTML("beforeend", '<span class="try-label">试试：</span>');
  for (const t of list) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = "try";
    b.textContent = t;
    b.addEventListener("click", () => {
      const input = $("#compose-text");
      input.value = t;
      input.focus();
    });
    tries.append(b);
  }
  $("#compose-text").placeholder =
    `以 ${state.names.get(current) ?? ""} 的身份发送到「${chat.name}」（Enter 发送，Shift+Enter 换行；@吹哨报到、@姓名 可提及）`;
}

async function send() {
  const chat = selectedChat();
  const input = $("#compose-text");
  const text = input.value.trim();
  if (!chat || !text) return;
  const sendButton = $("#send");
  sendButton.disabled = true;
  try {
    const r = await api("/sandbox/api/messages", { chatId: chat.chatId, as: speakerOf(chat), text });
    if (r.ok === false) toast("error", r.error ?? "发送失败");
    else input.value = "";
  } catch (err) {
    toast("error", `发送失败：${err.message}`);
  } finally {
    sendButton.disabled = false;
    input.focus();
  }
}

function toast(type, text) {
  const t = document.createElement("div");
  t.className = `toast toast-${type}`;
  t.setAttribute("role", "status");
  const icon = { success: "✅", error: "⛔", warning: "⚠️", info: "ℹ️" }[type] ?? "ℹ️";
  t.textContent = `${icon} ${text}`;
  const box = $("#toasts");
  box.append(t);
  while (box.children.length > 2) box.firstElementChild.remove();
  setTimeout(() => t.classList.add("fade"), 2500);
  setTimeout(() => t.remove(), 3000);
}

function confirmDialog({ title, text }) {
  return new Promise((resolve) => {
    const d = $("#dialog");
    d.querySelector(".dialog-title").textContent = title;
    d.querySelector(".dialog-text").textContent = text;
    d.hidden = false;
    const done = (v) => {
      d.hidden = true;
      ok.removeEventListener("click", yes);
      cancel.removeEventListener("click", no);
      resolve(v);
    };
    const ok = d.querySelector(".dialog-ok");
    const cancel = d.querySelector(".dialog-cancel");
    const yes = () => done(true);
    const no = () => done(false);
    ok.addEventListener("click", yes);
    cancel.addEventListener("click", no);
  });
}

/** Apply one live update: a new message or a changed one (a patched card) replaces its node in place. */
function onUpdate(e) {
  if (e.kind === "reset") {
    state.seen.clear();
    void load();
    return;
  }
  const m = e.message;
  const known = state.messages.has(m.message_id);
  state.messages.set(m.message_id, m);
  if (!state.chats.some((c) => c.chatId === m.chat_id)) {
    void load();
    return;
  }
  if (m.chat_id === state.selected) {
    state.seen.set(m.chat_id, countIn(m.chat_id));
    const box = $("#messages");
    const nearBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 80;
    const old = box.querySelector(`.msg[data-id="${CSS.escape(m.message_id)}"]`);
    if (known && old) {
      old.replaceWith(messageNode(m));
    } else {
      box.querySelector(".empty-hint")?.remove();
      box.append(messageNode(m));
      if (nearBottom || m.sender !== "bot") box.scrollTop = box.scrollHeight;
    }
  }
  renderChatList();
}

function connect() {
  const es = new EventSource("/sandbox/api/stream");
  let first = true;
  es.addEventListener("hello", () => {
    $("#live").classList.add("on");
    // After a reconnect, catch up on what happened meanwhile.
    if (!first) void load();
    first = false;
  });
  es.addEventListener("update", (ev) => onUpdate(JSON.parse(ev.data)));
  es.addEventListener("error", () => $("#live").classList.remove("on"));
}

function wire() {
  $("#send").addEventListener("click", () => void send());
  $("#compose-text").addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) {
      ev.preventDefault();
      void send();
    }
  });
  $("#guide-toggle").addEventListener("click", () => {
    $("#guide").hidden = !$("#guide").hidden;
  });
  $("#reset").addEventListener("click", async () => {
    const go = await confirmDialog({
      title: "重置演示？",
      text: "清空所有群消息和数据库中的哨单、评价，重新建立演示街道。",
    });
    if (!go) return;
    await api("/sandbox/api/reset", {});
    toast("success", "演示已重置");
  });
  document.addEventListener("click", () => {
    for (const m of document.querySelectorAll(".select-menu")) m.hidden = true;
  });
}

wire();
connect();
void load();
