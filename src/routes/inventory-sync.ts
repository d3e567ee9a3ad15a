import { Router, type Request, type Response } from 'express';
import { actorOf } from '../audit/index.js';
import { acceptDrift, importGuest } from '../inventory/drift-actions.js';
import { kindByKey, recordName } from '../inventory/kinds.js';
import { enqueueInventorySync } from '../jobs/tasks/inventory-sync.js';
import { AppError, ConflictError, ValidationError } from '../lib/errors.js';
import { wantsJson } from '../middlewares/errorHandler.js';
import { flash } from '../middlewares/flash.js';
import { parseInput } from '../middlewares/validate.js';
import { access } from '../policies/access.js';
import { loadDriftPage } from '../presenters/drift.js';
import type { RouteContext } from './index.js';
import { acceptDriftSchema, importGuestSchema } from './inventory-sync.schema.js';

/** Sync with Proxmox (admin): run it now, the drift page, and its import / accept actions. */
export function inventorySyncRoutes({ models, sequelize, auditor }: RouteContext) {
  const router = Router();
  const deps = { models, sequelize, auditor };

  async function renderDrift(res: Response, extra: { status?: number; error?: string | null; fields?: Record<string, string> } = {}) {
    const page = await loadDriftPage(models);
    res.status(extra.status ?? 200).render('inventory/drift', { title: 'Sync & drift', ...page, error: extra.error ?? null, fields: extra.fields ?? {} });
  }

  /** A refused action on the page: shown above the sections with its status (JSON: the error handler). */
  async function refused(req: Request, res: Response, err: unknown) {
    if (wantsJson(req) || !(err instanceof ValidationError || err instanceof ConflictError || (err instanceof AppError && err.status === 404))) throw err;
    await renderDrift(res, { status: err.status, error: err.message, fields: err.fields });
  }

  router.post('/inventory/sync', access.admin, async (req, res) => {
    const job = await sequelize.transaction((t) => enqueueInventorySync(deps, actorOf(req), t));
    if (wantsJson(req)) return res.status(201).location(`/jobs/${job.id}`).json({ id: job.id, status: job.status });
    res.redirect(303, `/status/${job.id}`);
  });

  router.get('/inventory/drift', access.admin, async (req, res) => {
    if (wantsJson(req)) return res.json(await loadDriftPage(models));
    await renderDrift(res);
  });

  router.post('/inventory/drift/import', access.admin, async (req, res) => {
    try {
      const input = parseInput(importGuestSchema, req.body);
      const { kind, record } = await importGuest(deps, input, actorOf(req), req.user);
      const href = `${kind.basePath}/${record.id}`;
      if (wantsJson(req)) return res.status(201).location(href).json({ id: record.id, kind: kind.key, href });
      flash(req, 'success', `Imported ${recordName(kind, record)} as ${kind.label} #${record.id}.`);
      res.redirect(303, '/inventory/drift');
    } catch (err) {
      await refused(req, res, err);
    }
  });

  router.post('/inventory/drift/accept', access.admin, async (req, res) => {
    try {
      const input = parseInput(acceptDriftSchema, req.body);
      const kind = kindByKey(input.kind)!;
      const { record, changes } = await acceptDrift(deps, kind, input.id, actorOf(req), req.user);
      if (wantsJson(req)) return res.json({ success: true, changes });
      flash(req, 'success', `${recordName(kind, record)} now has Proxmox's values.`);
      res.redirect(303, '/inventory/drift');
    } catch (err) {
      await refused(req, res, err);
    }
  });

  return router;
}
