import { UniqueConstraintError } from 'sequelize';
import type { Models } from '../../models/index.js';
import type { OutputStream } from '../../models/JobStatus.js';
import type { Logger } from '../lib/logger.js';

const NEWLINE = 0x0a;
const decoder = new TextDecoder('utf-8', { fatal: false });

/** Text as stored: invalid UTF-8 became U+FFFD in decoding; NUL (which some drivers cut at) too. */
function clean(text: string): string {
  return text.includes('\u0000') ? text.replaceAll('\u0000', '\uFFFD') : text;
}

/** The largest cut ≤ `at` that does not split a UTF-8 sequence in `buf`. */
function charBoundary(buf: Buffer, at: number): number {
  let cut = Math.min(at, buf.length);
  while (cut > 0 && cut < buf.length && (buf[cut] & 0xc0) === 0x80) cut--;
  return cut || at;
}

/**
 * Splits a byte stream into text made of whole lines: `push` emits every complete line received so
 * far (several at once, as one string), keeping a partial last line until its newline arrives or
 * `end()` is called. A line longer than `maxLineBytes` is emitted in pieces (cut on a character
 * boundary) so a stream without newlines cannot grow memory. Decoding happens on whole lines, so a
 * multi-byte character split across chunks survives; invalid bytes become U+FFFD.
 */
export class LineSplitter {
  private partial: Buffer[] = [];
  private partialBytes = 0;

  constructor(private readonly emit: (text: string) => void, private readonly maxLineBytes = 64 * 1024) {}

  push(chunk: Buffer): void {
    const last = chunk.lastIndexOf(NEWLINE);
    if (last >= 0) {
      const complete = chunk.subarray(0, last + 1);
      const block = this.partialBytes ? Buffer.concat([...this.partial, complete]) : complete;
      this.partial = [];
      this.partialBytes = 0;
      this.emit(clean(decoder.decode(block)));
      chunk = chunk.subarray(last + 1);
    }
    if (chunk.length) {
      this.partial.push(chunk);
      this.partialBytes += chunk.length;
    }
    while (this.partialBytes >= this.maxLineBytes) {
      const buf = Buffer.concat(this.partial);
      const cut = charBoundary(buf, this.maxLineBytes);
      this.emit(clean(decoder.decode(buf.subarray(0, cut))));
      const rest = buf.subarray(cut);
      this.partial = rest.length ? [rest] : [];
      this.partialBytes = rest.length;
    }
  }

  /** Emits the partial last line, if any (stored without a newline). */
  end(): void {
    if (!this.partialBytes) return;
    const buf = Buffer.concat(this.partial);
    this.partial = [];
    this.partialBytes = 0;
    this.emit(clean(decoder.decode(buf)));
  }
}

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
}

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

  /** Appends output text of `stream`; it counts against the job's cap. */
  write(stream: 'stdout' | 'stderr', text: string): void {
    if (!text) return;
    if (this.truncated) {
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
    let delay = 100;
    for (;;) {
      if (!this.batch) {
        if (!this.queue.length) break;
        this.seal();
      }
      try {
        await this.o.models.JobStatus.bulkCreate(this.batch!);
        this.batch = null;
        this.batchBytes = 0;
        delay = 100;
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
        // A unique-index violation or a lost answer: some rows may be stored already.
        if (await this.alreadyStored()) continue;
        if (err instanceof UniqueConstraintError) this.o.logger.warn({ jobId: this.o.jobId }, 'job output seq already taken');
        if (!this.failing) {
          this.failing = true;
          this.o.onDatabaseTrouble?.(true, err as Error);
        }
        if (Date.now() > this.giveUpAt) throw err;
        this.o.logger.warn({ err, jobId: this.o.jobId, retryInMs: delay }, 'storing job output failed; retrying');
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, 5000);
      }
    }
  }

  /**
   * After a failed or ambiguous INSERT: drops the rows of the current batch that are in fact stored
   * (the commit happened but its answer was lost). True when the batch turned out fully stored.
   */
  private async alreadyStored(): Promise<boolean> {
    if (!this.batch) return true;
    try {
      const max = (await this.o.models.JobStatus.max<number, any>('seq', { where: { jobId: this.o.jobId } })) ?? 0;
      if (max >= this.batch[0].seq) {
        this.batch = this.batch.filter((r) => r.seq > max);
        if (!this.batch.length) {
          this.batch = null;
          this.batchBytes = 0;
        }
        return true;
      }
    } catch {
      /* the database is still away: retry the whole batch later */
    }
    return false;
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
