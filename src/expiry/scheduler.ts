import { UniqueConstraintError, type Sequelize } from 'sequelize';
import type { Config } from '../../config/index.js';
import type { Job, Models } from '../../models/index.js';
import type { Auditor } from '../audit/index.js';
import type { Logger } from '../lib/logger.js';
import { localMinutes, parseTimeOfDay, scanDay } from './clock.js';
import { PeriodicCheck } from '../jobs/periodic.js';
import { enqueueExpiryScan } from './enqueue-scan.js';

/** ScheduledRuns.name of the daily scan; its slot is the scan day ('YYYY-MM-DD' in TZ). */
export const EXPIRY_SCAN_SCHEDULE = 'expiry-scan';

export interface ExpirySchedulerOptions {
  models: Models;
  sequelize: Sequelize;
  auditor: Auditor;
  logger: Logger;
  config: Pick<Config, 'TZ' | 'EXPIRY_SCAN_TIME'>;
  /** Milliseconds since the epoch (injectable for tests). */
  clock?: () => number;
  /** How often to look whether the scan time has come (default: a minute). */
  checkEveryMs?: number;
}

/**
 * Enqueues the expiry scan once per local day in TZ, as soon as the local time is EXPIRY_SCAN_TIME or
 * later. Every job runner runs one; the unique key (name, slot = day) of ScheduledRuns makes one of
 * them win each day. A runner that was down at the scan time enqueues the day's scan when it comes
 * up (the scan itself catches up missed 7-day notices); a day the runners missed entirely is not
 * scanned afterwards: its "today" notices would arrive after the item expired.
 */
export class ExpiryScheduler {
  private readonly periodic: PeriodicCheck;
  private readonly clock: () => number;
  /** Minutes after local midnight; null when EXPIRY_SCAN_TIME is `off`. */
  private readonly scanMinutes: number | null;

  constructor(private readonly o: ExpirySchedulerOptions) {
    this.clock = o.clock ?? Date.now;
    this.scanMinutes = o.config.EXPIRY_SCAN_TIME === 'off' ? null : parseTimeOfDay(o.config.EXPIRY_SCAN_TIME);
    this.periodic = new PeriodicCheck(() => this.tick(), o.logger, 'scheduled expiry scan could not be enqueued');
  }

  get enabled(): boolean {
    return this.scanMinutes !== null;
  }

  /** Checks at once (catching up a scan time passed while the runner was down), then every minute. */
  start(): void {
    if (this.enabled) this.periodic.start(this.o.checkEveryMs ?? 60_000, true);
  }

  stop(): Promise<void> {
    return this.periodic.stop();
  }

  /** Enqueues today's scan if its time has come and nobody has; returns the job, or null. */
  async tick(): Promise<Job | null> {
    if (this.scanMinutes === null) return null;
    const now = new Date(this.clock());
    if (localMinutes(now, this.o.config.TZ) < this.scanMinutes) return null;
    const slot = scanDay(now, this.o.config.TZ);
    try {
      const job = await this.o.sequelize.transaction(async (t) => {
        const run = await this.o.models.ScheduledRun.create({ name: EXPIRY_SCAN_SCHEDULE, slot, jobId: null }, { transaction: t });
        // The scan is pinned to this moment: a job that waits in the queue past midnight still scans this day.
        const queued = await enqueueExpiryScan(this.o, { username: null }, now, t);
        await run.update({ jobId: queued.id }, { transaction: t });
        return queued;
      });
      this.o.logger.info({ jobId: job.id, day: slot }, 'scheduled expiry scan enqueued');
      return job;
    } catch (err) {
      if (err instanceof UniqueConstraintError) return this.retryFailed(slot, now);
      throw err;
    }
  }

  /**
   * The day's scan already ran: when its job failed or was cancelled (its runner died mid-scan, an
   * owner's transaction failed), it is enqueued again, so the rest of the day's notices (the "today"
   * ones cannot wait for tomorrow) still go out. Re-running is safe: NotificationLogs' unique key skips
   * what was sent. The run row moves to the new job only if it still names the failed one, so one of
   * several runners retries.
   */
  private async retryFailed(slot: string, now: Date): Promise<Job | null> {
    const run = await this.o.models.ScheduledRun.findOne({ where: { name: EXPIRY_SCAN_SCHEDULE, slot } });
    if (!run?.jobId) return null;
    const last = await this.o.models.Job.findByPk(run.jobId, { attributes: ['status', 'finishedAt'] });
    if (!last || !['failure', 'cancelled'].includes(last.status)) return null;
    // A scan that keeps failing is retried every RETRY_AFTER_MS, not at every check.
    if (last.finishedAt && now.getTime() - last.finishedAt.getTime() < RETRY_AFTER_MS) return null;
    const job = await this.o.sequelize.transaction(async (t) => {
      const queued = await enqueueExpiryScan(this.o, { username: null }, now, t);
      const [moved] = await this.o.models.ScheduledRun.update({ jobId: queued.id }, { where: { id: run.id, jobId: run.jobId }, transaction: t });
      if (!moved) throw new RetryTaken();
      return queued;
    }).catch((err: unknown) => {
      if (err instanceof RetryTaken) return null;
      throw err;
    });
    if (job) this.o.logger.warn({ jobId: job.id, failedJobId: run.jobId, day: slot }, 'expiry scan failed earlier today; enqueued again');
    return job;
  }
}

/** How long after a failed scan the next try comes. */
const RETRY_AFTER_MS = 15 * 60_000;

/** Another runner retried the day's failed scan first (rolls this one's enqueue back). */
class RetryTaken extends Error {}
