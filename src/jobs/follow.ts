import { Op } from 'sequelize';
import type { Job, Models } from '../../models/index.js';
import type { Logger } from '../lib/logger.js';
import type { SseStream } from '../lib/sse.js';
import type { FeedJobState, FeedRow, JobFeedHub } from './feed.js';

const REPLAY_PAGE = 500;
/** A viewer that falls this far behind drops its queue and re-reads from the database when it can. */
const MAX_QUEUED_BYTES = 1024 * 1024;

/** What following a job needs: the database for replays, the shared feed for live rows, a logger for failures. */
export interface FollowDeps {
  models: Models;
  hub: JobFeedHub;
  logger: Logger;
}

function endPayload(state: FeedJobState, lastSeq: number) {
  return { status: state.status, exitCode: state.exitCode, error: state.error, startedAt: state.startedAt, finishedAt: state.finishedAt, lastSeq };
}

/**
 * Follows `job` on `sse` until it ends or the viewer goes away: a job's output as Server-Sent Events.
 *
 * Events: `output` (id = the row's seq; data `{seq, stream, output}`), `status` (data: the job's
 * state, first as it is now, then when it changes), and a last `end` (data: final status, exit code,
 * error, lastSeq), after which the stream is closed. Rows after seq `after` (a reconnecting client's
 * `Last-Event-ID`) are sent: no gap, no duplicate. Rows are delivered strictly in seq order; a viewer
 * that sees a gap (it joined a feed that had moved on, or it fell behind and dropped its queue)
 * re-reads the missing rows from the database before going on. Resolves once the first status is
 * sent; the rest runs as the feed delivers.
 */
export async function followJob(deps: FollowDeps, job: Job, after: number, sse: SseStream): Promise<void> {
  const { models, hub, logger } = deps;
  const jobId = job.id;
  let cursor = after;

  type Item = { kind: 'rows'; rows: FeedRow[] } | { kind: 'status'; state: FeedJobState };
  let queue: Item[] = [];
  let queuedBytes = 0;
  let needCatchUp = true;
  let final: { state: FeedJobState; lastSeq: number } | null = null;
  let pumping = false;

  const sendRow = (row: FeedRow) => sse.send('output', { seq: row.seq, stream: row.stream, output: row.output }, row.seq);

  /** Sends every stored row after the cursor, page by page, with backpressure. */
  const catchUp = async () => {
    for (;;) {
      const rows = await models.JobOutput.findAll({
        attributes: ['seq', 'stream', 'output'],
        where: { jobId, seq: { [Op.gt]: cursor } },
        order: [['seq', 'ASC']],
        limit: REPLAY_PAGE,
        raw: true,
      });
      for (const row of rows) {
        if (sse.closed) return;
        await sendRow({ seq: row.seq, stream: row.stream, output: row.output ?? '' });
        cursor = row.seq;
      }
      if (rows.length < REPLAY_PAGE) return;
    }
  };

  const pump = async () => {
    if (pumping) return;
    pumping = true;
    try {
      while (!sse.closed) {
        if (needCatchUp) {
          needCatchUp = false;
          await catchUp();
          continue;
        }
        const item = queue.shift();
        if (item) {
          if (item.kind === 'status') {
            await sse.send('status', item.state);
            continue;
          }
          for (const row of item.rows) {
            queuedBytes -= row.output.length;
            if (row.seq <= cursor) continue;
            if (row.seq > cursor + 1) {
              // A gap: fill it from the database (which also covers the rest of this batch).
              needCatchUp = true;
              break;
            }
            await sendRow(row);
            cursor = row.seq;
          }
          continue;
        }
        if (final) {
          if (final.lastSeq > cursor) {
            needCatchUp = true;
            final.lastSeq = cursor; // catch up once, then end whatever the database holds
            continue;
          }
          await sse.send('end', endPayload(final.state, cursor));
          sse.end();
        }
        break;
      }
    } catch (err) {
      logger.warn({ err, jobId }, 'job stream failed');
      sse.end();
    } finally {
      pumping = false;
    }
    if (!sse.closed && (queue.length || needCatchUp || final)) void pump();
  };

  const unsubscribe = hub.subscribe(jobId, {
    rows(rows) {
      queue.push({ kind: 'rows', rows });
      queuedBytes += rows.reduce((n, r) => n + r.output.length, 0);
      if (queuedBytes > MAX_QUEUED_BYTES) {
        // Slow client: keep nothing in memory, read from the database once it drains.
        queue = queue.filter((i) => i.kind === 'status');
        queuedBytes = 0;
        needCatchUp = true;
      }
      void pump();
    },
    tip(lastSeq) {
      if (lastSeq > cursor) {
        needCatchUp = true;
        void pump();
      }
    },
    status(state) {
      queue.push({ kind: 'status', state });
      void pump();
    },
    end(state, lastSeq) {
      final = { state, lastSeq };
      void pump();
    },
  });
  sse.onClose(unsubscribe);
  await sse.send('status', { status: job.status, exitCode: job.exitCode, error: job.error, startedAt: job.startedAt, finishedAt: job.finishedAt });
  void pump();
}
