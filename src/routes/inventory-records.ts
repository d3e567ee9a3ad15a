import { Router, type NextFunction, type Request, type Response } from 'express';
import { auditHistory } from '../audit/index.js';
import { KINDS, recordName, type InventoryKind, type InventoryRecord } from '../inventory/kinds.js';
import { createRecord, deleteRecord, transferRecord, updateRecord } from '../inventory/records.js';
import { createSchema, transferSchema, updateSchema, type RecordFields } from '../inventory/schema.js';
import { ValidationError } from '../lib/errors.js';
import { parseInput } from '../lib/parse-input.js';
import { access } from '../policies/access.js';
import { can, mayViewRecord } from '../policies/authorize.js';
import { loaded, subjectLoaders, type SubjectLoaders } from '../policies/subjects.js';
import { presentAuditEvents } from '../presenters/audit.js';
import { listCredentials } from '../presenters/credential.js';
import { formValues, presentRecord, submittedValues } from '../presenters/inventory.js';
import { presentServices } from '../presenters/services.js';
import { presentJob } from '../presenters/job.js';
import { commandContext } from './command.js';
import { provisionHandler } from './containers-create.js';
import { initQuery } from './containers-create.schema.js';
import type { RouteContext } from './context.js';
import { deleteConfirmation } from './inventory-records.schema.js';
import { formHandler, respond, type FormFailure, type PageAnswer } from './respond.js';

/**
 * One container's or VM's pages: new/create, show, edit/update, delete, ownership transfer. The same
 * handlers serve both kinds (mounted once per kind) and both audiences: forms get pages and
 * redirects, API clients JSON. Mounted last among the inventory routers: `/containers/:id` would
 * otherwise match their fixed paths (export.csv, import, bulk).
 */
export function inventoryRecordRoutes(ctx: RouteContext) {
  const router = Router();
  const load = subjectLoaders(ctx.models);
  for (const kind of KINDS) mountKind(router, ctx, load, kind);
  return router;
}

