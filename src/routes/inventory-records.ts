import { Router, type Request, type Response } from 'express';
import { actorOf, auditHistory } from '../audit/index.js';
import { KINDS, recordName, type InventoryKind, type InventoryRecord } from '../inventory/kinds.js';
import { createRecord, deleteRecord, updateRecord } from '../inventory/records.js';
import { createSchema, transferSchema, updateSchema, type RecordFields } from '../inventory/schema.js';
import { AppError, NotFoundError, ValidationError } from '../lib/errors.js';
import { idParam } from '../lib/validators.js';
import { wantsJson } from '../middlewares/errorHandler.js';
import { flash } from '../middlewares/flash.js';
import { parseInput } from '../middlewares/validate.js';
import { access } from '../policies/access.js';
import { assertTransferTarget, canEditRecord, canSetOwner, canViewRecord, visibleRecordOrNotFound } from '../policies/inventory.js';
import { presentAuditEvent } from '../presenters/audit.js';
import { listCredentials } from '../presenters/credential.js';
import { formValues, presentRecord, presentService, submittedValues } from '../presenters/inventory.js';
import { presentJob } from '../presenters/job.js';
import type { RouteContext } from './index.js';

/**
 * One container's or VM's pages: new/create, show, edit/update, delete, ownership transfer. The same
 * handlers serve both kinds (mounted once per kind) and both audiences: forms get pages and
 * redirects, API clients JSON. Mounted last among the inventory routers: `/containers/:id` would
 * otherwise match their fixed paths (export.csv, import, bulk).
 */
export function inventoryRecordRoutes(ctx: RouteContext) {
  const router = Router();
  for (const kind of KINDS) mountKind(router, ctx, kind);
  return router;
}

/** Input errors that belong on a form (per-field messages), as opposed to 404s and the like. */
const isFormError = (err: unknown): err is AppError => err instanceof AppError && err.fields !== undefined && (err.status === 422 || err.status === 409);

