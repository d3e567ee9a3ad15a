import { Router, type Request, type Response } from 'express';
import { acceptDrift, importMachine, requestInventorySync } from '../inventory/drift-actions.js';
import { kindByKey, recordName } from '../inventory/kinds.js';
import { parseInput } from '../lib/parse-input.js';
import { access } from '../policies/access.js';
import { mayViewRecord } from '../policies/authorize.js';
import { loadDriftPage } from '../presenters/drift.js';
import { cleanUpInterruptedCreate } from '../provisioning/leftover-cleanup.js';
import { commandContext } from './command.js';
import type { RouteContext } from './context.js';
import { acceptDriftSchema, cleanUpLeftoverSchema, importMachineSchema } from './inventory-sync.schema.js';
import { formHandler, respond, type FormFailure } from './respond.js';

/** Sync with Proxmox (admin): run it now, the drift page, and its import / accept actions. */
export function inventorySyncRoutes(ctx: RouteContext) {
  const { models } = ctx;

  async function renderDrift(res: Response, extra: { status?: number; error?: string | null; fields?: Record<string, string> } = {}) {
    const page = await loadDriftPage(models);
    res.status(extra.status ?? 200).render('inventory/drift', { title: 'Sync & drift', ...page, error: extra.error ?? null, fields: extra.fields ?? {} });
  }

  /** A refused action, shown above the page's sections with its status (JSON: the error handler). */
  const refused = (_req: Request, res: Response, failure: FormFailure) => renderDrift(res, { status: failure.status, error: failure.error, fields: failure.fields });

  async function syncNow(req: Request, res: Response) {
    const job = await requestInventorySync(commandContext(ctx, req));
    await respond(req, res, { status: 201, location: `/jobs/${job.id}`, json: { id: job.id, status: job.status }, redirect: `/status/${job.id}` });
  }

  async function show(req: Request, res: Response) {
    const page = await loadDriftPage(models);
    await respond(req, res, { json: page, page: { view: 'inventory/drift', locals: { title: 'Sync & drift', ...page, error: null, fields: {} } } });
  }

  async function importUnknown(req: Request, res: Response) {
    const input = parseInput(importMachineSchema, req.body);
    const { kind, record } = await importMachine(commandContext(ctx, req), input, mayViewRecord(req.user));
    const href = `${kind.basePath}/${record.id}`;
    await respond(req, res, {
      status: 201,
      location: href,
      json: { id: record.id, kind: kind.key, href },
      flash: { type: 'success', message: `Imported ${recordName(kind, record)} as ${kind.label} #${record.id}.` },
      redirect: '/inventory/drift',
    });
  }

  async function accept(req: Request, res: Response) {
    const input = parseInput(acceptDriftSchema, req.body);
    const kind = kindByKey(input.kind)!;
    const { record, changes } = await acceptDrift(commandContext(ctx, req), kind, input.id, mayViewRecord(req.user));
    await respond(req, res, { json: { success: true, changes }, flash: { type: 'success', message: `${recordName(kind, record)} now has Proxmox's values.` }, redirect: '/inventory/drift' });
  }

  /** Removes what an interrupted create left: the record becomes `error` and the delete job takes the rest. */
  async function cleanUp(req: Request, res: Response) {
    const input = parseInput(cleanUpLeftoverSchema, req.body);
    const answer = await cleanUpInterruptedCreate(commandContext(ctx, req), input.id);
    if (!answer.job) {
      await respond(req, res, { json: { success: true, message: answer.message }, flash: { type: 'success', message: answer.message }, redirect: '/inventory/drift' });
      return;
    }
    const statusUrl = `/status/${answer.job.id}`;
    await respond(req, res, { status: 202, location: statusUrl, json: { jobId: answer.job.id, statusUrl, message: answer.message }, redirect: statusUrl });
  }

  const router = Router();
  router.post('/inventory/sync', access.admin, syncNow);
  router.get('/inventory/drift', access.admin, show);
  // A 404 (the machine or record went away since the page was drawn) is shown on the page too.
  router.post('/inventory/drift/import', access.admin, formHandler(importUnknown, refused, [404]));
  router.post('/inventory/drift/accept', access.admin, formHandler(accept, refused, [404]));
  router.post('/inventory/drift/clean-up', access.admin, formHandler(cleanUp, refused, [404]));
  return router;
}
