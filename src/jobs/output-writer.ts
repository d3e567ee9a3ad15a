// Hand-written SQL (allow-listed in eslint.config.js): the fenced insert on SQLite is one
// INSERT … SELECT … WHERE EXISTS (the job is still ours), which Sequelize's bulkCreate cannot guard.
import { Op, QueryTypes, UniqueConstraintError } from 'sequelize';
import type { Models } from '../../models/index.js';
import type { OutputStream } from '../../models/JobOutput.js';
import type { Logger } from '../lib/logger.js';
import { Backoff, sleep } from '../lib/retry.js';
import { charBoundary } from './line-splitter.js';

interface Row {
  jobId: number;
  seq: number;
  stream: OutputStream;
  output: string;
}

export interface OutputWriterOptions {
  models: Models;
  jobId: number;
  logger: Logger;
  /** Output stored per job; beyond it one truncation marker, then nothing. */
  maxBytes: number;
  /** A batch is written at least this often… */
  flushMs: number;
  /** …or as soon as this much is waiting. */
  batchBytes?: number;
  /** Above this much unwritten output (the database is slow or away), `onPressure(true)`. */
  bufferMaxBytes: number;
  /** Called with true to ask the producer to pause, false to resume. */
  onPressure?(paused: boolean): void;
  /** Called when writes start failing (true) and when they succeed again (false). */
  onDatabaseTrouble?(failing: boolean, err?: Error): void;
  /** Sequence of the last row already stored for the job (0 for a fresh job). */
  startSeq?: number;
  /**
   * The runner that holds the job. When set, every batch is stored only while the job is still
   * `running` under this runner (checked in the batch's transaction), like the finishing write: a
   * runner cut off past the dead-runner threshold whose job was failed by another runner writes
   * nothing after that runner's note.
   */
  owner?: string;
  /** Called once when a fenced write finds the job no longer ours; nothing more is stored after it. */
  onTaken?(message: string): void;
}

/** Rows per fenced INSERT statement on SQLite (see OutputWriter.store). */
const FENCED_SLICE_ROWS = 100;

/** The job is no longer running under the writer's runner (another runner recovered it). */
class JobTakenError extends Error {}

/**
 * A job's output as ordered JobStatuses rows. Text arrives per stream (already split on lines);
 * consecutive text of one stream is merged into one row, rows get consecutive `seq` numbers, and
 * batches are written one INSERT at a time, awaited, in order. A failed batch is retried with backoff
 * (same rows, same seqs: if an earlier attempt did commit, the unique (jobId, seq) index tells us and
 * the stored rows are dropped from the retry), so the output survives the database going away.
 */
export class OutputWriter {
  private queue: Array<{ stream: OutputStream; text: string }> = [];
  private queuedBytes = 0;
  private batch: Row[] | null = null;
  private batchBytes = 0;
  private seq: number;
  private storedBytes = 0;
  private truncated = false;
  private droppedBytes = 0;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private paused = false;
  private failing = false;
  private closed = false;
  private giveUpAt = Infinity;
  private takenMessage: string | null = null;
  private readonly maxBatchBytes: number;

  constructor(private readonly o: OutputWriterOptions) {
    this.seq = o.startSeq ?? 0;
    this.maxBatchBytes = o.batchBytes ?? 64 * 1024;
  }

  /** Bytes not yet stored (queued or being written). */
  get pendingBytes(): number {
    return this.queuedBytes + this.batchBytes;
  }

  /** True while batches fail to be stored (the database is away). */
  get isFailing(): boolean {
    return this.failing;
  }

  get lastSeq(): number {
    return this.seq;
  }

  /** Why nothing more is stored: the job was taken from this runner (null while it is ours). */
  get taken(): string | null {
    return this.takenMessage;
  }

  /** Bytes the job printed that were not stored: past the cap, or after the job was taken from us. */
  get unstoredBytes(): number {
    return this.droppedBytes;
  }

  /** Appends output text of `stream`; it counts against the job's cap. */
  write(stream: 'stdout' | 'stderr', text: string): void {
    if (!text) return;
    if (this.truncated || this.takenMessage !== null) {
      this.droppedBytes += Buffer.byteLength(text);
      return;
    }
    let bytes = Buffer.byteLength(text);
    if (this.storedBytes + bytes > this.o.maxBytes) {
      const room = this.o.maxBytes - this.storedBytes;
      const buf = Buffer.from(text);
      const cut = room > 0 ? charBoundary(buf, room) : 0;
      const kept = cut > 0 && cut <= room ? buf.subarray(0, cut).toString() : '';
      this.droppedBytes += bytes - Buffer.byteLength(kept);
      text = kept;
      bytes = Buffer.byteLength(kept);
      this.truncated = true;
      if (text) this.enqueue(stream, text, bytes);
      this.system(`[output truncated: this job printed more than ${this.o.maxBytes} bytes (JOB_OUTPUT_MAX_BYTES); the rest is not stored]\n`);
      return;
    }
    this.enqueue(stream, text, bytes);
  }

