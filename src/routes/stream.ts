import { Router } from 'express';
import { Op } from 'sequelize';
import { NotFoundError } from '../lib/errors.js';
import { SseStream } from '../lib/sse.js';
import { JobFeedHub, type FeedJobState, type FeedRow } from '../jobs/feed.js';
import { parseInput } from '../middlewares/validate.js';
import { access } from '../policies/access.js';
import { canViewJob } from '../policies/jobs.js';
import type { RouteContext } from './index.js';
import { jobIdSchema } from './jobs.schema.js';

const REPLAY_PAGE = 500;
/** A viewer that falls this far behind drops its queue and re-reads from the database when it can. */
const MAX_QUEUED_BYTES = 1024 * 1024;

function endPayload(state: FeedJobState, lastSeq: number) {
  return { status: state.status, exitCode: state.exitCode, error: state.error, startedAt: state.startedAt, finishedAt: state.finishedAt, lastSeq };
}

/**
 * GET /api/stream/:jobId — a job's output as Server-Sent Events.
 *
 * Events: `output` (id = the row's seq; data `{seq, stream, output}`), `status` (data: the job's
 * state when it changes), and a last `end` (data: final status, exit code, error, lastSeq), after which
 * the server closes the stream. A client reconnecting with `Last-Event-ID: N` gets the rows after
 * seq N: no gap, no duplicate. Rows are delivered strictly in seq order; a viewer that sees a gap
 * (it joined a feed that had moved on, or it fell behind and dropped its queue) re-reads the
 * missing rows from the database before going on.
 */
export function streamRoutes({ models, config, logger }: RouteContext, hub = new JobFeedHub(models, config.JOB_STREAM_POLL_MS, logger, config.JOB_STREAM_IDLE_POLL_MS)) {
  const router = Router();

  router.get('/api/stream/:jobId', access.user, async (req, res) => {
    const { id } = parseInput(jobIdSchema, { id: req.params.jobId });
    const job = await models.Job.findByPk(id);
    if (!job || !canViewJob(req.user, job)) throw new NotFoundError('No such job.');

    const last = Number(SseStream.lastEventId(req) ?? 0);
    let cursor = Number.isInteger(last) && last > 0 ? last : 0;
    const sse = new SseStream(req, res, { keepAliveMs: 15_000 });

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
          where: { jobId: id, seq: { [Op.gt]: cursor } },
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
        req.log?.warn({ err, jobId: id }, 'job stream failed');
        sse.end();
      } finally {
        pumping = false;
      }
      if (!sse.closed && (queue.length || needCatchUp || final)) void pump();
    };

    const unsubscribe = hub.subscribe(id, {
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
  });

  return router;
}
