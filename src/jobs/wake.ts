// Hand-written SQL (allow-listed in eslint.config.js): the MariaDB wake-up wait is a server-side SLEEP
// that another process ends with KILL QUERY, found through SHOW PROCESSLIST; none has a Sequelize form.
import fs from 'node:fs';
import path from 'node:path';
import { QueryTypes, type Sequelize } from 'sequelize';
import type { Config } from '../../config/index.js';
import type { Models } from '../../models/index.js';
import { createSequelize } from '../lib/db/connect.js';
import type { Logger } from '../lib/logger.js';
import { sleep } from '../lib/retry.js';

/**
 * Cross-process wake-up of job runners (docs/jobs.md, "Claim").
 *
 * A runner in its own process used to learn of a new job only at its next claim poll. Now enqueueJob
 * announces the job after it commits (announceJobs) and every runner listening (JobWaker) claims at
 * once. The announcement is only a hint: a lost one costs a poll period, never a job, because the
 * fallback poll still runs (rows inserted by plain SQL are never announced).
 *
 * MariaDB: each runner keeps one dedicated connection that runs the wait statement
 *   SELECT /* berth-wake … *\/ IF(EXISTS(pending job), 'pending', IF(SLEEP(poll seconds) = 0, 'slept', 'woken')) 
 * The server sleeps for the runner; the EXISTS doubles as the fallback poll, so an idle runner sends
 * one cheap statement per poll period instead of a claim transaction. To announce, the enqueuer finds
 * those statements in SHOW PROCESSLIST (a user always sees its own threads; filtered on this
 * database, so other Berth instances and scratch databases on the same server are left alone) and
 * ends them with KILL QUERY (allowed on one's own threads without extra privileges). Looking the
 * statements up at each announcement instead of storing connection ids means no id can be stale: a
 * dead runner's id reused by another connection is never killed. A wake that arrives while the runner
 * is between two wait statements is not lost: the next statement's EXISTS sees the committed job.
 *
 * SQLite: runners share the host with the database file. The enqueuer rewrites a small file next to
 * it (`<database>.wake`); runners fs.watch that file (inotify on Linux). A wake that arrives while the
 * runner is busy is remembered until its next wait.
 */

/** Marks the wait statement in PROCESSLIST; the runner's id follows, so a runner can end its own. */
const WAIT_MARKER = 'berth-wake';
/** SQL error for a statement ended by KILL QUERY: the wait was interrupted, i.e. woken. */
const ER_QUERY_INTERRUPTED = 1317;
/** A failing wait channel is retried after this long; meanwhile the runner polls as before. */
const RETRY_AFTER_MS = 5000;
/**
 * The longest server-side sleep: well under DB_QUERY_TIMEOUT_SECONDS (max_statement_time), which would
 * otherwise end it as an error. A longer poll period is several waits in a row.
 */
const MAX_SLEEP_MS = 10_000;
/** How long a closing waker waits for its statement and connection before leaving them. */
const CLOSE_TIMEOUT_MS = 2000;

/** Why a wait ended: `wake` (announced, or a pending job exists: claim now) or `quiet` (nothing to claim). */
export type WaitResult = 'wake' | 'quiet';

export interface JobWaker {
  /**
   * Waits up to `ms` for an announcement. Resolves `wake` when there may be a job to claim (an
   * announcement, a pending job seen by the fallback poll, or the channel is broken and a claim is the
   * safe answer) and `quiet` when the poll period passed with nothing pending.
   */
  wait(ms: number): Promise<WaitResult>;
  close(): Promise<void>;
}

export interface JobWakerOptions {
  config: Config;
  models: Models;
  runnerId: string;
  logger: Logger;
}

/** Opens the wake channel of a runner: a dedicated MariaDB connection, or a watched file for SQLite. */
export function openJobWaker(o: JobWakerOptions): JobWaker | null {
  if (o.config.database.dialect === 'sqlite') {
    const file = wakeFile(o.config.database.storage);
    return file ? new FileWaker(file, o.models, o.logger) : null;
  }
  return new StatementWaker(o.config, o.models, o.runnerId, o.logger);
}

/** A runner id as it may appear inside an SQL comment (ids are host:pid:hex; a hostname is not trusted). */
const commentSafe = (s: string) => s.replace(/[^A-Za-z0-9:._-]/g, '_');

