import crypto from 'node:crypto';
import os from 'node:os';
import type { Readable } from 'node:stream';
import { Op, type Sequelize, type Transaction } from 'sequelize';
import type { Config } from '../../config/index.js';
import type { Job, Models } from '../../models/index.js';
import type { JobStatusValue } from '../../models/Job.js';
import { Auditor } from '../audit/index.js';
import type { Logger } from '../lib/logger.js';
import { databaseNow } from '../lib/db/connect.js';
import { Backoff, sleep } from '../lib/retry.js';
import { claimJobs } from './claim.js';
import { queueJobFailureMail } from './failure-mail.js';
import { jobEvents } from './enqueue.js';
import { openJobWaker } from './wake.js';
import { Heartbeat } from './heartbeat.js';
import { OutputWriter } from './output-writer.js';
import { childEnv, signalGroup, startReaper, terminateGroup, type Reaper } from './process-group.js';
import { SHELL_TASK } from './tasks/index.js';
import { endedJobs, finalStatus, type EndReason } from './end-reason.js';
import { resolveTask, runExecTask, runFunctionTask } from './task-execution.js';

export interface RunnerOptions {
  /** Handed to in-process tasks (TaskContext.config). */
  config?: Config;
  /** Handed to in-process tasks that write audited changes (TaskContext.auditor); a database-only one when absent. */
  auditor?: Auditor;
  sequelize: Sequelize;
  models: Models;
  logger: Logger;
  runnerId?: string;
  concurrency: number;
  pollMs: number;
  heartbeatSeconds: number;
  staleSeconds: number;
  defaultTimeoutSeconds: number;
  cancelGraceSeconds: number;
  outputMaxBytes: number;
  outputFlushMs: number;
  outputBufferMaxBytes: number;
  cwd?: string;
  /** The base environment of jobs' processes (default: config.jobEnv, the allow-listed variables; never process.env). */
  env?: Readonly<Record<string, string>>;
  /** Start the reaper sidecar that kills job process groups if this process dies (default true). */
  reaper?: boolean;
  /**
   * Called once a job's final status is recorded. Not awaited by the job, so it can never delay or
   * change the result; its errors are logged. stop() waits for the calls under way. (The mail to the
   * requester of a failed job is not sent from here: it is queued with the status, see `finish`.)
   */
  onFinished?: (job: Job, outcome: JobOutcome) => Promise<void> | void;
}

/** How a job ended, as recorded in its row. */
export interface JobOutcome {
  status: JobStatusValue;
  exitCode: number | null;
  error: string | null;
}

export function runnerOptionsFromConfig(config: Config, deps: Pick<RunnerOptions, 'sequelize' | 'models' | 'logger' | 'auditor'>): RunnerOptions {
  return {
    ...deps,
    config,
    concurrency: config.JOB_RUNNER_CONCURRENCY,
    pollMs: config.JOB_RUNNER_POLL_MS,
    heartbeatSeconds: config.JOB_HEARTBEAT_SECONDS,
    staleSeconds: config.JOB_STALE_SECONDS,
    defaultTimeoutSeconds: config.JOB_TIMEOUT_SECONDS,
    cancelGraceSeconds: config.JOB_CANCEL_GRACE_SECONDS,
    outputMaxBytes: config.JOB_OUTPUT_MAX_BYTES,
    outputFlushMs: config.JOB_OUTPUT_FLUSH_MS,
    outputBufferMaxBytes: config.JOB_OUTPUT_BUFFER_MAX_BYTES,
    cwd: config.JOB_RUNNER_CWD,
  };
}

interface Active {
  job: Job;
  abort: AbortController;
  pgid?: number;
  endReason?: EndReason;
  done: Promise<void>;
}

export interface RunnerHealth {
  runnerId: string;
  database: 'ok' | 'retrying';
  lastDatabaseError?: string;
  runningJobs: number;
  bufferedOutputBytes: number;
}


/** How long a stopping runner keeps retrying its last writes (job-runner.ts exits after 40 s at most). */
const STOP_WRITE_SECONDS = 30;

/**
 * Claims and runs jobs: `concurrency` at a time, output stored as ordered rows, a heartbeat, recovery
 * of dead runners' jobs, timeouts, cancellation of the whole process group, graceful stop.
 */
