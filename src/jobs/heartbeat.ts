import os from 'node:os';
import { Op } from 'sequelize';
import type { Models } from '../../models/index.js';
import type { Logger } from '../lib/logger.js';

export interface HeartbeatOptions {
  models: Models;
  runnerId: string;
  concurrency: number;
  staleSeconds: number;
  logger: Logger;
}

/**
 * A runner's liveness in the database. `beat()` refreshes the runner's JobRunners row;
 * `recoverStale()` marks failure every running job whose runner has not beaten for `staleSeconds`
 * (killed with -9, host lost, partitioned away): the job is never silently re-run, since it may have
 * done half its work. Whichever runner notices first does it; the update is fenced on the dead
 * runner's id, so two runners recovering at once write once.
 */
export class Heartbeat {
  constructor(private readonly o: HeartbeatOptions) {}

  async beat(runningJobs: number): Promise<void> {
    const now = new Date();
    const [updated] = await this.o.models.JobRunner.update({ heartbeatAt: now, runningJobs }, { where: { id: this.o.runnerId } });
    if (updated) return;
    await this.o.models.JobRunner.create({
      id: this.o.runnerId,
      hostname: os.hostname(),
      pid: process.pid,
      concurrency: this.o.concurrency,
      runningJobs,
      startedAt: now,
      heartbeatAt: now,
    });
  }

  /** Removes this runner's row (clean shutdown). */
  async deregister(): Promise<void> {
    await this.o.models.JobRunner.destroy({ where: { id: this.o.runnerId } });
  }

  /** Marks failure the running jobs of runners that stopped heartbeating; returns their ids. */
  async recoverStale(): Promise<number[]> {
    const { models, staleSeconds, logger } = this.o;
    const threshold = new Date(Date.now() - staleSeconds * 1000);
    const fresh = (await models.JobRunner.findAll({ attributes: ['id'], where: { heartbeatAt: { [Op.gte]: threshold } } })).map((r) => r.id);
    const stale = await models.JobRunner.findAll({ attributes: ['id', 'heartbeatAt'], where: { heartbeatAt: { [Op.lt]: threshold } } });
    const lastBeat = new Map(stale.map((r) => [r.id, r.heartbeatAt]));
    const running = await models.Job.findAll({
      attributes: ['id', 'lockedBy', 'lockedAt'],
      where: { status: 'running', ...(fresh.length ? { [Op.or]: [{ lockedBy: null }, { lockedBy: { [Op.notIn]: fresh } }] } : {}) },
    });
    // A job of a known-dead runner is an orphan; a job whose owner has no row at all (or none) only
    // once it has been locked for longer than the threshold, so a runner that has just claimed
    // before its first heartbeat is never mistaken for dead.
    const orphans = running.filter((j) => (j.lockedBy && lastBeat.has(j.lockedBy)) || !j.lockedAt || j.lockedAt < threshold);
    const recovered: number[] = [];
    for (const job of orphans) {
      const beat = job.lockedBy ? lastBeat.get(job.lockedBy) : undefined;
      const reason =
        `runner ${job.lockedBy ?? '(none)'} stopped heartbeating` +
        (beat ? ` (last heartbeat ${beat.toISOString()})` : '') +
        `; no heartbeat for over ${staleSeconds} s, so the job was marked failed and not re-run`;
      const [n] = await models.Job.update(
        { status: 'failure', error: reason, finishedAt: new Date() },
        { where: { id: job.id, status: 'running', lockedBy: job.lockedBy } },
      );
      if (!n) continue;
      recovered.push(job.id);
      logger.warn({ jobId: job.id, deadRunner: job.lockedBy }, 'job of a dead runner marked failed');
      try {
        const max = (await models.JobStatus.max<number, any>('seq', { where: { jobId: job.id } })) ?? 0;
        await models.JobStatus.create({ jobId: job.id, seq: max + 1, stream: 'system', output: `[${reason}]\n` });
      } catch {
        /* the reason is in Jobs.error anyway */
      }
    }
    if (stale.length) await models.JobRunner.destroy({ where: { id: stale.map((r) => r.id), heartbeatAt: { [Op.lt]: threshold } } });
    return recovered;
  }
}
