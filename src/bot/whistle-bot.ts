import { registerAdmins } from "./commands/admins";
import { registerBind } from "./commands/bind";
import { registerChatEvents } from "./commands/chat-events";
import { registerDirectory } from "./commands/directory";
import { registerExport } from "./commands/export";
import { registerHelp } from "./commands/help";
import { registerSettings } from "./commands/settings";
import { registerStats } from "./commands/stats";
import { registerStatus } from "./commands/status";
import { registerWhistle } from "./commands/whistle";
import { Bot } from "./router";
import { registerCloseActions } from "./whistle/close-actions";
import { registerDispatchActions } from "./whistle/dispatch-actions";
import { registerRateAction } from "./whistle/rate-action";

/** The product's bot: every command, action and event handler, registered on one router. */
export function createWhistleBot(): Bot {
  const bot = new Bot();
  registerHelp(bot);
  registerWhistle(bot);
  registerStatus(bot);
  registerStats(bot);
  registerExport(bot);
  registerDispatchActions(bot);
  registerCloseActions(bot);
  registerRateAction(bot);
  registerBind(bot);
  registerSettings(bot);
  registerAdmins(bot);
  registerDirectory(bot);
  registerChatEvents(bot);
  return bot;
}