export class JobRunner {
  readonly id: string;
  private readonly active = new Map<number, Active>();
  private readonly writers = new Map<number, OutputWriter>();
  private readonly heartbeat: Heartbeat;
  private stopping = false;
  private wakeUp: (() => void) | null = null;
  private loopDone: Promise<void> = Promise.resolve();
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private heartbeatTick: Promise<void> = Promise.resolve();
  /** performance.now() of the last heartbeat the database accepted (a monotonic clock: skew-proof). */
  private lastBeatAt = performance.now();
  private livenessTimer: NodeJS.Timeout | null = null;
  private adopting?: Promise<void>;
  /** A claim failed (its answer may have been lost) or a claimed job was not launched: adoptUnstarted() looks. */
  private unstartedPossible = true;
  /**
   * Every job this runner has started, with when it ended (undefined while running): a job is started
   * at most once even if the claim and adoptUnstarted() both see it. Ended entries are pruned later.
   */
  private readonly launched = new Map<number, number | undefined>();
  private watchTimer: NodeJS.Timeout | null = null;
  private reaper: Reaper | null = null;
  private dbFailing = false;
  private lastDbError?: string;
  private readonly log: Logger;
  private readonly auditor: Auditor;
  private readonly onEnqueued = () => this.nudge();
  /** onFinished calls under way. */
  private readonly notifying = new Set<Promise<void>>();

  constructor(private readonly o: RunnerOptions) {
    this.id = o.runnerId ?? `${os.hostname()}:${process.pid}:${crypto.randomBytes(3).toString('hex')}`;
    this.log = o.logger.child({ runnerId: this.id });
    this.auditor = o.auditor ?? new Auditor(o.models, null);
    // database: the heartbeat opens its own connection, so a busy pool cannot make this runner look dead.
    this.heartbeat = new Heartbeat({
      models: o.models,
      database: o.config?.database,
      runnerId: this.id,
      concurrency: o.concurrency,
      staleSeconds: o.staleSeconds,
      logger: this.log,
      // A dead runner's job is marked failed by whoever notices: its mail goes in that same transaction.
      onFailed: (job, outcome, transaction) => this.queueFailureMail(job, outcome, transaction),
    });
  }

  /** Registers the heartbeat and starts claiming. */
  async start(): Promise<void> {
    if (this.o.reaper !== false) this.reaper = startReaper();
    await this.heartbeat.beat(0);
    jobEvents.on('enqueued', this.onEnqueued);
    this.lastBeatAt = performance.now();
    this.scheduleHeartbeat();
    this.scheduleWatch();
    this.livenessTimer = setInterval(() => this.checkLiveness(), 1000);
    this.loopDone = this.claimLoop();
    this.log.info({ concurrency: this.o.concurrency, pollMs: this.o.pollMs, heartbeatSeconds: this.o.heartbeatSeconds, staleSeconds: this.o.staleSeconds }, 'job runner started');
  }

  /** Wakes the claim loop now (a job was enqueued, or a slot freed up). */
  nudge(): void {
    const wake = this.wakeUp;
    this.wakeUp = null;
    wake?.();
  }

  health(): RunnerHealth {
    let buffered = 0;
    for (const w of this.writers.values()) buffered += w.pendingBytes;
    return {
      runnerId: this.id,
      database: this.dbFailing || [...this.writers.values()].some((w) => w.isFailing) ? 'retrying' : 'ok',
      ...(this.lastDbError && this.dbFailing ? { lastDatabaseError: this.lastDbError } : {}),
      runningJobs: this.active.size,
      bufferedOutputBytes: buffered,
    };
  }

  get runningJobIds(): number[] {
    return [...this.active.keys()];
  }

