import { UniqueConstraintError, type Sequelize } from 'sequelize';
import type { Job, Models } from '../../models/index.js';
import type { Auditor } from '../audit/index.js';
import type { Logger } from '../lib/logger.js';
import { requestInventorySyncJob } from './enqueue-inventory-sync.js';
import { PeriodicCheck } from './periodic.js';
import { SYNC_TASK } from './tasks/inventory-sync.js';

export interface SchedulerOptions {
  models: Models;
  sequelize: Sequelize;
  auditor: Auditor;
  logger: Logger;
  /** SYNC_INTERVAL_MINUTES; 0 turns the schedule off. */
  intervalMinutes: number;
  /** Milliseconds since the epoch (injectable for tests). */
  clock?: () => number;
  /** How often to look whether a new slot has begun (default: a minute, or the interval if shorter). */
  checkEveryMs?: number;
}

/**
 * Enqueues the inventory sync once per SYNC_INTERVAL_MINUTES slot. Every job runner runs one; the
 * unique key (name, slot) of ScheduledRuns makes exactly one of them win each slot, and the winner
 * enqueues the job and audits `job.enqueue` (actor null: Berth itself) in the same transaction.
 */
export class SyncScheduler {
  private readonly periodic: PeriodicCheck;
  private readonly clock: () => number;

  constructor(private readonly o: SchedulerOptions) {
    this.clock = o.clock ?? Date.now;
    this.periodic = new PeriodicCheck(() => this.tick(), o.logger, 'scheduled inventory sync could not be enqueued');
  }

  get enabled(): boolean {
    return this.o.intervalMinutes > 0;
  }

  /** The slot a moment falls in: whole intervals since the epoch. */
  slotAt(ms: number): string {
    return String(Math.floor(ms / (this.o.intervalMinutes * 60_000)));
  }

  /**
   * Checks on a timer that never keeps the process alive. The first check comes one period after
   * start, not at once, so a runner that is restarted (or started briefly, as tests do) does not
   * enqueue a sync on its way up; the slot key still allows only one per interval.
   */
  start(): void {
    if (!this.enabled) return;
    this.periodic.start(this.o.checkEveryMs ?? Math.min(60_000, this.o.intervalMinutes * 60_000));
  }

  stop(): Promise<void> {
    return this.periodic.stop();
  }

  /** Claims the current slot and enqueues the sync (or reuses the one pending or running); null when the slot was already taken. */
  async tick(): Promise<Job | null> {
    if (!this.enabled) return null;
    const slot = this.slotAt(this.clock());
    try {
      const { job, existing } = await this.o.sequelize.transaction(async (t) => {
        const run = await this.o.models.ScheduledRun.create({ name: SYNC_TASK, slot, jobId: null }, { transaction: t });
        const request = await requestInventorySyncJob(this.o, { username: null }, t);
        // The slot is recorded either way: it points at the sync that serves it.
        await run.update({ jobId: request.job.id }, { transaction: t });
        return request;
      });
      if (existing) this.o.logger.info({ jobId: job.id, slot }, `scheduled inventory sync not enqueued: one is already ${job.status} (job ${job.id})`);
      else this.o.logger.info({ jobId: job.id, slot }, 'scheduled inventory sync enqueued');
      return job;
    } catch (err) {
      if (err instanceof UniqueConstraintError) return null;
      throw err;
    }
  }
}