class StatementWaker implements JobWaker {
  /** Its own pool of one: the wait statement must never hold up, or be held up by, the runner's queries. */
  private readonly db: Sequelize;
  private readonly marker: string;
  private inFlight: Promise<WaitResult> | null = null;
  private brokenUntil = 0;
  private failing = false;
  private closed = false;
  /** The longest sleep: MAX_SLEEP_MS, or half the statement time limit (DB_QUERY_TIMEOUT_SECONDS) if lower. */
  private readonly maxSleepMs: number;

  constructor(config: Config, private readonly models: Models, runnerId: string, private readonly logger: Logger) {
    this.db = createSequelize(config.database, { poolMax: 1, logger });
    this.marker = `${WAIT_MARKER} ${commentSafe(runnerId)}`;
    const limitSeconds = (config.database as { queryTimeoutSeconds?: number }).queryTimeoutSeconds;
    this.maxSleepMs = limitSeconds ? Math.min(MAX_SLEEP_MS, (limitSeconds * 1000) / 2) : MAX_SLEEP_MS;
  }

  wait(ms: number): Promise<WaitResult> {
    if (this.closed) return Promise.resolve('wake');
    if (Date.now() < this.brokenUntil) return sleep(ms).then(() => 'wake');
    // Only one wait statement at a time: a runner nudged in-process comes back here while the previous
    // statement still sleeps, and simply waits on it again.
    this.inFlight ??= this.waitStatement(ms).finally(() => (this.inFlight = null));
    return this.inFlight;
  }

  private async waitStatement(ms: number): Promise<WaitResult> {
    try {
      // Hand-written: a server-side sleep that a KILL QUERY from another process can end has no
      // Sequelize form. The EXISTS is the fallback poll (jobs inserted by plain SQL are never announced).
      // SLEEP() returns 0 when it ran its course and 1 when interrupted (MySQL; MariaDB raises
      // ER_QUERY_INTERRUPTED instead).
      const [row] = await this.db.query<{ outcome: string }>(
        `SELECT /* ${this.marker} */ IF(EXISTS(SELECT 1 FROM Jobs WHERE status = 'pending'), 'pending', IF(SLEEP(?) = 0, 'slept', 'woken')) AS outcome`,
        { replacements: [Math.min(ms, this.maxSleepMs) / 1000], type: QueryTypes.SELECT },
      );
      if (this.failing) this.logger.info('job wake-up channel working again');
      this.failing = false;
      return row?.outcome === 'slept' ? 'quiet' : 'wake';
    } catch (err) {
      if ((err as { parent?: { errno?: number } }).parent?.errno === ER_QUERY_INTERRUPTED) return 'wake';
      if (this.closed) return 'wake';
      // Database trouble: the claim loop handles it too; poll by timer until the channel is back.
      if (!this.failing) this.logger.warn({ err }, 'job wake-up channel failed; polling until it is back');
      this.failing = true;
      this.brokenUntil = Date.now() + RETRY_AFTER_MS;
      return 'wake';
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const inFlight = this.inFlight;
    if (inFlight) {
      // End our own sleeping statement rather than wait out its poll period.
      // Through the runner's own pool: our single connection is the one sleeping.
      if (this.models.Job.sequelize) await withTimeout(killWaitStatements(this.models.Job.sequelize, this.marker), CLOSE_TIMEOUT_MS);
      await withTimeout(inFlight, CLOSE_TIMEOUT_MS);
    }
    // Bounded: a connection silently cut off must not hold up the runner's stop.
    await withTimeout(this.db.close(), CLOSE_TIMEOUT_MS);
  }
}

class FileWaker implements JobWaker {
  private watcher: fs.FSWatcher | null = null;
  private signalled = false;
  private waiting: (() => void) | null = null;
  private inFlight: Promise<WaitResult> | null = null;
  private closed = false;

  constructor(private readonly file: string, private readonly models: Models, private readonly logger: Logger) {
    this.watch();
  }

  private watch(): void {
    if (this.closed) return;
    try {
      // The file must exist to be watched; creating it is harmless if an enqueuer just did.
      fs.closeSync(fs.openSync(this.file, 'a'));
      this.watcher = fs.watch(this.file, { persistent: false }, (event) => {
        this.signal();
        // Replaced or removed (an editor, a cleanup): watch the new file.
        if (event === 'rename') {
          this.watcher?.close();
          this.watcher = null;
          setTimeout(() => this.watch(), 50).unref();
        }
      });
      this.watcher.on('error', () => {
        this.watcher?.close();
        this.watcher = null;
      });
    } catch (err) {
      this.logger.warn({ err, file: this.file }, 'cannot watch the job wake-up file; polling only');
    }
  }

