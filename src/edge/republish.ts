import type { PublishContext } from './publish.js';
import { publishEdgeConfig } from './publish.js';

/**
 * Re-renders the edge config every EDGE_PUBLISH_INTERVAL_SECONDS in the job runner, so changes made
 * outside Berth's commands (a container's status written by hand or by another tool) still reach the
 * edges. Cheap when nothing changed: a render and a sha256 compared with the newest version, no write.
 * Every runner runs one; the edge lock serialises them and an unchanged text stores nothing.
 */
export class EdgeRepublisher {
  private timer?: NodeJS.Timeout;
  private running?: Promise<unknown>;

  constructor(
    private readonly cmd: PublishContext,
    private readonly intervalSeconds: number,
  ) {}

  get enabled(): boolean {
    return this.intervalSeconds > 0;
  }

  /** Starts the timer (never keeping the process alive); the first re-render comes one interval after start. */
  start(): void {
    if (!this.enabled || this.timer) return;
    this.timer = setInterval(() => void this.check(), this.intervalSeconds * 1000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** One re-render, never overlapping the previous; a fault is logged and the next interval tries again. */
  check(): Promise<unknown> {
    this.running ??= publishEdgeConfig(this.cmd, { reason: 'scheduled re-render' })
      .catch((err: unknown) => this.cmd.logger.error({ err }, 'scheduled edge config re-render failed'))
      .finally(() => (this.running = undefined));
    return this.running;
  }
}
