// Hand-written SQL (allow-listed in eslint.config.js): stale runners are found with a CASE over
// databaseNow() in the one read of every runner, so staleness is judged by the database's clock.
import os from 'node:os';
import { Op, UniqueConstraintError, type ModelStatic, type Sequelize, type Transaction } from 'sequelize';
import type { Config } from '../../config/index.js';
import type { Job, JobRunner, JobOutput, Models } from '../../models/index.js';
import { createSequelize, databaseNow, DEFAULT_QUERY_TIMEOUT_SECONDS } from '../lib/db/connect.js';
import type { Logger } from '../lib/logger.js';

export interface HeartbeatOptions {
  models: Models;
  /**
   * The database to open the heartbeat's own connection to (a pool of one; MariaDB). Without it, and
   * on SQLite, the heartbeat shares the models' connection.
   */
  database?: Config['database'];
  runnerId: string;
  concurrency: number;
  staleSeconds: number;
  logger: Logger;
  /**
   * Called in the transaction that marks a dead runner's job failed (the runner queues the
   * requester's mail there, so the status and its mail commit together).
   */
  onFailed?: (job: Pick<Job, 'id' | 'command' | 'createdBy'>, outcome: { status: 'failure'; exitCode: null; error: string }, transaction: Transaction) => Promise<void>;
}

/** The three tables the heartbeat touches, as models bound to whichever connection it uses. */
interface HeartbeatModels {
  Job: ModelStatic<Job>;
  JobRunner: ModelStatic<JobRunner>;
  JobOutput: ModelStatic<JobOutput>;
}

/**
 * `model`'s table and columns as a model of another Sequelize instance. Berth's model classes are
 * bound to the main pool (Sequelize keeps them global); the heartbeat needs the same tables on its
 * own connection, with the same column types and validation.
 */
function bindTo<M extends ModelStatic<any>>(sequelize: Sequelize, model: M): M {
  // Copies: Sequelize writes into attribute definitions (Model, field) when it defines a model.
  const attributes = Object.fromEntries(Object.entries(model.getAttributes()).map(([name, definition]) => [name, { ...definition }]));
  return sequelize.define(model.name, attributes, { tableName: model.tableName }) as unknown as M;
}

/**
 * A runner's liveness in the database. `beat()` refreshes the runner's JobRunners row;
 * `recoverStale()` marks failure every running job whose runner has not beaten for `staleSeconds`
 * (killed with -9, host lost, partitioned away): the job is never silently re-run, since it may have
 * done half its work. Whichever runner notices first does it; the update is fenced on the dead
 * runner's id, so two runners recovering at once write once.
 *
 * Time is the database's (`databaseNow`), read in the statement that uses it: a runner's host clock
 * may be minutes off, and comparing one runner's clock with another's stamps killed healthy jobs.
 *
 * Its queries go through a connection of its own, so a runner whose pool is busy with output writes
 * on a slow database still beats on time (and its own limit on query time: a beat slower than the
 * stale threshold is worthless, so the connection is dropped and the next beat gets a fresh one).
 */
/** recoverStale() calls between two looks for running jobs whose runner has no row at all. */
const ROWLESS_CHECK_EVERY = 3;

export class Heartbeat {
  private recoveries = 0;
  private readonly sequelize: Sequelize;
  private readonly m: HeartbeatModels;
  /** True when `sequelize` was opened here (and close() must close it). */
  private readonly ownConnection: boolean;

  constructor(private readonly o: HeartbeatOptions) {
    const database = o.database;
    // MariaDB only. SQLite has one writer lock for every connection, so a second connection buys no
    // priority for the heartbeat's writes, only contention: 4 runners × 8 jobs on one file took 22-64 s
    // for 400 jobs with it, 6.8 s without (test/integration/jobs/concurrency.test.ts).
    if (database && database.dialect !== 'sqlite') {
      const configured = database.queryTimeoutSeconds ?? DEFAULT_QUERY_TIMEOUT_SECONDS;
      const queryTimeoutSeconds = configured > 0 ? Math.min(configured, o.staleSeconds) : o.staleSeconds;
      this.sequelize = createSequelize(database, { poolMax: 1, queryTimeoutSeconds, logger: o.logger });
      this.m = { Job: bindTo(this.sequelize, o.models.Job), JobRunner: bindTo(this.sequelize, o.models.JobRunner), JobOutput: bindTo(this.sequelize, o.models.JobOutput) };
      this.ownConnection = true;
    } else {
      this.sequelize = o.models.JobRunner.sequelize!;
      this.m = o.models;
      this.ownConnection = false;
    }
  }

