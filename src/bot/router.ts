import type { Tx } from "../db/database";
import type { Logger } from "../log";
import { commandKey, type ParsedCommand, parseCommand } from "./commands/parse";
import type { CardActionEvent, LarkEvent, MessageEvent, OtherEvent } from "./events";
import type { MemberLookup } from "./membership";
import type { OutboxWriter } from "./outbox";
import type { CardCache } from "./whistle/card-cache";

/**
 * One router for every way in (webhook, long connection, sandbox), in the manner of grammY's
 * Composer: `bot.command("吹哨", …)`, `bot.action("report_in", …)`, `bot.on("im.chat.member.bot.added_v1", …)`.
 * Handlers run inside the transaction that recorded the event: they read state, decide, and write
 * state plus outbox rows; nothing they do talks to Lark directly.
 */

export interface Toast {
  type: "info" | "success" | "error" | "warning";
  content: string;
  i18n?: Record<string, string>;
}

/** What a card callback answers within 3 s: a toast and/or the re-rendered card. */
export interface CallbackAnswer {
  toast?: Toast;
  card?: { type: "raw"; data: unknown };
}

export interface BaseContext {
  tx: Tx;
  now: Date;
  log: Logger;
  out: OutboxWriter;
  botOpenId: string | undefined;
  /** Read-only Lark lookups (chat members) for the rare case the cache cannot answer. */
  lookup: MemberLookup | undefined;
  /** The zone times are shown in (TZ_DISPLAY). */
  tz: string;
  /** Work shared by the events committed in the same transaction (see `Deferred`). */
  batch: BatchMemo;
  /**
   * Whether this event is new (not a redelivery of one already recorded). The handlers of card
   * actions with a `BatchPrepare` run before the dedupe has answered, and await this before a
   * write that a repeat of the same event would make again (see `handleBatch`).
   */
  fresh(): Promise<boolean>;
  /** What the committer keeps between batches for rendering tap answers (see `CardCache`). */
  cards?: CardCache;
}

/**
 * Work shared by the events committed in one transaction.
 *
 * - `once(key, fn)` runs `fn` the first time and returns the same promise after. Only use it in
 *   `Deferred` answers, which run after every handler of the batch has made its changes — so what
 *   it loads is final for the batch.
 * - `unit(key, create)` is a batch-scoped unit of work (rows locked and loaded for the whole batch,
 *   writes buffered and sent as a few set-based statements). The pipeline calls `barrier()` around
 *   every handler that does not use the unit, and before the deferred answers: it flushes the
 *   buffered writes and forgets the unit, so no handler ever reads around them.
 * - `afterCommit(fn)` runs `fn` once the batch's transaction has committed (never when it rolls
 *   back, and not at all where the caller does not commit through the committer).
 */
export interface BatchMemo {
  once<T>(key: string, fn: () => Promise<T>): Promise<T>;
  unit<T extends BatchUnit>(key: string, create: () => T): T;
  barrier(): Promise<void>;
  afterCommit(fn: () => void): void;
  /** Run what `afterCommit` registered (by whoever committed the transaction). */
  committed(): void;
}

export interface BatchUnit {
  /**
   * Write what was buffered. Starts its statements when called (before its first await): the
   * pipeline starts the answers' reads right after `barrier()` without waiting for the writes, and
   * one connection runs statements in the order they were started — the reads see the writes.
   */
  flush(): Promise<void>;
}

/**
 * Batch preparation for a family of card actions: called once with every event of the batch that
 * names it (redeliveries too: it runs before the dedupe answers), before any of their handlers run,
 * so it can lock and load their rows in a few statements. The handlers must give the same results
 * without it (it is only faster), and run without waiting for the dedupe (see `BaseContext.fresh`).
 */
export interface BatchPrepare {
  key: string;
  run: (base: BaseContext, events: CardActionEvent[]) => Promise<void>;
}

/**
 * An answer computed after all the batch's handlers ran: 50 taps on one card committed together
 * load and render that card once, not 50 times.
 */
export interface Deferred {
  deferred: () => Promise<CallbackAnswer | undefined>;
  /**
   * The answer only reads, and starts its reads without waiting for any I/O first. When every
   * deferred answer of a batch says so, the batch's COMMIT is sent right behind those reads
   * (`SealableTransaction`) instead of a round trip later.
   */
  readOnly?: true;
}

export interface CommandContext extends BaseContext {
  event: MessageEvent;
  command: ParsedCommand;
}

export interface ActionContext extends BaseContext {
  event: CardActionEvent;
  /** `event.value.action`: the name the handler was registered under. */
  action: string;
}

export interface EventContext extends BaseContext {
  event: OtherEvent;
}

export type CommandHandler = (ctx: CommandContext) => Promise<void>;
export type ActionHandler = (ctx: ActionContext) => Promise<CallbackAnswer | Deferred | undefined>;
export type EventHandler = (ctx: EventContext) => Promise<void>;

export type Match =
  | { kind: "none"; why: string }
  | { kind: "answer"; answer: CallbackAnswer }
  | {
      kind: "run";
      run: (base: BaseContext) => Promise<CallbackAnswer | Deferred | undefined>;
      /** Set for card actions that share a batch unit of work (see `BatchPrepare`). */
      prepare?: BatchPrepare;
    };

export type RouteResult = { handled: false; why: string } | { handled: true; answer?: CallbackAnswer };

/** How a command presents itself in /帮助. */
export interface CommandHelp {
  /** e.g. "/吹哨 <类型> <部门…> <事项>" */
  usage: string;
  summary: string;
  example?: string;
  /** Where it matters: /帮助 in a chat shows the commands for that chat's role (and admin ones to admins). */
  audience: "street" | "department" | "oversight" | "admin" | "all";
}