  private signal(): void {
    this.signalled = true;
    const w = this.waiting;
    this.waiting = null;
    w?.();
  }

  wait(ms: number): Promise<WaitResult> {
    // One wait at a time, as for the statement waker: a runner nudged in-process waits on it again.
    this.inFlight ??= this.waitOnce(ms).finally(() => (this.inFlight = null));
    return this.inFlight;
  }

  private async waitOnce(ms: number): Promise<WaitResult> {
    if (!this.signalled && !this.closed) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          this.waiting = null;
          resolve();
        }, ms);
        this.waiting = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    if (this.signalled || this.closed) {
      this.signalled = false;
      return 'wake';
    }
    if (!this.watcher) this.watch();
    // The fallback poll: a plain read is cheaper than the claim's write transaction.
    try {
      return (await this.models.Job.findOne({ attributes: ['id'], where: { status: 'pending' } })) ? 'wake' : 'quiet';
    } catch {
      return 'wake';
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.watcher?.close();
    this.watcher = null;
    this.signal();
  }
}

/** Waits for `p`, but no longer than `ms` (its outcome is then ignored). */
async function withTimeout(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p.catch(() => {}), new Promise<void>((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
}

/** The wake file of an SQLite database (none for an in-memory one: only in-process runners can see it). */
function wakeFile(storage: string | undefined): string | null {
  if (!storage || storage === ':memory:' || storage.startsWith('file:')) return null;
  return `${path.resolve(storage)}.wake`;
}

/** Ends the wait statements on this database whose text starts with `marker`; returns how many. */
async function killWaitStatements(db: Sequelize, marker: string): Promise<number> {
  // Hand-written: the process list and KILL QUERY have no Sequelize form. SHOW PROCESSLIST rather than
  // information_schema.PROCESSLIST: the latter builds a temporary table for its long INFO column on
  // every read. Its Info is cut at 100 characters, which keeps the marker.
  const threads = await db.query<{ Id: number | string; db: string | null; Command: string; Info: string | null }>('SHOW PROCESSLIST', { type: QueryTypes.SELECT });
  const database = db.config.database;
  const prefix = `SELECT /* ${marker}`;
  let killed = 0;
  for (const t of threads) {
    if (t.db !== database || t.Command !== 'Query' || !t.Info?.startsWith(prefix)) continue;
    try {
      await db.query('KILL QUERY ?', { replacements: [Number(t.Id)] });
      killed++;
    } catch (err) {
      // 1094: the statement ended meanwhile (the runner is awake anyway). Anything else (a server that
      // refuses KILL) is reported by the caller.
      if ((err as { parent?: { errno?: number } }).parent?.errno !== 1094) throw err;
    }
  }
  return killed;
}

interface AnnounceState {
  running: Promise<void> | null;
  again: boolean;
  warned: boolean;
}
const announceState = new WeakMap<Sequelize, AnnounceState>();

/**
 * Tells the job runners of this database that a job was committed. Never throws and is not awaited
 * by callers: a failed announcement only leaves the job to the runners' fallback poll (warned once per
 * process). Announcements made while one is under way are coalesced into one more round.
 */
export function announceJobs(sequelize: Sequelize): Promise<void> {
  let state = announceState.get(sequelize);
  if (!state) announceState.set(sequelize, (state = { running: null, again: false, warned: false }));
  const s = state;
  if (s.running) {
    s.again = true;
    return s.running;
  }
  const round = async (): Promise<void> => {
    do {
      s.again = false;
      try {
        await announceOnce(sequelize);
      } catch (err) {
        if (!s.warned) {
          s.warned = true;
          process.emitWarning(`Berth could not wake the job runners (they will find new jobs at their next poll): ${(err as Error).message}`);
        }
      }
    } while (s.again);
  };
  s.running = round().finally(() => (s.running = null));
  return s.running;
}

async function announceOnce(sequelize: Sequelize): Promise<void> {
  if (sequelize.getDialect() === 'sqlite') {
    const file = wakeFile((sequelize as unknown as { options: { storage?: string } }).options.storage);
    if (!file) return;
    // A new timestamp is one inotify event (a rewrite would be two: truncate, then write).
    const now = new Date();
    await fs.promises.utimes(file, now, now).catch((err: NodeJS.ErrnoException) => {
      // No runner has created the file yet: nobody to wake.
      if (err.code !== 'ENOENT') throw err;
    });
    return;
  }
  await killWaitStatements(sequelize, WAIT_MARKER);
}
