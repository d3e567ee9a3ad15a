import { Router, type Request, type Response } from 'express';
import { flash } from '../middlewares/flash.js';
import { access } from '../policies/access.js';
import { can } from '../policies/authorize.js';
import { loaded, subjectLoaders } from '../policies/subjects.js';
import { requestVmPower } from '../provisioning/vm-lifecycle.js';
import type { VmPowerAction } from '../provisioning/vm-power-tasks.js';
import { commandContext } from './command.js';
import type { RouteContext } from './context.js';
import { formHandler, respond, type FormFailure } from './respond.js';

/**
 * A VM's power actions from its detail page or the API (issue 16): stop (hard) and shut down, each a
 * job (vm.stop, vm.shutdown; src/provisioning/vm-power-tasks.ts). Browsers go to the job's status
 * page, API clients get 202 with the job. Berth has no QEMU start, reboot or delete. No input: the
 * VM and the action are in the path. Only administrators (`operateUnmanaged`): Berth never creates
 * VMs, so a record's node and VMID are what someone typed; its owner gets 403 (the error page for
 * browsers, JSON {error} for the API), anyone else 404 (load.vm).
 */
export function vmLifecycleRoutes(ctx: RouteContext) {
  const load = subjectLoaders(ctx.models);
  const pagePath = (id: number) => `/vms/${id}`;

  /** Enqueues `action` and answers with its job. */
  async function submit(req: Request, res: Response, action: VmPowerAction) {
    const job = await requestVmPower(commandContext(ctx, req), loaded(res, 'vm').id, action, { mayOperateUnmanaged: can(req.user, 'operateUnmanaged') });
    const statusUrl = `/status/${job.id}`;
    await respond(req, res, { status: 202, location: statusUrl, json: { jobId: job.id, statusUrl }, redirect: statusUrl });
  }

  const stop = (req: Request, res: Response) => submit(req, res, 'stop');
  const shutdown = (req: Request, res: Response) => submit(req, res, 'shutdown');

  /** A refused button (the VM's state, no node or VMID, another job on it): back to the detail page, saying why. */
  function backToPage(req: Request, res: Response, failure: FormFailure) {
    flash(req, 'error', failure.error);
    res.redirect(303, pagePath(loaded(res, 'vm').id));
  }

  const router = Router();
  const change = load.vm('change');
  router.post('/vms/:id/stop', access.user, change, formHandler(stop, backToPage));
  router.post('/vms/:id/shutdown', access.user, change, formHandler(shutdown, backToPage));
  return router;
}
