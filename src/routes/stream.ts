import { Router, type Request, type Response } from 'express';
import { followJob } from '../jobs/follow.js';
import { JobFeedHub } from '../jobs/feed.js';
import { parseInput } from '../lib/parse-input.js';
import { SseStream } from '../lib/sse.js';
import { access } from '../policies/access.js';
import { loaded, subjectLoaders } from '../policies/subjects.js';
import type { RouteContext } from './context.js';
import { streamCursorInput } from './stream.schema.js';

/** GET /api/stream/:jobId: a job's output as Server-Sent Events, live (src/jobs/follow.ts). */
export function streamRoutes({ models, config, logger }: RouteContext, hub = new JobFeedHub(models, config.JOB_STREAM_POLL_MS, logger, config.JOB_STREAM_IDLE_POLL_MS)) {
  const load = subjectLoaders(models);

  async function stream(req: Request, res: Response) {
    const { after } = parseInput(streamCursorInput, { header: req.get('Last-Event-ID'), query: req.query.lastEventId });
    const sse = new SseStream(req, res, { keepAliveMs: 15_000 });
    await followJob({ models, hub, logger: req.log ?? logger }, loaded(res, 'job'), after, sse);
  }

  const router = Router();
  router.get('/api/stream/:jobId', access.user, load.job('view', 'jobId'), stream);
  return router;
}