  /**
   * Stops claiming, cancels the running jobs (their process groups get SIGTERM, then SIGKILL after the
   * grace period), records them as cancelled, and removes the heartbeat row.
   */
  async stop(signal = 'stop'): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    jobEvents.off('enqueued', this.onEnqueued);
    this.nudge();
    await this.loopDone;
    if (this.watchTimer) clearTimeout(this.watchTimer);
    const running = [...this.active.values()];
    if (running.length) this.log.info({ signal, jobs: running.map((a) => a.job.id) }, 'cancelling running jobs');
    for (const a of running) this.end(a, { kind: 'shutdown', signal });
    if (this.livenessTimer) clearInterval(this.livenessTimer);
    await Promise.all(running.map((a) => a.done));
    await Promise.all(this.notifying);
    await this.adopting;
    await this.releaseUnstarted();
    // A tick already under way re-arms itself only while heartbeatTimer is set: clear it for good.
    if (this.heartbeatTimer) clearTimeout(this.heartbeatTimer);
    this.heartbeatTimer = null;
    await this.heartbeatTick;
    await this.heartbeat.deregister().catch((err) => this.log.warn({ err }, 'could not remove the heartbeat row'));
    await this.heartbeat.close().catch((err) => this.log.warn({ err }, 'could not close the heartbeat connection'));
    this.reaper?.close();
    this.log.info('job runner stopped');
  }

  private setDbState(failing: boolean, err?: Error): void {
    if (failing && !this.dbFailing) this.log.error({ err }, 'database unavailable; retrying (running jobs continue, output is buffered)');
    if (!failing && this.dbFailing) this.log.info('database available again');
    this.dbFailing = failing;
    if (err) this.lastDbError = err.message;
  }

  private async claimLoop(): Promise<void> {
    // Runners in other processes announce new jobs through this channel (src/jobs/wake.ts); its
    // wait doubles as the poll for jobs nobody announced (rows inserted by plain SQL). Closed when the
    // loop ends, so stop() needs nothing more than ending the loop.
    const waker = this.o.config ? openJobWaker({ config: this.o.config, models: this.o.models, runnerId: this.id, logger: this.log }) : null;
    // Jitter: runners that lost the database together should not all claim again at the same moment.
    const claimBackoff = new Backoff({ initialMs: Math.min(this.o.pollMs, 500), maxMs: 10_000, jitter: 0.2 });
    // false after a quiet wait: the wait's own poll found nothing pending, so a claim is wasted.
    let claimNext = true;
    let wokenByPending = false;
    try {
      while (!this.stopping) {
        const free = this.o.concurrency - this.active.size;
        let claimed = 0;
        if (free > 0 && claimNext) {
          try {
            const jobs = await claimJobs(this.o.sequelize, this.o.models, this.id, free);
            claimed = jobs.length;
            if (this.stopping) {
              await this.release(jobs);
              break;
            }
            for (const job of jobs) this.launch(job);
            claimBackoff.reset();
            if (this.dbFailing) this.setDbState(false);
          } catch (err) {
            // The claim may have committed with its answer lost: look for such jobs after the next beat.
            this.unstartedPossible = true;
            this.setDbState(true, err as Error);
            await sleep(claimBackoff.next());
            continue;
          }
        }
        if (claimed > 0 && claimed === free) continue;
        // A pending job we could not claim is held by another runner's claim under way: give it
        // a moment to commit instead of asking again at once.
        if (wokenByPending && claimed === 0) await sleep(Math.min(this.o.pollMs, 25));
        // Wait for an in-process nudge (enqueued here, or a slot freed up), an announcement from another
        // process, or the poll. With every slot busy only a freed slot matters: no database wait.
        const result = await new Promise<'nudge' | 'wake' | 'quiet'>((resolve) => {
          const useWaker = waker && free > 0;
          let settled = false;
          const finish = (r: 'nudge' | 'wake' | 'quiet') => {
            if (settled) return;
            settled = true;
            clearTimeout(timer);
            if (this.wakeUp === onNudge) this.wakeUp = null;
            resolve(r);
          };
          const onNudge = () => finish('nudge');
          // With the waker the timer is only a safety net (its wait ends after pollMs by itself).
          const timer = setTimeout(onNudge, useWaker ? this.o.pollMs * 2 + 1000 : this.o.pollMs);
          this.wakeUp = onNudge;
          if (useWaker) void waker.wait(this.o.pollMs).then(finish);
        });
        claimNext = result !== 'quiet';
        wokenByPending = result === 'wake';
      }
    } finally {
      await waker?.close();
    }
  }

  /**
   * Jobs claimed while stopping were never started: give them back (pending again, for another runner).
   * Retried until the stop deadline, so a database hiccup at shutdown does not leave them `running`
   * under a runner that is gone (they would then be failed as a dead runner's jobs, never run).
   */
  private async release(jobs: Job[]): Promise<void> {
    if (!jobs.length) return;
    await this.giveBack({ only: jobs.map((j) => j.id) });
  }

  /** Gives back every job marked running under this runner that it never started (see release()). */
  private async releaseUnstarted(): Promise<void> {
    const started = [...this.launched.keys()];
    await this.giveBack({ except: started });
  }

  private async giveBack(which: { only: number[] } | { except: number[] }): Promise<void> {
    const ids = 'only' in which ? { id: { [Op.in]: which.only } } : which.except.length ? { id: { [Op.notIn]: which.except } } : {};
    const giveUpAt = Date.now() + STOP_WRITE_SECONDS * 1000;
    const backoff = new Backoff({ initialMs: 100, maxMs: 2000 });
    for (;;) {
      try {
        const [n] = await this.o.models.Job.update(
          { status: 'pending', lockedBy: null, lockedAt: null, startedAt: null },
          { where: { ...ids, lockedBy: this.id, status: 'running' } },
        );
        if (n) this.log.info({ jobs: n }, 'unstarted jobs handed back');
        return;
      } catch (err) {
        this.setDbState(true, err as Error);
        if (Date.now() > giveUpAt) {
          this.log.error({ err }, 'could not hand back unstarted jobs; other runners will mark them failed once this runner is seen dead');
          return;
        }
        await sleep(backoff.next());
      }
    }
  }

  /**
   * Starts jobs marked running under this runner that it is not running: a claim whose commit
   * succeeded but whose answer was lost looks failed to us while the rows say they are ours, and
   * nobody else would touch them while our heartbeat is fresh. They never started, so they are run now.
   */
  private async adoptUnstarted(): Promise<void> {
    // Ended jobs are remembered a while so a late duplicate is recognised, then forgotten.
    const forgetBefore = performance.now() - 10 * 60_000;
    for (const [id, endedAt] of this.launched) if (endedAt !== undefined && endedAt < forgetBefore) this.launched.delete(id);
    // Only after a claim that failed or a launch that was put off: an idle runner's statements count.
    if (this.stopping || !this.unstartedPossible) return;
    this.unstartedPossible = false;
    const started = [...this.launched.keys()];
    let orphans: Job[];
    try {
      orphans = await this.o.models.Job.findAll({
        where: { status: 'running', lockedBy: this.id, ...(started.length ? { id: { [Op.notIn]: started } } : {}) },
        order: [['id', 'ASC']],
      });
    } catch (err) {
      this.unstartedPossible = true;
      throw err;
    }
    for (const job of orphans) {
      if (this.stopping) break;
      this.log.warn({ jobId: job.id }, 'found a job claimed by this runner but never started (the claim\'s answer was lost); starting it now');
      this.launch(job);
    }
  }

  /**
   * A runner that could not heartbeat for longer than the dead-runner threshold is being declared dead
   * by the others, who will mark its jobs failed: it stops them itself instead of letting them run on
   * unwatched (their results could no longer be recorded). Measured on this process's monotonic clock.
   */
  private checkLiveness(): void {
    const silentMs = performance.now() - this.lastBeatAt;
    if (silentMs < this.o.staleSeconds * 1000 || !this.active.size) return;
    for (const a of this.active.values()) this.end(a, { kind: 'unreachable', seconds: this.o.staleSeconds });
  }

  private scheduleHeartbeat(delayMs = this.o.heartbeatSeconds * 1000): void {
    this.heartbeatTimer = setTimeout(() => {
      this.heartbeatTick = (async () => {
        let beaten = false;
        try {
          await this.heartbeat.beat(this.active.size);
          this.lastBeatAt = performance.now();
          beaten = true;
          const recovered = await this.heartbeat.recoverStale();
          // A dead runner's job ended too: its requester hears of it as of any failure.
          if (recovered.length && this.o.onFinished) void this.notifyRecovered(recovered);
          // Not awaited: it uses the main pool, and a busy pool must never hold up the next beat.
          this.adopting ??= this.adoptUnstarted()
            .catch((err) => this.setDbState(true, err as Error))
            .finally(() => (this.adopting = undefined));
          if (this.dbFailing) this.setDbState(false);
        } catch (err) {
          this.setDbState(true, err as Error);
        }
        // stop() sets heartbeatTimer to null: a stopped runner never beats or recovers again.
        // A failed beat is retried within a second: the others judge us by heartbeatAt alone.
        if (this.heartbeatTimer) this.scheduleHeartbeat(beaten ? undefined : Math.min(1000, this.o.heartbeatSeconds * 1000));
      })();
    }, delayMs);
  }

  /** Watches our running jobs' rows: cancel requests, and jobs taken away from us. */
  private scheduleWatch(): void {
    this.watchTimer = setTimeout(async () => {
      if (this.active.size) {
        try {
          for (const [id, reason] of await endedJobs(this.o.models, this.id, [...this.active.keys()])) {
            const a = this.active.get(id);
            if (a) this.end(a, reason);
          }
        } catch (err) {
          this.setDbState(true, err as Error);
        }
      }
      if (!this.stopping || this.active.size) this.scheduleWatch();
    }, Math.min(this.o.pollMs, 1000));
  }

  /** Ends a running job early: records why, aborts in-process work, signals the process group. */
  private end(a: Active, reason: EndReason): void {
    if (a.endReason) return;
    a.endReason = reason;
    this.log.info({ jobId: a.job.id, reason }, 'ending job');
    a.abort.abort(new Error(reason.kind));
    if (a.pgid) {
      if (reason.kind === 'lost') signalGroup(a.pgid, 'SIGKILL');
      else void terminateGroup(a.pgid, this.o.cancelGraceSeconds * 1000);
    }
  }

  private launch(job: Job): void {
    if (this.launched.has(job.id)) return;
    // Silent past the threshold, the others may be failing our jobs right now: start it after the next
    // heartbeat instead (adoptUnstarted()).
    if (performance.now() - this.lastBeatAt > this.o.staleSeconds * 1000) {
      this.unstartedPossible = true;
      return;
    }
    this.launched.set(job.id, undefined);
    const a: Active = { job, abort: new AbortController(), done: Promise.resolve() };
    this.active.set(job.id, a);
    a.done = this.run(a)
      .catch((err) => this.log.error({ err, jobId: job.id }, 'job runner error'))
      .finally(() => {
        this.launched.set(job.id, performance.now());
        this.active.delete(job.id);
        this.writers.delete(job.id);
        this.nudge();
      });
  }

  private async run(a: Active): Promise<void> {
    const { job } = a;
    const log = this.log.child({ jobId: job.id });
    const streams: Readable[] = [];
    const writer = new OutputWriter({
      models: this.o.models,
      jobId: job.id,
      logger: log,
      maxBytes: this.o.outputMaxBytes,
      flushMs: this.o.outputFlushMs,
      bufferMaxBytes: this.o.outputBufferMaxBytes,
      owner: this.id,
      onTaken: (message) => this.end(a, { kind: 'lost', message }),
      onPressure: (paused) => streams.forEach((s) => (paused ? s.pause() : s.resume())),
      onDatabaseTrouble: (failing, err) => {
        if (failing) log.error({ err }, 'database unavailable for job output; retrying (the job keeps running, its output is buffered)');
        else log.info('job output stored again');
      },
    });
    this.writers.set(job.id, writer);
    const timeoutSeconds = job.timeoutSeconds ?? this.o.defaultTimeoutSeconds;
    const timer = setTimeout(() => this.end(a, { kind: 'timeout', seconds: timeoutSeconds }), timeoutSeconds * 1000);
    log.info({ task: job.task ?? SHELL_TASK }, 'job started');

    let exitCode: number | null = null;
    let failure: string | null;
    try {
      const { task, params } = resolveTask(job);
      const result =
        task.kind === 'exec'
          ? await runExecTask(task.argv(params), {
              cwd: this.o.cwd,
              env: childEnv(this.o.env ?? this.o.config?.jobEnv ?? {}, task.env?.(params)),
              writer,
              streams,
              reaper: this.reaper,
              graceMs: this.o.cancelGraceSeconds * 1000,
              onStart: (pgid) => {
                a.pgid = pgid;
                return Boolean(a.endReason);
              },
              isEnding: () => Boolean(a.endReason),
            })
          : await runFunctionTask(task, params, a.abort.signal, {
              jobId: job.id,
              signal: a.abort.signal,
              stdout: (t) => writer.write('stdout', t),
              stderr: (t) => writer.write('stderr', t),
              models: this.o.models,
              sequelize: this.o.sequelize,
              config: this.o.config,
              auditor: this.auditor,
              logger: log,
            });
      exitCode = result.exitCode;
      failure = result.failure;
    } catch (err) {
      failure = (err as Error).message;
      if (!a.endReason) writer.system(`[error: ${failure}]`);
    } finally {
      clearTimeout(timer);
    }

    const reason = a.endReason;
    if (reason?.kind === 'lost') {
      await writer.close(this.o.staleSeconds * 1000).catch(() => {});
      log.warn({ reason: reason.message }, 'job was taken away from this runner; its process group was killed');
      return;
    }
    const { status, error } = finalStatus(reason, failure);
    if (reason) writer.system(`[${status}: ${error}]`);

    // On shutdown the stop timeout bounds how long we may retry; otherwise keep trying until the
    // database is back (the output is still in memory).
    const deadline = this.stopping ? Math.max(5, STOP_WRITE_SECONDS - this.o.cancelGraceSeconds) * 1000 : Infinity;
    await writer.close(deadline);
    if (await this.finish(job, { status, exitCode, error }, deadline, log)) this.notifyFinished(job, { status, exitCode, error }, log);
  }

  /** The onFinished hook for jobs this runner marked failed because their runner died (never fails the beat). */
  private async notifyRecovered(ids: number[]): Promise<void> {
    try {
      for (const job of await this.o.models.Job.findAll({ where: { id: ids, status: 'failure' } })) {
        this.notifyFinished(job, { status: 'failure', exitCode: null, error: job.error }, this.log.child({ jobId: job.id }));
      }
    } catch (err) {
      this.log.error({ err }, 'could not load the recovered jobs for their finished hook');
    }
  }

  /** Runs the onFinished hook in the background: the job's slot is free and its result stands whatever it does. */
  private notifyFinished(job: Job, outcome: JobOutcome, log: Logger): void {
    const hook = this.o.onFinished;
    if (!hook) return;
    const call: Promise<void> = Promise.resolve()
      .then(() => hook(job, outcome))
      .catch((err) => log.error({ err }, 'job finished hook failed'))
      .finally(() => this.notifying.delete(call));
    this.notifying.add(call);
  }

  /** Queues the requester's mail for a failed job in `transaction` (needs the config: the outbox seals its data). */
  private async queueFailureMail(job: Pick<Job, 'id' | 'command' | 'createdBy'>, outcome: JobOutcome, transaction: Transaction): Promise<void> {
    if (!this.o.config || outcome.status !== 'failure' || !job.createdBy) return;
    await queueJobFailureMail({ models: this.o.models, config: this.o.config, logger: this.log }, job, outcome, transaction);
  }

  /**
   * The fenced final write: only if the job is still running and still ours. True when it was recorded.
   * A failure's mail is queued in the same transaction: the status and its mail commit together.
   */
  private async finish(job: Job, values: JobOutcome, deadlineMs: number, log: Logger): Promise<boolean> {
    const jobId = job.id;
    const giveUpAt = Date.now() + deadlineMs;
    const backoff = new Backoff({ initialMs: 100, maxMs: 5000 });
    for (;;) {
      try {
        const n = await this.o.sequelize.transaction(async (transaction) => {
          const [updated] = await this.o.models.Job.update(
            { ...values, finishedAt: databaseNow(this.o.sequelize) },
            { where: { id: jobId, lockedBy: this.id, status: 'running' }, transaction },
          );
          if (updated) await this.queueFailureMail(job, values, transaction);
          return updated;
        });
        if (n) log.info({ status: values.status, exitCode: values.exitCode, error: values.error }, 'job finished');
        else log.warn({ status: values.status }, 'job was no longer ours when it finished; its result is not recorded');
        return n > 0;
      } catch (err) {
        this.setDbState(true, err as Error);
        if (Date.now() > giveUpAt) throw err;
        await sleep(backoff.next());
      }
    }
  }
}