/** A memo for one batch. */
export function batchMemo(): BatchMemo {
  const memo = new Map<string, Promise<unknown>>();
  const units = new Map<string, BatchUnit>();
  const after: (() => void)[] = [];
  return {
    once<T>(key: string, fn: () => Promise<T>): Promise<T> {
      let p = memo.get(key) as Promise<T> | undefined;
      if (!p) {
        p = fn();
        memo.set(key, p);
      }
      return p;
    },
    unit<T extends BatchUnit>(key: string, create: () => T): T {
      let u = units.get(key) as T | undefined;
      if (!u) {
        u = create();
        units.set(key, u);
      }
      return u;
    },
    async barrier() {
      const pending = [...units.values()];
      units.clear();
      // Every unit's statements are started now (see `BatchUnit.flush`), before anything the caller
      // starts after this call.
      const flushes: Promise<void>[] = [];
      for (const u of pending) flushes.push(u.flush());
      await Promise.all(flushes);
    },
    afterCommit(fn) {
      after.push(fn);
    },
    committed() {
      for (const fn of after.splice(0)) fn();
    },
  };
}

export class Bot {
  private readonly commands = new Map<string, CommandHandler>();
  private readonly helps: { names: string[]; help: CommandHelp }[] = [];
  private readonly actions = new Map<string, { handler: ActionHandler; prepare?: BatchPrepare }>();
  private readonly events = new Map<string, EventHandler>();
  private unknownCommand: CommandHandler | undefined;

  /** Register a command under one or more names (Chinese first, English aliases). */
  command(names: string | string[], handler: CommandHandler, help?: CommandHelp): this {
    const list = Array.isArray(names) ? names : [names];
    if (help) this.helps.push({ names: list, help });
    for (const name of list) {
      const key = commandKey(name);
      if (this.commands.has(key)) throw new Error(`command "${name}" registered twice`);
      this.commands.set(key, handler);
      this.keys = undefined;
    }
    return this;
  }

  /** Register a card action, matched on the `action` field of the component's callback value. */
  action(name: string, handler: ActionHandler, opts: { prepare?: BatchPrepare } = {}): this {
    if (this.actions.has(name)) throw new Error(`action "${name}" registered twice`);
    this.actions.set(name, { handler, prepare: opts.prepare });
    return this;
  }

  /** Register a handler for any other event type. */
  on(eventType: string, handler: EventHandler): this {
    if (this.events.has(eventType)) throw new Error(`event "${eventType}" registered twice`);
    this.events.set(eventType, handler);
    return this;
  }

  /** What to do with a slash command nobody registered (only when the bot was addressed or in p2p). */
  otherwise(handler: CommandHandler): this {
    this.unknownCommand = handler;
    return this;
  }

  /** Registered commands with their help, in registration order. */
  commandHelp(): readonly { names: string[]; help: CommandHelp }[] {
    return this.helps;
  }

  commandNames(): ReadonlySet<string> {
    return new Set(this.commands.keys());
  }

  /** Every event type this bot wants (for the long-connection dispatcher). */
  eventTypes(): string[] {
    return ["im.message.receive_v1", "card.action.trigger", ...this.events.keys()];
  }

  /**
   * Decide, without any I/O, what an event leads to: a handler to run (inside the pipeline's
   * transaction), a fixed answer, or nothing. Events that lead to nothing never touch the database.
   */
  match(event: LarkEvent, botOpenId: string | undefined): Match {
    switch (event.kind) {
      case "message": {
        if (event.senderType !== "user") return { kind: "none", why: "message from a bot" };
        if (event.text === null) return { kind: "none", why: `non-text message (${event.messageType})` };
        const command = parseCommand(event.text, event.mentions, { botOpenId, known: this.commandKeys() });
        if (!command) return { kind: "none", why: "not a command" };
        const handler =
          this.commands.get(command.name) ??
          (command.addressed || event.chatType === "p2p" ? this.unknownCommand : undefined);
        if (!handler) return { kind: "none", why: `unknown command ${command.name}` };
        return {
          kind: "run",
          run: async (base) => {
            await handler({ event, command, ...base });
            return undefined;
          },
        };
      }
      case "card_action": {
        // Contexts are `{ own fields, ...base }`, never `{ ...base, more }`: V8 (Node 20) builds the
        // latter slowly and with a map per object, which makes every later `ctx.x` read megamorphic.
        const action = typeof event.value.action === "string" ? event.value.action : "";
        const registered = this.actions.get(action);
        if (!registered) {
          return {
            kind: "answer",
            answer: { toast: { type: "warning", content: "这张卡片已过期或无法识别，请重新发起。" } },
          };
        }
        const { handler, prepare } = registered;
        return { kind: "run", run: (base) => handler({ event, action, ...base }), prepare };
      }
      case "event": {
        const handler = this.events.get(event.eventType);
        if (!handler) return { kind: "none", why: `no handler for ${event.eventType}` };
        return {
          kind: "run",
          run: async (base) => {
            await handler({ event, ...base });
            return undefined;
          },
        };
      }
    }
  }

  /** Match and run in one go (the pipeline splits the two around its transaction). */
  async route(event: LarkEvent, base: BaseContext): Promise<RouteResult> {
    const m = this.match(event, base.botOpenId);
    if (m.kind === "none") return { handled: false, why: m.why };
    if (m.kind === "answer") return { handled: true, answer: m.answer };
    const answer = await m.run(base);
    await base.batch.barrier();
    return { handled: true, answer: answer && "deferred" in answer ? await answer.deferred() : answer };
  }

  private keys: ReadonlySet<string> | undefined;
  private commandKeys(): ReadonlySet<string> {
    this.keys ??= this.commandNames();
    return this.keys;
  }
}
