import type { Logger } from "../log";

/**
 * A background loop that runs one at a time: `kick()` starts `work` unless it is running — then
 * the running loop goes round once more, so what arrived meanwhile is picked up — and returns the
 * running loop's promise; `idle()` waits until no loop runs (tests, shutdown, Workers' waitUntil).
 * A failure is logged, never thrown at the kicker.
 */
export class BackgroundLoop {
  private running: Promise<void> | undefined;
  private again = false;

  constructor(
    private readonly work: () => Promise<unknown>,
    private readonly log: Logger,
    private readonly failure: string,
  ) {}

  kick(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      try {
        do {
          this.again = false;
          await this.work();
        } while (this.again);
      } catch (err) {
        this.log.error(this.failure, { error: err });
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }

  async idle(): Promise<void> {
    while (this.running) await this.running;
  }
}