  /** A line from Berth itself (timeouts, cancellations, errors); not counted against the cap. */
  system(text: string): void {
    this.enqueue('system', text.endsWith('\n') ? text : `${text}\n`, 0);
  }

  private enqueue(stream: OutputStream, text: string, countedBytes: number): void {
    const bytes = Buffer.byteLength(text);
    if (this.takenMessage !== null) return;
    this.storedBytes += countedBytes;
    this.queue.push({ stream, text });
    this.queuedBytes += bytes;
    if (!this.paused && this.pendingBytes > this.o.bufferMaxBytes) {
      this.paused = true;
      this.o.onPressure?.(true);
    }
    this.kick();
  }

  private kick(): void {
    if (this.running) return;
    if (this.queuedBytes >= this.maxBatchBytes || this.closed) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = null;
      this.running = this.drain().finally(() => {
        this.running = null;
        if (this.queue.length || this.batch) this.kick();
      });
    } else if (!this.timer && this.queue.length) {
      this.timer = setTimeout(() => {
        this.timer = null;
        if (!this.running) {
          this.running = this.drain().finally(() => {
            this.running = null;
            if (this.queue.length || this.batch) this.kick();
          });
        }
      }, this.o.flushMs);
    }
  }

  /** Seals queued text into rows (merging one stream's consecutive text, ≤ ~64 KiB per row). */
  private seal(): void {
    const rows: Row[] = [];
    let bytes = 0;
    while (this.queue.length && bytes < 4 * this.maxBatchBytes) {
      const seg = this.queue.shift()!;
      const segBytes = Buffer.byteLength(seg.text);
      this.queuedBytes -= segBytes;
      bytes += segBytes;
      const last = rows[rows.length - 1];
      if (last && last.stream === seg.stream && last.output.length + seg.text.length <= this.maxBatchBytes) last.output += seg.text;
      else rows.push({ jobId: this.o.jobId, seq: ++this.seq, stream: seg.stream, output: seg.text });
    }
    this.batch = rows;
    this.batchBytes = bytes;
  }

  private async drain(): Promise<void> {
    const backoff = new Backoff({ initialMs: 100, maxMs: 5000 });
    for (;;) {
      if (!this.batch) {
        if (!this.queue.length) break;
        this.seal();
      }
      try {
        await this.store(this.batch!);
        this.batch = null;
        this.batchBytes = 0;
        backoff.reset();
        if (this.failing) {
          this.failing = false;
          this.o.onDatabaseTrouble?.(false);
        }
        if (this.paused && this.pendingBytes < this.o.bufferMaxBytes / 2) {
          this.paused = false;
          this.o.onPressure?.(false);
        }
        // Between batches, let more output gather unless enough is waiting already.
        if (!this.closed && this.queuedBytes < this.maxBatchBytes) break;
      } catch (err) {
        if (err instanceof JobTakenError) return this.giveUp(err.message);
        // A unique-index violation or a lost answer: some rows may be stored already.
        let stored: boolean;
        try {
          stored = await this.alreadyStored();
        } catch (check) {
          if (check instanceof JobTakenError) return this.giveUp(check.message);
          stored = false;
        }
        if (stored) continue;
        if (err instanceof UniqueConstraintError) this.o.logger.warn({ jobId: this.o.jobId }, 'job output seq already taken');
        if (!this.failing) {
          this.failing = true;
          this.o.onDatabaseTrouble?.(true, err as Error);
        }
        if (Date.now() > this.giveUpAt) throw err;
        const delay = backoff.next();
        this.o.logger.warn({ err, jobId: this.o.jobId, retryInMs: delay }, 'storing job output failed; retrying');
        await sleep(delay);
      }
    }
  }

  /**
   * Inserts one batch; with an owner, only while the job is still running under it, so a recovering
   * runner's UPDATE either waits for the batch or the batch sees its result:
   * - MariaDB: a transaction that reads the Jobs row with a shared lock, then inserts the rows.
   * - SQLite: one INSERT … SELECT … WHERE EXISTS statement (hand-written: Sequelize has no conditional
   *   multi-row insert), atomic under SQLite's single write lock. A transaction would cost a new
   *   connection and the write lock per batch, which busy runners on one file cannot afford. (On
   *   MariaDB the same statement materialises the rows in an on-disk temporary table: too slow.)
   *   Long batches go in slices, each fenced on its own, far below SQLite's compound-SELECT limit.
   */
  private async store(rows: Row[]): Promise<void> {
    const { models, owner, jobId } = this.o;
    if (!owner) {
      await models.JobOutput.bulkCreate(rows);
      return;
    }
    const sequelize = models.Job.sequelize!;
    if (sequelize.getDialect() !== 'sqlite') {
      await sequelize.transaction(async (transaction) => {
        const held = await models.Job.findOne({ attributes: ['id'], where: this.stillOurs(), lock: transaction.LOCK.SHARE, transaction });
        if (!held) throw new JobTakenError(await this.takenReason());
        await models.JobOutput.bulkCreate(rows, { transaction });
      });
      return;
    }
    const now = new Date();
    for (let i = 0; i < rows.length; i += FENCED_SLICE_ROWS) {
      const slice = rows.slice(i, i + FENCED_SLICE_ROWS);
      const values = slice.map(() => 'SELECT ?, ?, ?, ?, ?, ?').join(' UNION ALL ');
      const [, inserted] = await sequelize.query(
        `INSERT INTO JobStatuses (jobId, seq, stream, output, createdAt, updatedAt) SELECT * FROM (${values}) ` +
          "WHERE EXISTS (SELECT 1 FROM Jobs WHERE id = ? AND lockedBy = ? AND status = 'running')",
        { replacements: [...slice.flatMap((r) => [r.jobId, r.seq, r.stream, r.output, now, now]), jobId, owner], type: QueryTypes.INSERT },
      );
      if (Number(inserted) < slice.length) throw new JobTakenError(await this.takenReason());
    }
  }

  /** The job's row while it is still running under this writer's runner (the fence). */
  private stillOurs() {
    return { id: this.o.jobId, lockedBy: this.o.owner ?? null, status: 'running' as const };
  }

  private async takenReason(): Promise<string> {
    const job = await this.o.models.Job.findByPk(this.o.jobId, { attributes: ['id', 'status', 'lockedBy', 'error'] });
    if (!job) return 'the job row was deleted';
    return `the job is now ${job.status}${job.lockedBy !== this.o.owner ? ` under ${job.lockedBy ?? 'no runner'}` : ''} (${job.error ?? 'no reason given'})`;
  }

  /**
   * After a failed or ambiguous INSERT (the commit may have happened with its answer lost): drops the
   * rows of the current batch that are in fact stored. True when the batch turned out fully stored.
   * With an owner, the job must still be ours: then only this runner can have written its rows, so a
   * stored seq is one of ours. (Without that check a row someone else wrote at our seq, such as a
   * recovering runner's note, would be taken for ours and our lines dropped.) Throws JobTakenError.
   */
  private async alreadyStored(): Promise<boolean> {
    if (!this.batch) return true;
    const { models, owner, jobId } = this.o;
    if (owner) {
      const held = await models.Job.count({ where: this.stillOurs() });
      if (!held) throw new JobTakenError(await this.takenReason());
    }
    const first = this.batch[0].seq;
    const last = this.batch[this.batch.length - 1].seq;
    const stored = new Set(
      (await models.JobOutput.findAll({ attributes: ['seq'], where: { jobId, seq: { [Op.between]: [first, last] } }, raw: true })).map((r) => Number(r.seq)),
    );
    if (!stored.size) return false;
    this.batch = this.batch.filter((r) => !stored.has(r.seq));
    if (!this.batch.length) {
      this.batch = null;
      this.batchBytes = 0;
    }
    return true;
  }

  /** The job was taken from this runner: drop what is buffered, store nothing more, tell the runner. */
  private giveUp(message: string): void {
    if (this.takenMessage !== null) return;
    this.takenMessage = message;
    const unstored = this.pendingBytes;
    this.droppedBytes += unstored;
    this.queue = [];
    this.queuedBytes = 0;
    this.batch = null;
    this.batchBytes = 0;
    if (this.failing) {
      this.failing = false;
      this.o.onDatabaseTrouble?.(false);
    }
    if (this.paused) {
      this.paused = false;
      this.o.onPressure?.(false);
    }
    this.o.logger.warn({ jobId: this.o.jobId, reason: message, unstoredBytes: unstored }, 'job was taken from this runner; its output is no longer stored');
    this.o.onTaken?.(message);
  }

  /**
   * Stores everything still buffered. Retries until it succeeds, or until `deadlineMs` from now
   * has passed (shutdown), then throws.
   */
  async close(deadlineMs = Infinity): Promise<void> {
    this.closed = true;
    this.giveUpAt = Date.now() + deadlineMs;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    while (this.running || this.queue.length || this.batch) {
      if (this.running) await this.running.catch(() => {});
      else if (this.queue.length || this.batch) {
        this.running = this.drain().finally(() => (this.running = null));
        await this.running;
      }
      if (Date.now() > this.giveUpAt && (this.queue.length || this.batch)) throw new Error('job output could not be stored before the deadline');
    }
  }
}