function mountKind(router: Router, { models, sequelize, auditor }: RouteContext, kind: InventoryKind) {
  const deps = { models, sequelize, auditor };
  const base = kind.basePath;
  const Label = kind.label[0].toUpperCase() + kind.label.slice(1);

  /** The record named by the path with its node, if the caller may see it; 404 otherwise (also for a non-numeric id). */
  async function load(req: Request): Promise<InventoryRecord> {
    const parsed = idParam.safeParse(req.params);
    if (!parsed.success) throw new NotFoundError(`No such ${kind.label}.`);
    const record = await kind.model(models).findByPk(parsed.data.id, { include: [{ model: models.Node, as: 'node', attributes: ['id', 'name'] }] });
    return visibleRecordOrNotFound(req.user, kind, record);
  }

  async function renderForm(req: Request, res: Response, status: number, view: { record?: InventoryRecord; values: Record<string, string>; error?: string; fields?: Record<string, string> }) {
    const nodes = await models.Node.findAll({ attributes: ['id', 'name'], order: [['name', 'ASC']] });
    const record = view.record ? { id: view.record.id, name: recordName(kind, view.record) } : null;
    res.status(status).render('inventory/form', {
      title: record ? `Edit ${record.name}` : `New ${kind.label}`,
      kind,
      record,
      action: record ? `${base}/${record.id}` : base,
      values: view.values,
      error: view.error,
      fields: view.fields ?? {},
      nodes: nodes.map((n) => ({ id: n.id, name: n.name })),
      canSetOwner: canSetOwner(req.user!),
    });
  }

  /** Runs a form's work; a rejected submission re-renders the form (422/409) for a browser, JSON clients get the error. */
  async function submit(req: Request, res: Response, record: InventoryRecord | undefined, work: () => Promise<void>) {
    try {
      await work();
    } catch (err) {
      if (!isFormError(err) || wantsJson(req)) throw err;
      await renderForm(req, res, err.status, { record, values: submittedValues(kind, req.body), error: err.message, fields: err.fields });
    }
  }

  /** The detail page (or its JSON): a constant number of queries whatever the record holds. */
  async function renderShow(req: Request, res: Response, record: InventoryRecord, status = 200, problems: { transfer?: { value: string; error: string }; deleteError?: string } = {}) {
    const [services, jobs, credentials, events] = await Promise.all([
      kind.key === 'container' ? models.Service.findAll({ where: { containerId: record.id }, order: [['id', 'ASC']] }) : Promise.resolve([]),
      models.Job.findAll({ where: { subjectType: kind.key, subjectId: record.id }, order: [['id', 'DESC']], limit: 20 }),
      listCredentials(models, kind, record.id),
      auditHistory(models, kind.key, record.id),
    ]);
    const presented = presentRecord(kind, record);
    const view = { services: services.map(presentService), jobs: jobs.map(presentJob), credentials, history: events.map(presentAuditEvent) };
    if (wantsJson(req)) return res.status(status).json({ [kind.key]: presented, ...view });
    res.status(status).render('inventory/show', {
      title: presented.name,
      kind,
      record: presented,
      ...view,
      events: view.history,
      canEdit: canEditRecord(req.user, record),
      transfer: problems.transfer ?? { value: '', error: '' },
      deleteError: problems.deleteError ?? '',
    });
  }

  router.get(`${base}/new`, access.user, async (req, res) => {
    await renderForm(req, res, 200, { values: submittedValues(kind, {}) });
  });

  router.post(base, access.user, async (req, res) => {
    await submit(req, res, undefined, async () => {
      const fields = parseInput(createSchema(kind), req.body) as RecordFields;
      // A non-admin records their own guests; an admin may name any owner, or none.
      if (!canSetOwner(req.user!)) fields.username = req.user!.username;
      const record = await createRecord(deps, kind, fields, actorOf(req), { viewer: req.user });
      const message = `${Label} ${recordName(kind, record)} added.`;
      if (wantsJson(req)) {
        res.status(201).location(`${base}/${record.id}`).json({ id: record.id, [kind.key === 'container' ? 'containerId' : 'vmId']: record.id, message });
        return;
      }
      flash(req, 'success', message);
      res.redirect(303, `${base}/${record.id}`);
    });
  });

  router.get(`${base}/:id`, access.user, async (req, res) => {
    await renderShow(req, res, await load(req));
  });

  router.get(`${base}/:id/edit`, access.user, async (req, res) => {
    const record = await load(req);
    await renderForm(req, res, 200, { record, values: formValues(kind, record) });
  });

  const update = async (req: Request, res: Response) => {
    const record = await load(req);
    await submit(req, res, record, async () => {
      const fields = parseInput(updateSchema(kind), req.body) as RecordFields;
      if (!canSetOwner(req.user!) && fields.username !== undefined) {
        // The owner changes only through a transfer, which checks who receives it.
        if (fields.username !== record.username) throw new ValidationError('Please correct the highlighted fields.', { username: 'Use "Transfer ownership" to give this record to someone else.' });
        delete fields.username;
      }
      const { changes } = await updateRecord(deps, kind, record, fields, actorOf(req), { viewer: req.user });
      // PUT is the API's (a browser form cannot send it): always JSON.
      if (req.method === 'PUT' || wantsJson(req)) {
        res.json({ success: true, changes });
        return;
      }
      flash(req, 'success', Object.keys(changes).length ? `${Label} ${recordName(kind, record)} saved.` : 'Nothing changed.');
      res.redirect(303, `${base}/${record.id}`);
    });
  };
  router.post(`${base}/:id`, access.user, update);
  router.put(`${base}/:id`, access.user, update);

  const destroy = async (req: Request, res: Response) => {
    const record = await load(req);
    const name = recordName(kind, record);
    await deleteRecord(deps, kind, record, actorOf(req));
    const message = `${Label} ${name} removed from Berth (the guest on Proxmox was not touched).`;
    // DELETE is the API's (the seed's route; a browser form cannot send it): always JSON.
    if (req.method === 'DELETE' || wantsJson(req)) {
      res.json({ success: true, message });
      return;
    }
    flash(req, 'success', message);
    res.redirect(303, base);
  };
  router.delete(`${base}/:id`, access.user, destroy);
  router.post(`${base}/:id/delete`, access.user, async (req, res) => {
    // The form asks for an explicit tick (the page works without JavaScript, so no confirm() dialog to rely on).
    const record = await load(req);
    const confirmed = ['yes', 'on', 'true', true].includes((req.body as { confirm?: unknown } | undefined)?.confirm as string);
    if (!confirmed) {
      const message = `Tick the box to confirm that ${recordName(kind, record)} should be removed.`;
      if (wantsJson(req)) throw new ValidationError(message, { confirm: message });
      return renderShow(req, res, record, 422, { deleteError: message });
    }
    await destroy(req, res);
  });

  router.post(`${base}/:id/owner`, access.user, async (req, res) => {
    const record = await load(req);
    const before = record.username;
    try {
      const { username } = parseInput(transferSchema, req.body);
      await assertTransferTarget(models, req.user!, username);
      const { changes } = await updateRecord(deps, kind, record, { username }, actorOf(req), { action: `${kind.key}.transfer`, viewer: req.user });
      const message = changes.username ? `${Label} ${recordName(kind, record)} now belongs to ${username}.` : `${username} already owns ${recordName(kind, record)}.`;
      if (wantsJson(req)) {
        res.json({ success: true, changes, message });
        return;
      }
      flash(req, 'success', message);
      // Having given it away, a non-admin can no longer see it.
      res.redirect(303, canViewRecord(req.user, record) ? `${base}/${record.id}` : base);
    } catch (err) {
      if (!isFormError(err) || wantsJson(req)) throw err;
      record.username = before;
      const value = typeof req.body?.username === 'string' ? req.body.username : '';
      await renderShow(req, res, record, err.status, { transfer: { value, error: err.fields?.username ?? err.message } });
    }
  });
}
