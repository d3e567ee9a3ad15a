import { Op } from 'sequelize';
import { isFinalJobStatus } from '../../models/Job.js';
import type { Models } from '../../models/index.js';
import { Backoff } from '../lib/retry.js';
import type { Logger } from '../lib/logger.js';

export interface FeedRow {
  seq: number;
  stream: string;
  output: string;
}

export interface FeedJobState {
  status: string;
  exitCode: number | null;
  error: string | null;
  startedAt: Date | null;
  finishedAt: Date | null;
}

export interface FeedListener {
  /** New rows, in seq order. */
  rows(rows: FeedRow[]): void;
  /**
   * The feed starts following after seq `lastSeq` (the newest row when it started): a viewer whose
   * cursor is behind reads the rows up to there from the database itself.
   */
  tip(lastSeq: number): void;
  /** The job's status changed (pending → running, …). */
  status(state: FeedJobState): void;
  /** The job is finished and every row up to `lastSeq` has been emitted. */
  end(state: FeedJobState, lastSeq: number): void;
}

const PAGE = 1000;
/** How long after a job's last line the feed keeps polling at the quick rate. */
const HOT_MS = 2000;
/** While the job runs and prints, its state is read this often (an ended job is noticed this late at most). */
const STATE_EVERY_MS = 200;

/**
 * One database poll per job at a time, shared by every viewer of that job in this process: the feed
 * reads the job's state and its rows past the last seq it has seen, and fans them out. It starts with
 * the first viewer and stops with the last (or when the job ends). Viewers replay older rows
 * themselves and fill any gap from the database (src/routes/stream.ts), so the feed only follows.
 *
 * The poll is quick (`pollMs`) while the job prints, and for HOT_MS after its last line or change of
 * state (a job printing every few hundred ms stays quick); then it backs off, doubling, to `idlePollMs`: a line reaches its
 * viewers within about pollMs of being stored, and a long-silent job costs little. The job's state is
 * read at most every STATE_EVERY_MS while it runs and prints (it just wrote: it is running) and on
 * every slower poll; always before the rows, so a final state means every row is already visible.
 */
class Feed {
  private listeners = new Set<FeedListener>();
  private lastSeq: number | null = null;
  private lastStatus: string | null = null;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  /** The intervals once the job has been quiet for HOT_MS: doubling up to the idle interval, reset by new rows. */
  private readonly quiet: Backoff;
  /** The last new row or change of state: the feed starts hot, as a viewer has just arrived. */
  private lastActivityAt = Date.now();
  private stateReadAt = 0;
  queries = 0;

  constructor(private readonly jobId: number, private readonly models: Models, private readonly pollMs: number, private readonly idlePollMs: number, private readonly logger: Logger, private readonly onStop: () => void) {
    this.quiet = new Backoff({ initialMs: pollMs, maxMs: Math.max(idlePollMs, pollMs) });
  }

  add(l: FeedListener): void {
    this.listeners.add(l);
    if (!this.timer && !this.stopped) this.schedule(0);
  }

  remove(l: FeedListener): void {
    this.listeners.delete(l);
    if (!this.listeners.size) this.stop();
  }

  private stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.onStop();
  }

  private schedule(ms: number): void {
    this.timer = setTimeout(() => void this.poll(), ms);
  }

  private async poll(): Promise<void> {
    let again: number;
    try {
      // The state is needed until the job runs (pending → running is news), then now and then.
      const readState = this.lastStatus !== 'running' || Date.now() - this.stateReadAt >= STATE_EVERY_MS;
      if (readState) this.stateReadAt = Date.now();
      const job = readState ? await this.models.Job.findByPk(this.jobId, { attributes: ['id', 'status', 'exitCode', 'error', 'startedAt', 'finishedAt'] }) : undefined;
      if (this.lastSeq === null) {
        const start = (await this.models.JobOutput.max<number, any>('seq', { where: { jobId: this.jobId } })) ?? 0;
        this.lastSeq = start;
        for (const l of this.listeners) l.tip(start);
      }
      const rows = await this.models.JobOutput.findAll({
        attributes: ['seq', 'stream', 'output'],
        where: { jobId: this.jobId, seq: { [Op.gt]: this.lastSeq } },
        order: [['seq', 'ASC']],
        limit: PAGE,
        raw: true,
      });
      if (this.stopped) return;
      if (rows.length) {
        this.lastSeq = rows[rows.length - 1].seq;
        const out = rows.map((r) => ({ seq: r.seq, stream: r.stream, output: r.output ?? '' }));
        for (const l of this.listeners) l.rows(out);
      }
      if (readState) {
        const state: FeedJobState = job
          ? { status: job.status, exitCode: job.exitCode, error: job.error, startedAt: job.startedAt, finishedAt: job.finishedAt }
          : { status: 'deleted', exitCode: null, error: 'the job was deleted', startedAt: null, finishedAt: null };
        if (state.status !== this.lastStatus) {
          this.lastStatus = state.status;
          this.lastActivityAt = Date.now();
          for (const l of this.listeners) l.status(state);
        }
        // The status was read before the rows: when it is final, every row was already written.
        if (isFinalJobStatus(state.status) && rows.length < PAGE) {
          for (const l of [...this.listeners]) l.end(state, this.lastSeq);
          this.stop();
          return;
        }
      }
      if (rows.length) this.lastActivityAt = Date.now();
      if (rows.length === PAGE) again = 0;
      else if (Date.now() - this.lastActivityAt < HOT_MS) {
        this.quiet.reset();
        again = this.pollMs;
      } else again = this.quiet.next();
    } catch (err) {
      this.logger.warn({ err, jobId: this.jobId }, 'job feed poll failed; retrying');
      this.stateReadAt = 0;
      again = Math.max(this.idlePollMs, 1000);
    }
    if (!this.stopped) this.schedule(again);
  }
}

export class JobFeedHub {
  private feeds = new Map<number, Feed>();

  /**
   * @param pollMs the poll interval while a followed job prints (JOB_STREAM_POLL_MS)
   * @param idlePollMs the interval it backs off to while the job is quiet (JOB_STREAM_IDLE_POLL_MS)
   */
  constructor(private readonly models: Models, private readonly pollMs: number, private readonly logger: Logger, private readonly idlePollMs = pollMs) {}

  /** Follows job `jobId`; returns the unsubscribe function. */
  subscribe(jobId: number, listener: FeedListener): () => void {
    let feed = this.feeds.get(jobId);
    if (!feed) {
      const created: Feed = new Feed(jobId, this.models, this.pollMs, this.idlePollMs, this.logger, () => {
        if (this.feeds.get(jobId) === created) this.feeds.delete(jobId);
      });
      feed = created;
      this.feeds.set(jobId, feed);
    }
    feed.add(listener);
    const f = feed;
    return () => f.remove(listener);
  }

  /** Jobs being followed right now (for tests and benchmarks). */
  get activeFeeds(): number {
    return this.feeds.size;
  }
}
