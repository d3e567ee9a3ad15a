import { Router, type Request } from 'express';
import type { WhereOptions } from 'sequelize';
import type { Job } from '../../models/index.js';
import { actorOf, changedFields } from '../audit/index.js';
import { ConflictError, NotFoundError } from '../lib/errors.js';
import { enqueueJob, jobAuditLabel, jobEnqueuedEvent } from '../jobs/enqueue.js';
import { wantsJson } from '../middlewares/errorHandler.js';
import { flash } from '../middlewares/flash.js';
import { parseInput } from '../middlewares/validate.js';
import { access } from '../policies/access.js';
import { canCancelJob, canViewJob } from '../policies/jobs.js';
import { FINAL_JOB_STATUSES, isFinalJobStatus, JOB_STATUSES } from '../../models/Job.js';
import { elapsedSeconds, presentJob, presentJobOutput } from '../presenters/job.js';
import type { RouteContext } from './index.js';
import { createJobSchema, jobIdSchema, jobListSchema, outputPageSchema } from './jobs.schema.js';

const PAGE_SIZE = 50;

/** Jobs API (as in the seed) and the jobs pages: list, status page with live output, cancel. */
export function jobsRoutes({ models, sequelize, auditor }: RouteContext) {
  const router = Router();

  /** The job named by the path, if the current user may see it; 404 otherwise (also for others' jobs). */
  async function loadVisibleJob(req: Request, param = 'id'): Promise<Job> {
    const { id } = parseInput(jobIdSchema, { id: req.params[param] });
    const job = await models.Job.findByPk(id);
    if (!job || !canViewJob(req.user, job)) throw new NotFoundError('No such job.');
    return job;
  }

  router.get('/jobs', access.user, async (req, res) => {
    const user = req.user!;
    const query = parseInput(jobListSchema, req.query);
    const where: WhereOptions<Job> = {
      ...(user.isAdmin ? {} : { createdBy: user.username }),
      ...(query.status ? { status: query.status } : {}),
    };
    const { rows, count } = await models.Job.findAndCountAll({
      where,
      order: [['id', 'DESC']],
      limit: PAGE_SIZE,
      offset: (query.page - 1) * PAGE_SIZE,
    });
    if (wantsJson(req)) return res.json({ jobs: rows.map(presentJob), total: count, page: query.page, pageSize: PAGE_SIZE });
    res.render('jobs/index', {
      title: 'Jobs',
      jobs: rows.map((j) => ({ ...presentJob(j), elapsed: elapsedSeconds(j) })),
      total: count,
      page: query.page,
      pages: Math.max(1, Math.ceil(count / PAGE_SIZE)),
      status: query.status ?? '',
      statuses: JOB_STATUSES,
    });
  });

  router.post('/jobs', access.admin, async (req, res) => {
    const input = parseInput(createJobSchema, req.body);
    const job = await sequelize.transaction(async (transaction) => {
      const job = await enqueueJob(models, {
        command: input.command,
        task: input.task,
        params: input.params,
        timeoutSeconds: input.timeoutSeconds,
        createdBy: req.user!.username,
        isAdmin: req.user!.isAdmin,
        transaction,
      });
      await auditor.record(actorOf(req), jobEnqueuedEvent(job), transaction);
      return job;
    });
    if (wantsJson(req)) return res.status(201).location(`/jobs/${job.id}`).json({ id: job.id, status: job.status });
    res.redirect(303, `/status/${job.id}`);
  });

  router.get('/jobs/:id', access.user, async (req, res) => {
    res.json(presentJob(await loadVisibleJob(req)));
  });

  router.get('/jobs/:id/status', access.user, async (req, res) => {
    const job = await loadVisibleJob(req);
    const { offset, limit } = parseInput(outputPageSchema, req.query);
    const rows = await models.JobOutput.findAll({ where: { jobId: job.id }, order: [['seq', 'ASC']], offset, limit });
    res.json(rows.map(presentJobOutput));
  });

  router.post('/jobs/:id/cancel', access.user, async (req, res) => {
    const visible = await loadVisibleJob(req);
    if (!canCancelJob(req.user, visible)) throw new NotFoundError('No such job.');
    const by = `cancelled by ${req.user!.username}`;
    const job = await sequelize.transaction(async (transaction) => {
      // A locking read sees the latest committed row and holds it: a runner's claim (SELECT … FOR
      // UPDATE SKIP LOCKED) skips the job until we commit, or we wait for its claim to commit and see
      // the job running. A plain read in this REPEATABLE READ transaction could return a `pending`
      // snapshot of a job a runner had just claimed, and the cancel was acknowledged and then lost.
      // (SQLite: the transaction is IMMEDIATE, so the claim cannot interleave at all.)
      const before = await models.Job.findByPk(visible.id, { transaction, lock: transaction.LOCK.UPDATE });
      if (!before) throw new NotFoundError('No such job.');
      const now = new Date();
      if (isFinalJobStatus(before.status)) throw new ConflictError(`The job has already finished (${before.status}).`);
      if (before.status === 'pending') {
        // Not started yet: nobody else will touch it once it is cancelled here.
        await models.Job.update({ status: 'cancelled', finishedAt: now, cancelRequestedAt: now, error: `${by} before it started` }, { where: { id: before.id, status: 'pending' }, transaction });
      } else if (!before.cancelRequestedAt) {
        // The runner that holds it sees the request within its poll interval and kills the process group.
        await models.Job.update({ cancelRequestedAt: now, error: by }, { where: { id: before.id, status: 'running' }, transaction });
      }
      const job = (await models.Job.findByPk(before.id, { transaction, lock: transaction.LOCK.UPDATE }))!;
      const changes = changedFields(before.get(), job.get(), ['status', 'cancelRequestedAt']);
      await auditor.record(actorOf(req), { action: 'job.cancel', objectType: 'job', objectId: job.id, objectLabel: jobAuditLabel(job), changes }, transaction);
      return job;
    });
    if (wantsJson(req)) return res.status(202).json({ id: job.id, status: job.status, cancelRequested: true });
    flash(req, 'info', job.status === 'cancelled' ? 'Job cancelled.' : 'Cancellation requested.');
    res.redirect(303, `/status/${job.id}`);
  });

  router.get('/status/:jobId', access.user, async (req, res) => {
    const job = await loadVisibleJob(req, 'jobId');
    res.render('jobs/status', {
      title: `Job ${job.id}`,
      job: { ...presentJob(job), elapsed: elapsedSeconds(job), final: isFinalJobStatus(job.status) },
      finalStatuses: FINAL_JOB_STATUSES,
    });
  });

  return router;
}
