import { Router, type Request, type Response } from 'express';
import type { Job, Models } from '../../models/index.js';
import { isFinalJobStatus } from '../../models/Job.js';
import { ConflictError, UpstreamError, ValidationError } from '../lib/errors.js';
import { sleep } from '../lib/retry.js';
import { parseInput } from '../lib/parse-input.js';
import { flash } from '../middlewares/flash.js';
import { access } from '../policies/access.js';
import { can } from '../policies/authorize.js';
import { loaded, subjectLoaders } from '../policies/subjects.js';
import { requestDelete, requestLifecycle, type ContainerAction } from '../provisioning/lifecycle.js';
import { commandContext } from './command.js';
import type { RouteContext } from './context.js';
import { resizeSchema } from './containers-lifecycle.schema.js';
import { deleteConfirmation } from './inventory-records.schema.js';
import { formHandler, respond, type FormFailure } from './respond.js';

/** How often a DELETE looks at its job while it waits (the Jobs row; the runner may be another process). */
const DELETE_POLL_MS = 100;

/** The answer the seed's API gives for a deleted container (`001_*.txt`). */
const DELETED = { success: true, message: 'Container deleted successfully' };

/**
 * Polls job `id` until it ends or `waitMs` passes (or the client goes away); returns the last row
 * read, final or not.
 */
async function waitForJobEnd(models: Models, id: number, waitMs: number, gone: () => boolean): Promise<Job | null> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const job = await models.Job.findByPk(id);
    if (!job || isFinalJobStatus(job.status) || Date.now() >= deadline || gone()) return job;
    await sleep(Math.min(DELETE_POLL_MS, Math.max(0, deadline - Date.now())));
  }
}

/** The policy's answer the lifecycle commands need: may this requester act on a container Berth did not create. */
const operateOptions = (req: Request) => ({ mayOperateUnmanaged: can(req.user, 'operateUnmanaged') });

/**
 * A container's power and size actions and its deletion on Proxmox, each a job: start, stop,
 * shutdown, reboot, resize (browsers go to the job's status page, API clients get 202 with the job),
 * and delete (the API waits for the job up to CONTAINER_DELETE_WAIT_SECONDS). Mounted before the
 * inventory records router, which keeps the record-only delete for VMs.
 */

export function containerLifecycleRoutes(ctx: RouteContext) {
  const load = subjectLoaders(ctx.models);
  const pagePath = (id: number) => `/containers/${id}`;

  /** Enqueues `action` and answers with its job. */
  async function submit(req: Request, res: Response, action: ContainerAction, input = {}) {
    const container = loaded(res, 'container');
    const job = await requestLifecycle(commandContext(ctx, req), container, action, input, operateOptions(req));
    const statusUrl = `/status/${job.id}`;
    await respond(req, res, { status: 202, location: statusUrl, json: { jobId: job.id, statusUrl }, redirect: statusUrl });
  }

  const start = (req: Request, res: Response) => submit(req, res, 'start');
  const stop = (req: Request, res: Response) => submit(req, res, 'stop');
  const shutdown = (req: Request, res: Response) => submit(req, res, 'shutdown');
  const reboot = (req: Request, res: Response) => submit(req, res, 'reboot');
  const resize = (req: Request, res: Response) => submit(req, res, 'resize', parseInput(resizeSchema, req.body));

  /** A refused action from a button or the resize form: back to the detail page, saying why. */
  function backToPage(req: Request, res: Response, failure: FormFailure) {
    const details = Object.values(failure.fields).filter((m) => !failure.error.includes(m));
    flash(req, 'error', [failure.error, ...details].join(' '));
    res.redirect(303, pagePath(loaded(res, 'container').id));
  }

  /** DELETE /containers/:id (the seed's API): deletes on Proxmox and waits for the job, up to the configured limit. */
  async function destroy(req: Request, res: Response) {
    const answer = await requestDelete(commandContext(ctx, req), loaded(res, 'container'), operateOptions(req));
    if (!answer.job) {
      res.json(DELETED);
      return;
    }
    let clientGone = false;
    res.on('close', () => (clientGone = true));
    const job = await waitForJobEnd(ctx.models, answer.job.id, ctx.config.CONTAINER_DELETE_WAIT_SECONDS * 1000, () => clientGone);
    const statusUrl = `/status/${answer.job.id}`;
    if (job?.status === 'success') res.json(DELETED);
    // Proxmox refused (or the node could not be reached): the record stays, and the job says why in Proxmox's words.
    else if (job?.status === 'failure') throw new UpstreamError(job.error ?? 'Proxmox refused to delete the container.');
    else if (job?.status === 'cancelled') throw new ConflictError(`The delete job ${job.id} was cancelled; the container was kept.`);
    else res.status(202).location(statusUrl).json({ jobId: answer.job.id, statusUrl });
  }

  /** POST /containers/:id/delete, the detail page's form: asks for an explicit tick (the page works without JavaScript). */
  async function confirmDestroy(req: Request, res: Response) {
    const container = loaded(res, 'container');
    const { confirm } = parseInput(deleteConfirmation, req.body);
    if (!confirm) {
      const message = `Tick the box to confirm that ${container.hostname} should be deleted.`;
      throw new ValidationError(message, { confirm: message });
    }
    const answer = await requestDelete(commandContext(ctx, req), container, operateOptions(req));
    if (!answer.job) {
      await respond(req, res, { json: { success: true, message: answer.message }, flash: { type: 'success', message: answer.message }, redirect: '/containers' });
      return;
    }
    const statusUrl = `/status/${answer.job.id}`;
    await respond(req, res, { status: 202, location: statusUrl, json: { jobId: answer.job.id, statusUrl, message: answer.message }, flash: { type: 'info', message: answer.message }, redirect: statusUrl });
  }

  /** The delete form again, with why it was not accepted (unticked, or a clash with the container's state). */
  function rerenderDelete(_req: Request, res: Response, failure: FormFailure) {
    const container = loaded(res, 'container');
    res.status(failure.status).render('containers/delete', { title: `Delete ${container.hostname}`, container: { id: container.id, name: container.hostname, onProxmox: container.nodeId !== null && container.vmid !== null }, error: failure.error });
  }

  const router = Router();
  const change = load.container('change');
  router.post('/containers/:id/start', access.user, change, formHandler(start, backToPage));
  router.post('/containers/:id/stop', access.user, change, formHandler(stop, backToPage));
  router.post('/containers/:id/shutdown', access.user, change, formHandler(shutdown, backToPage));
  router.post('/containers/:id/reboot', access.user, change, formHandler(reboot, backToPage));
  router.post('/containers/:id/resize', access.user, change, formHandler(resize, backToPage));
  router.delete('/containers/:id', access.user, change, destroy);
  router.post('/containers/:id/delete', access.user, change, formHandler(confirmDestroy, rerenderDelete));
  return router;
}
