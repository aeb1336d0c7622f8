import { registerHelp } from "./commands/help";
import { Bot } from "./router";

/** The product's bot: every command, action and event handler, registered on one router. */
export function createWhistleBot(): Bot {
  const bot = new Bot();
  registerHelp(bot);
  return bot;
}
