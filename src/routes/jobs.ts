import { Router, type Request, type Response } from 'express';
import { FINAL_JOB_STATUSES, isFinalJobStatus, JOB_STATUSES } from '../../models/Job.js';
import { cancelJob, requestJob, submitJob } from '../jobs/commands.js';
import { jobListWhere } from '../jobs/list-filter.js';
import { parseInput } from '../lib/parse-input.js';
import { access } from '../policies/access.js';
import { can, scope } from '../policies/authorize.js';
import { loaded, subjectLoaders } from '../policies/subjects.js';
import { elapsedSeconds, presentJob, presentJobOutput } from '../presenters/job.js';
import { commandContext } from './command.js';
import type { RouteContext } from './context.js';
import { createJobSchema, jobListFallbackSchema, jobListSchema, outputPageSchema, runCommandSchema, type JobListQuery } from './jobs.schema.js';
import { formHandler, respond, type FormFailure } from './respond.js';

const PAGE_SIZE = 50;

/** The list page's two forms, each with what a refusal says (nothing, normally). */
interface FormState {
  error: string | null;
  fields: Record<string, string>;
  values: Record<string, unknown>;
}
const blankForm = (): FormState => ({ error: null, fields: {}, values: {} });

/**
 * Jobs API (as in the seed) and the jobs pages: list (with the admins' "Run command" form), status
 * page with live output, cancel.
 */
export function jobsRoutes(ctx: RouteContext) {
  const { models, config } = ctx;
  const load = subjectLoaders(models);

  /** One page of the caller's jobs (an admin's: everyone's), newest first. */
  async function findJobs(req: Request, query: JobListQuery) {
    return models.Job.findAndCountAll({
      // The dashboard counts with the same rule, so its numbers and this list agree.
      where: jobListWhere(scope(req.user!, 'job'), { status: query.status, within: query.within }),
      order: [['id', 'DESC']],
      limit: PAGE_SIZE,
      offset: (query.page - 1) * PAGE_SIZE,
    });
  }

  /** The list page's locals; `filter` and `run` carry a refused filter's or command's messages. */
  async function pageLocals(req: Request, query: JobListQuery, forms: { filter?: FormState; run?: FormState } = {}) {
    const { rows, count } = await findJobs(req, query);
    return {
      title: 'Jobs',
      jobs: rows.map((j) => ({ ...presentJob(j), elapsed: elapsedSeconds(j) })),
      total: count,
      page: query.page,
      pages: Math.max(1, Math.ceil(count / PAGE_SIZE)),
      status: query.status ?? '',
      statuses: JOB_STATUSES,
      within: query.within ?? null,
      filter: forms.filter ?? blankForm(),
      // Only administrators may run a command: nobody else sees the form.
      run: can(req.user, 'runAdminTask') ? { ...(forms.run ?? blankForm()), defaultTimeoutSeconds: config.JOB_TIMEOUT_SECONDS } : null,
    };
  }

  /** The caller's jobs (an admin's: everyone's), newest first, a page at a time. */
  async function list(req: Request, res: Response) {
    const query = parseInput(jobListSchema, req.query);
    await respond(req, res, {
      json: async () => {
        const { rows, count } = await findJobs(req, query);
        return { jobs: rows.map(presentJob), total: count, page: query.page, pageSize: PAGE_SIZE };
      },
      page: async () => ({ view: 'jobs/index', locals: await pageLocals(req, query) }),
    });
  }

  /** A refused filter or page number: the list again (with what was valid), the field marked. */
  async function rerenderList(req: Request, res: Response, failure: FormFailure) {
    const query = parseInput(jobListFallbackSchema, req.query);
    const filter = { error: failure.error, fields: failure.fields, values: {} };
    res.status(failure.status).render('jobs/index', await pageLocals(req, query, { filter }));
  }

  /** POST /jobs/command: the page's "Run command" form (admins; the confirmation box is required). */
  async function runCommand(req: Request, res: Response) {
    const input = parseInput(runCommandSchema, req.body);
    const job = await submitJob(commandContext(ctx, req), { command: input.command, timeoutSeconds: input.timeoutSeconds }, can(req.user, 'runAdminTask'));
    await respond(req, res, {
      status: 201,
      location: `/jobs/${job.id}`,
      json: { id: job.id, status: job.status },
      flash: { type: 'success', message: `Job ${job.id} queued: the first free job runner runs it.` },
      redirect: `/status/${job.id}`,
    });
  }

  /** A refused command: the jobs page again, with the form's messages and what was typed. */
  async function rerenderRun(req: Request, res: Response, failure: FormFailure) {
    const run = { error: failure.error, fields: failure.fields, values: failure.values };
    res.status(failure.status).render('jobs/index', await pageLocals(req, parseInput(jobListFallbackSchema, {}), { run }));
  }

  async function create(req: Request, res: Response) {
    const input = parseInput(createJobSchema, req.body);
    // An inventory sync already pending or running is the answer to a second one (200, `existing`).
    const { job, existing } = await requestJob(commandContext(ctx, req), input, can(req.user, 'runAdminTask'));
    await respond(req, res, { status: existing ? 200 : 201, location: `/jobs/${job.id}`, json: { id: job.id, status: job.status, ...(existing ? { existing: true } : {}) }, redirect: `/status/${job.id}` });
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
  router.get('/jobs', access.user, formHandler(list, rerenderList));
  router.post('/jobs', access.admin, create);
  router.post('/jobs/command', access.admin, formHandler(runCommand, rerenderRun));
  router.get('/jobs/:id', access.user, load.job('view'), show);
  router.get('/jobs/:id/status', access.user, load.job('view'), output);
  router.post('/jobs/:id/cancel', access.user, load.job('change'), cancel);
  router.get('/status/:jobId', access.user, load.job('view', 'jobId'), statusPage);
  return router;
}
