import type { Logger } from '../lib/logger.js';

/**
 * A check every runner makes on a timer (the schedules in src/jobs/scheduler.ts and
 * src/expiry/scheduler.ts): the timer never keeps the process alive, a check never overlaps the
 * previous one, and a failed check is logged (the next one tries again).
 */
export class PeriodicCheck {
  private timer?: NodeJS.Timeout;
  private running?: Promise<unknown>;

  constructor(
    private readonly work: () => Promise<unknown>,
    private readonly logger: Logger,
    /** What the error log says could not be done. */
    private readonly failure: string,
  ) {}

  /** Checks every `everyMs`; with `atOnce`, also right away. A second start is a no-op. */
  start(everyMs: number, atOnce = false): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.check(), everyMs);
    this.timer.unref();
    if (atOnce) void this.check();
  }

  /** Stops the timer and waits for a check under way. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  private check(): Promise<unknown> {
    this.running ??= this.work()
      .catch((err: unknown) => this.logger.error({ err }, this.failure))
      .finally(() => (this.running = undefined));
    return this.running;
  }
}
