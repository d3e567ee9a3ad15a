import { Router, type Request, type Response } from 'express';
import { FINAL_JOB_STATUSES, isFinalJobStatus, JOB_STATUSES } from '../../models/Job.js';
import { cancelJob, submitJob } from '../jobs/commands.js';
import { parseInput } from '../lib/parse-input.js';
import { access } from '../policies/access.js';
import { can, scope } from '../policies/authorize.js';
import { loaded, subjectLoaders } from '../policies/subjects.js';
import { elapsedSeconds, presentJob, presentJobOutput } from '../presenters/job.js';
import { commandContext } from './command.js';
import type { RouteContext } from './context.js';
import { createJobSchema, jobListSchema, outputPageSchema } from './jobs.schema.js';
import { respond } from './respond.js';

const PAGE_SIZE = 50;

/** Jobs API (as in the seed) and the jobs pages: list, status page with live output, cancel. */
export function jobsRoutes(ctx: RouteContext) {
  const { models } = ctx;
  const load = subjectLoaders(models);

  /** The caller's jobs (an admin's: everyone's), newest first, a page at a time. */
  async function list(req: Request, res: Response) {
    const query = parseInput(jobListSchema, req.query);
    const { rows, count } = await models.Job.findAndCountAll({
      where: { ...scope(req.user!, 'job'), ...(query.status ? { status: query.status } : {}) },
      order: [['id', 'DESC']],
      limit: PAGE_SIZE,
      offset: (query.page - 1) * PAGE_SIZE,
    });
    await respond(req, res, {
      json: { jobs: rows.map(presentJob), total: count, page: query.page, pageSize: PAGE_SIZE },
      page: {
        view: 'jobs/index',
        locals: {
          title: 'Jobs',
          jobs: rows.map((j) => ({ ...presentJob(j), elapsed: elapsedSeconds(j) })),
          total: count,
          page: query.page,
          pages: Math.max(1, Math.ceil(count / PAGE_SIZE)),
          status: query.status ?? '',
          statuses: JOB_STATUSES,
        },
      },
    });
  }

  async function create(req: Request, res: Response) {
    const input = parseInput(createJobSchema, req.body);
    const job = await submitJob(commandContext(ctx, req), input, can(req.user, 'runAdminTask'));
    await respond(req, res, { status: 201, location: `/jobs/${job.id}`, json: { id: job.id, status: job.status }, redirect: `/status/${job.id}` });
  }

  /** GET /jobs/:id: the job row, JSON only (as in the seed). */
  async function show(_req: Request, res: Response) {
    res.json(presentJob(loaded(res, 'job')));
  }

  /** GET /jobs/:id/status: the job's output rows in order, a page at a time, JSON only (as in the seed). */
  async function output(req: Request, res: Response) {
    const { offset, limit } = parseInput(outputPageSchema, req.query);
    const rows = await models.JobOutput.findAll({ where: { jobId: loaded(res, 'job').id }, order: [['seq', 'ASC']], offset, limit });
    res.json(rows.map(presentJobOutput));
  }

  async function cancel(req: Request, res: Response) {
    const job = await cancelJob(commandContext(ctx, req), loaded(res, 'job').id);
    await respond(req, res, {
      status: 202,
      json: { id: job.id, status: job.status, cancelRequested: true },
      flash: { type: 'info', message: job.status === 'cancelled' ? 'Job cancelled.' : 'Cancellation requested.' },
      redirect: `/status/${job.id}`,
    });
  }

  /** The status page, which follows the job live (public/js/job-status.js over /api/stream/:jobId). */
  async function statusPage(_req: Request, res: Response) {
    const job = loaded(res, 'job');
    res.render('jobs/status', {
      title: `Job ${job.id}`,
      job: { ...presentJob(job), elapsed: elapsedSeconds(job), final: isFinalJobStatus(job.status) },
      finalStatuses: FINAL_JOB_STATUSES,
    });
  }

  const router = Router();
  router.get('/jobs', access.user, list);
  router.post('/jobs', access.admin, create);
  router.get('/jobs/:id', access.user, load.job('view'), show);
  router.get('/jobs/:id/status', access.user, load.job('view'), output);
  router.post('/jobs/:id/cancel', access.user, load.job('change'), cancel);
  router.get('/status/:jobId', access.user, load.job('view', 'jobId'), statusPage);
  return router;
}