function mountKind(router: Router, ctx: RouteContext, load: SubjectLoaders, kind: InventoryKind) {
  const { models } = ctx;
  const base = kind.basePath;
  const Label = kind.label[0].toUpperCase() + kind.label.slice(1);
  const owner = (record: InventoryRecord) => ({ kind: kind.key, owner: { username: record.username } });
  /** The policy's answers a create or edit needs: who the writer may name as owner (records.ts keeps the rule), and what a clash may name. */
  const writeOptions = (req: Request) => ({ maySetOwner: can(req.user, 'setOwner'), mayView: mayViewRecord(req.user) });

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
      canSetOwner: can(req.user, 'setOwner'),
    });
  }

  /** A refused create or edit: the form again, with the messages and what was typed. */
  const rerender = (req: Request, res: Response, record: InventoryRecord | undefined, failure: FormFailure) =>
    renderForm(req, res, failure.status, { record, values: submittedValues(kind, failure.values), error: failure.error, fields: failure.fields });
  const rerenderNewForm = (req: Request, res: Response, failure: FormFailure) => rerender(req, res, undefined, failure);
  const rerenderEditForm = (req: Request, res: Response, failure: FormFailure) => rerender(req, res, loaded(res, kind.key), failure);

  /** What the detail page and its JSON show: a constant number of queries whatever the record holds. */
  async function detail(req: Request, record: InventoryRecord) {
    const [services, jobs, credentials, events] = await Promise.all([
      kind.key === 'container' ? models.Service.findAll({ where: { containerId: record.id }, order: [['id', 'ASC']] }) : Promise.resolve([]),
      models.Job.findAll({ where: { subjectType: kind.key, subjectId: record.id }, order: [['id', 'DESC']], limit: 20 }),
      listCredentials(models, kind, record.id),
      auditHistory(models, kind.key, record.id),
    ]);
    return { record: presentRecord(kind, record, new Date(), can(req.user, 'operateUnmanaged')), services: await presentServices(models, services), jobs: jobs.map(presentJob), credentials, history: await presentAuditEvents(models, events) };
  }

  /** The detail page, with a refused transfer or delete shown in its form. */
  async function showPage(req: Request, record: InventoryRecord, problems: { transfer?: { value: string; error: string }; deleteError?: string } = {}): Promise<PageAnswer> {
    const { record: presented, ...view } = await detail(req, record);
    return {
      view: 'inventory/show',
      locals: {
        title: presented.name,
        kind,
        record: presented,
        ...view,
        events: view.history,
        canEdit: can(req.user, 'change', owner(record)),
        // A VM's Power buttons: Berth never creates VMs, so only those who may act on such guests get them.
        canOperateVm: kind.key === 'vm' && can(req.user, 'operateUnmanaged'),
        transfer: problems.transfer ?? { value: '', error: '' },
        deleteError: problems.deleteError ?? '',
      },
    };
  }

  async function renderShow(req: Request, res: Response, status: number, problems: Parameters<typeof showPage>[2]) {
    const page = await showPage(req, loaded(res, kind.key), problems);
    res.status(status).render(page.view, page.locals);
  }

  async function newForm(req: Request, res: Response) {
    await renderForm(req, res, 200, { values: submittedValues(kind, {}) });
  }

  async function create(req: Request, res: Response) {
    const fields = parseInput(createSchema(kind), req.body) as RecordFields;
    const record = await createRecord(commandContext(ctx, req), kind, fields, writeOptions(req));
    const message = `${Label} ${recordName(kind, record)} added.`;
    await respond(req, res, {
      status: 201,
      location: `${base}/${record.id}`,
      // `containerId`/`vmId` here is Berth's record id (not the VMID), a key API clients already read.
      json: { id: record.id, [kind.key === 'container' ? 'containerId' : 'vmId']: record.id, message },
      flash: { type: 'success', message },
      redirect: `${base}/${record.id}`,
    });
  }

  async function show(req: Request, res: Response) {
    const record = loaded(res, kind.key);
    await respond(req, res, {
      json: async () => {
        const { record: presented, ...view } = await detail(req, record);
        return { [kind.key]: presented, ...view };
      },
      page: () => showPage(req, record),
    });
  }

  async function editForm(req: Request, res: Response) {
    const record = loaded(res, kind.key);
    await renderForm(req, res, 200, { record, values: formValues(kind, record) });
  }

  /** The edit, for both update routes: returns the record and what changed. */
  async function edit(req: Request, res: Response) {
    const record = loaded(res, kind.key);
    const fields = parseInput(updateSchema(kind), req.body) as RecordFields;
    return updateRecord(commandContext(ctx, req), kind, record, fields, writeOptions(req));
  }

  async function update(req: Request, res: Response) {
    const { record, changes } = await edit(req, res);
    const message = Object.keys(changes).length ? `${Label} ${recordName(kind, record)} saved.` : 'Nothing changed.';
    await respond(req, res, { json: { success: true, changes }, flash: { type: 'success', message }, redirect: `${base}/${record.id}` });
  }

  /** PUT is the API's (a browser form cannot send it): always JSON. */
  async function replace(req: Request, res: Response) {
    const { changes } = await edit(req, res);
    res.json({ success: true, changes });
  }

  /** Removes the record from Berth; returns what to tell the user. */
  async function remove(req: Request, res: Response): Promise<string> {
    const record = loaded(res, kind.key);
    const name = recordName(kind, record);
    await deleteRecord(commandContext(ctx, req), kind, record);
    return `${Label} ${name} removed from Berth (the ${kind.label} on Proxmox was not touched).`;
  }

  /** DELETE is the API's (the seed's route; a browser form cannot send it): always JSON. */
  async function destroy(req: Request, res: Response) {
    res.json({ success: true, message: await remove(req, res) });
  }

  /** The delete form asks for an explicit tick (the page works without JavaScript, so no confirm() dialog to rely on). */
  async function confirmDestroy(req: Request, res: Response) {
    const { confirm } = parseInput(deleteConfirmation, req.body);
    if (!confirm) {
      const message = `Tick the box to confirm that ${recordName(kind, loaded(res, kind.key))} should be removed.`;
      throw new ValidationError(message, { confirm: message });
    }
    const message = await remove(req, res);
    await respond(req, res, { json: { success: true, message }, flash: { type: 'success', message }, redirect: base });
  }

  const rerenderDeleteError = (req: Request, res: Response, failure: FormFailure) => renderShow(req, res, failure.status, { deleteError: failure.error });

  async function transfer(req: Request, res: Response) {
    const record = loaded(res, kind.key);
    const { username } = parseInput(transferSchema, req.body);
    const { changes } = await transferRecord(commandContext(ctx, req), kind, record, username, { anyRecipient: can(req.user, 'setOwner'), mayView: mayViewRecord(req.user) });
    const message = changes.username ? `${Label} ${recordName(kind, record)} now belongs to ${username}.` : `${username} already owns ${recordName(kind, record)}.`;
    // Having given it away, a non-admin can no longer see it.
    await respond(req, res, { json: { success: true, changes, message }, flash: { type: 'success', message }, redirect: can(req.user, 'view', owner(record)) ? `${base}/${record.id}` : base });
  }

  /** A refused transfer: the detail page, with the message beside the name that was typed. */
  function rerenderTransfer(req: Request, res: Response, failure: FormFailure) {
    const value = typeof failure.values.username === 'string' ? failure.values.username : '';
    return renderShow(req, res, failure.status, { transfer: { value, error: failure.fields.username ?? failure.error } });
  }

  const loadRecord = load[kind.key];
  // Containers: /containers/new is the create form (containers-create.ts); recording one that exists
  // is "register existing" for admins, and POST /containers?init=true creates instead of recording.
  if (kind.key === 'container') {
    const provision = provisionHandler(ctx);
    const register = formHandler(create, rerenderNewForm);
    router.get(`${base}/register`, access.admin, newForm);
    router.post(base, access.user, function createOrRegister(req: Request, res: Response, next: NextFunction) {
      const { init } = parseInput(initQuery, req.query);
      return (init ? provision : register)(req, res, next);
    });
  } else {
    router.get(`${base}/new`, access.user, newForm);
    router.post(base, access.user, formHandler(create, rerenderNewForm));
  }
  router.get(`${base}/:id`, access.user, loadRecord('view'), show);
  router.get(`${base}/:id/edit`, access.user, loadRecord('view'), editForm);
  router.post(`${base}/:id`, access.user, loadRecord('change'), formHandler(update, rerenderEditForm));
  router.put(`${base}/:id`, access.user, loadRecord('change'), replace);
  // A container's delete goes to Proxmox as a job (src/routes/containers-lifecycle.ts, mounted earlier).
  if (kind.key !== 'container') {
    router.delete(`${base}/:id`, access.user, loadRecord('change'), destroy);
    router.post(`${base}/:id/delete`, access.user, loadRecord('change'), formHandler(confirmDestroy, rerenderDeleteError));
  }
  router.post(`${base}/:id/owner`, access.user, loadRecord('change'), formHandler(transfer, rerenderTransfer));
}