  async beat(runningJobs: number): Promise<void> {
    const { JobRunner } = this.m;
    const now = databaseNow(this.sequelize);
    const [updated] = await JobRunner.update({ heartbeatAt: now, runningJobs }, { where: { id: this.o.runnerId } });
    if (updated) return;
    try {
      await JobRunner.create({
        id: this.o.runnerId,
        hostname: os.hostname(),
        pid: process.pid,
        concurrency: this.o.concurrency,
        runningJobs,
        startedAt: now as unknown as Date,
        heartbeatAt: now as unknown as Date,
      });
    } catch (err) {
      // MariaDB counts changed rows: a beat that changed nothing (same second, same count) looks
      // like a missing row, and the row is in fact there.
      if (!(err instanceof UniqueConstraintError)) throw err;
    }
  }

  /** Removes this runner's row (clean shutdown). */
  async deregister(): Promise<void> {
    await this.m.JobRunner.destroy({ where: { id: this.o.runnerId } });
  }

  /** Closes the heartbeat's own connection, if it has one (after deregister()). */
  async close(): Promise<void> {
    if (this.ownConnection) await this.sequelize.close();
  }

  /** Marks failure the running jobs of runners that stopped heartbeating; returns their ids. */
  async recoverStale(): Promise<number[]> {
    const { staleSeconds, logger } = this.o;
    const { Job, JobRunner, JobOutput } = this.m;
    // "staleSeconds ago" by the database's clock, evaluated by each statement that compares with it.
    const threshold = databaseNow(this.sequelize, -staleSeconds);
    // One read for every runner, the comparison done by the database (an idle runner's statement rate
    // counts: issue 11 asks for at most one per second, wake-up wait included).
    const runners = (await JobRunner.findAll({
      attributes: ['id', 'heartbeatAt', [this.sequelize.literal(`CASE WHEN heartbeatAt < ${threshold.val} THEN 1 ELSE 0 END`), 'isStale']],
      raw: true,
    })) as unknown as Array<{ id: string; heartbeatAt: Date | string; isStale: number | string }>;
    const fresh = runners.filter((r) => Number(r.isStale) === 0).map((r) => r.id);
    const stale = runners.filter((r) => Number(r.isStale) === 1);
    const lastBeat = new Map(stale.map((r) => [r.id, new Date(r.heartbeatAt)]));
    // A job of a known-dead runner is an orphan; a job whose owner has no row at all (or none) only
    // once it has been locked for longer than the threshold, so a runner that has just claimed
    // before its first heartbeat is never mistaken for dead.
    // Without a stale runner only rowless jobs can be orphans (their runner's row is gone, or they
    // were set running by hand); looking for those every third beat keeps an idle runner under one
    // statement per second in all (issue 11), at the cost of finding them one or two beats later.
    if (!stale.length && this.recoveries++ % ROWLESS_CHECK_EVERY !== 0) return [];
    const orphans = await Job.findAll({
      attributes: ['id', 'lockedBy', 'lockedAt', 'command', 'createdBy'],
      where: {
        status: 'running',
        [Op.and]: [
          fresh.length ? { [Op.or]: [{ lockedBy: null }, { lockedBy: { [Op.notIn]: fresh } }] } : {},
          { [Op.or]: [...(stale.length ? [{ lockedBy: [...lastBeat.keys()] }] : []), { lockedAt: null }, { lockedAt: { [Op.lt]: threshold } }] },
        ],
      },
    });
    const recovered: number[] = [];
    for (const job of orphans) {
      const beat = job.lockedBy ? lastBeat.get(job.lockedBy) : undefined;
      const reason =
        `runner ${job.lockedBy ?? '(none)'} stopped heartbeating` +
        (beat ? ` (last heartbeat ${beat.toISOString()})` : '') +
        `; no heartbeat for over ${staleSeconds} s, so the job was marked failed and not re-run`;
      const n = await this.sequelize.transaction(async (transaction) => {
        const [updated] = await Job.update(
          { status: 'failure', error: reason, finishedAt: databaseNow(this.sequelize) },
          { where: { id: job.id, status: 'running', lockedBy: job.lockedBy }, transaction },
        );
        if (updated && this.o.onFailed) await this.o.onFailed(job, { status: 'failure', exitCode: null, error: reason }, transaction);
        return updated;
      });
      if (!n) continue;
      recovered.push(job.id);
      logger.warn({ jobId: job.id, deadRunner: job.lockedBy }, 'job of a dead runner marked failed');
      try {
        const max = (await JobOutput.max<number, any>('seq', { where: { jobId: job.id } })) ?? 0;
        await JobOutput.create({ jobId: job.id, seq: max + 1, stream: 'system', output: `[${reason}]\n` });
      } catch {
        /* the reason is in Jobs.error anyway */
      }
    }
    if (stale.length) await JobRunner.destroy({ where: { id: stale.map((r) => r.id), heartbeatAt: { [Op.lt]: threshold } } });
    return recovered;
  }
}
