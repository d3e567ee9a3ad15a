import { Router, type Request, type Response } from 'express';
import { acceptDrift, BulkRefusedError, forgetGone, goneRecords, importableMachines, importMachine, importMachines, loadGoneRecords, namedMachines, relinkCandidates, relinkGone, relinkMatcher, requestInventorySync, unknownAmong, bulkLimitError, DRIFT_BULK_MAX, type Refusal } from '../inventory/drift-actions.js';
import { machineKey } from '../inventory/drift.js';
import { kindByKey, recordName, recordVmid } from '../inventory/kinds.js';
import { wantsJson } from '../middlewares/errorHandler.js';
import { parseInput } from '../lib/parse-input.js';
import { access } from '../policies/access.js';
import { mayViewRecord } from '../policies/authorize.js';
import { driftSelection, loadDriftPage, NO_SELECTION, type DriftSelection } from '../presenters/drift.js';
import { OwnerCheck } from '../inventory/owners.js';
import { ValidationError } from '../lib/errors.js';
import { cleanUpInterruptedCreate } from '../provisioning/leftover-cleanup.js';
import { commandContext } from './command.js';
import type { RouteContext } from './context.js';
import { acceptDriftSchema, bulkGoneSchema, bulkImportSchema, cleanUpLeftoverSchema, importMachineSchema } from './inventory-sync.schema.js';
import { formHandler, respond, type FormFailure } from './respond.js';

/** Sync with Proxmox (admin): run it now, the drift page, and its import / accept actions. */
export function inventorySyncRoutes(ctx: RouteContext) {
  const { models } = ctx;

  async function renderDrift(res: Response, extra: { status?: number; error?: string | null; fields?: Record<string, string>; refusals?: Refusal[]; selection?: DriftSelection } = {}) {
    const page = await loadDriftPage(models);
    res.status(extra.status ?? 200).render('inventory/drift', { title: 'Sync & drift', ...page, error: extra.error ?? null, fields: extra.fields ?? {}, refusals: extra.refusals ?? [], selection: extra.selection ?? NO_SELECTION });
  }

  /** Which bulk form a request came from, so a refusal draws the page with its boxes still ticked. */
  const bulkForm = (req: Request) => (req.path.endsWith('/import-bulk') ? 'import' : req.path.endsWith('/forget') || req.path.endsWith('/relink') ? 'gone' : null);
  const selectionOf = (req: Request, values: unknown) => {
    const form = bulkForm(req);
    return form ? driftSelection(form, (values ?? {}) as Record<string, unknown>) : NO_SELECTION;
  };

  /**
   * Runs a bulk action; when it refused some of its items (nothing was written), answers with the
   * list: JSON `{error, <done>: [], refused: [{ref, name, error, fields}]}`, or the drift page with it.
   */
  async function bulk(req: Request, res: Response, done: string, work: () => Promise<void>) {
    try {
      await work();
    } catch (err) {
      if (!(err instanceof BulkRefusedError)) throw err;
      const refused = err.refused.map(({ status: _status, ...r }) => r);
      if (wantsJson(req)) {
        res.status(err.status).json({ error: err.message, [done]: [], refused });
        return;
      }
      await renderDrift(res, { status: err.status, error: err.message, refusals: err.refused, selection: selectionOf(req, req.body) });
    }
  }

  /** The confirmation page of a bulk action: what will be done to which items, and one button. */
  function confirmPage(res: Response, view: { heading: string; action: string; field: string; refs: string[]; items: Array<{ label: string; detail: string }>; text: string; button: string; hidden?: Record<string, string> }) {
    res.render('inventory/drift-confirm', { title: view.heading, ...view, packed: view.refs.join(' '), hidden: view.hidden ?? {} });
  }

  /** A refused action, shown above the page's sections with its status (JSON: the error handler). */
  const refused = (req: Request, res: Response, failure: FormFailure) => renderDrift(res, { status: failure.status, error: failure.error, fields: failure.fields, selection: selectionOf(req, failure.values) });

  async function syncNow(req: Request, res: Response) {
    // One sync at a time: with one already pending or running, the answer is that job (200, not 201).
    const { job, existing } = await requestInventorySync(commandContext(ctx, req));
    await respond(req, res, {
      status: existing ? 200 : 201,
      location: `/jobs/${job.id}`,
      json: { id: job.id, status: job.status, existing },
      ...(existing ? { flash: { type: 'info' as const, message: `A sync was already ${job.status === 'running' ? 'running' : 'waiting to run'} (job ${job.id}); no second sync was started.` } } : {}),
      redirect: `/status/${job.id}`,
    });
  }

  async function show(req: Request, res: Response) {
    const page = await loadDriftPage(models);
    await respond(req, res, { json: page, page: { view: 'inventory/drift', locals: { title: 'Sync & drift', ...page, error: null, fields: {}, refusals: [], selection: NO_SELECTION } } });
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

  /**
   * Imports several unknown machines (or all) with one owner. Browsers see a confirmation page first
   * (the count, the owner, the machines); API clients act at once. All or nothing (importMachines).
   */
  async function importSelected(req: Request, res: Response) {
    const input = parseInput(bulkImportSchema, req.body);
    if (!input.confirm && !wantsJson(req)) {
      // The owner rule before the confirmation page: a refused owner is not worth confirming.
      const ownerRefusal = input.username ? await new OwnerCheck(models, 'admin').refusal(input.username) : null;
      if (ownerRefusal) throw new ValidationError('Please correct the highlighted fields.', { username: ownerRefusal });
      // "All" is resolved here, once (every importable machine, counted first: above DRIFT_BULK_MAX a
      // 422): the confirmation page carries the machines it names, so what is confirmed is what is
      // imported, whatever a sync changes meanwhile. A list is labelled from the machines it names.
      const registered = new Set((await models.Node.findAll({ attributes: ['name'] })).map((n) => n.name));
      const importable = input.all ? await importableMachines(models) : (await unknownAmong(models, await namedMachines(models, input.machines!))).filter((s) => registered.has(s.node));
      const byRef = new Map(importable.map((s) => [machineKey(s.kind, s.node, s.vmid), s]));
      if (input.all && !importable.length) throw new ValidationError('There is no unknown machine on a registered node to import.');
      const refs = input.all ? [...byRef.keys()] : [...new Set(input.machines!.map((m) => machineKey(m.kind, m.node, m.vmid)))];
      const owner = input.username ? `owned by ${input.username}` : 'with no owner';
      const count = `${refs.length} ${refs.length === 1 ? 'machine' : 'machines'}`;
      confirmPage(res, {
        heading: `Import ${count}?`,
        action: '/inventory/drift/import-bulk',
        field: 'machines',
        refs,
        items: refs.map((ref) => {
          const s = byRef.get(ref);
          return { label: s?.name ?? ref, detail: s ? `${s.kind === 'lxc' ? 'Container' : 'VM'} ${s.vmid} on ${s.node}` : `${ref}: no longer an unknown machine on a registered node` };
        }),
        text: `Berth will create a record for each of these ${count}${input.all ? ' (every unknown machine on a registered node)' : ''}, ${owner}, each audited. If any of them cannot be imported, none is and the page lists why.`,
        button: `Import ${count} ${owner}`,
        hidden: input.username ? { username: input.username } : {},
      });
      return;
    }
    await bulk(req, res, 'imported', async () => {
      const imported = await importMachines(commandContext(ctx, req), { machines: input.all ? 'all' : input.machines!, username: input.username }, mayViewRecord(req.user));
      const owner = input.username ? ` owned by ${input.username}` : '';
      const message = `Imported ${imported.length} ${imported.length === 1 ? 'machine' : 'machines'}${owner}.`;
      await respond(req, res, {
        status: 201,
        json: { imported: imported.map(({ kind, record }) => ({ id: record.id, kind: kind.key, href: `${kind.basePath}/${record.id}` })), refused: [] },
        flash: { type: 'success', message },
        redirect: '/inventory/drift',
      });
    });
  }

  /**
   * The records a Forget or Re-link names: the list, or with `all` every record gone from Proxmox
   * (for re-link, those with a match in the last sync), at most DRIFT_BULK_MAX.
   */
  async function goneRefs(input: { records?: Array<{ kind: 'container' | 'vm'; id: number }>; all?: boolean }, what: 'forget' | 'relink') {
    if (!input.all) return [...new Map(input.records!.map((r) => [`${r.kind}/${r.id}`, { kind: r.kind, id: r.id }])).values()];
    const all = await goneRecords(models, what);
    if (!all.length) throw new ValidationError(what === 'forget' ? 'No record is gone from Proxmox.' : 'No record gone from Proxmox has a match in the last sync to re-link to.');
    if (all.length > DRIFT_BULK_MAX) throw bulkLimitError(all.length, 'records', 'all');
    return all;
  }

  /**
   * The confirmation page of "Forget" or "Re-link": the records, named, each loaded by its id and,
   * for re-link, matched by the command's rule over every candidate machine (the page carries the
   * list, so what is confirmed is what is done).
   */
  async function confirmGone(res: Response, input: { records?: Array<{ kind: 'container' | 'vm'; id: number }>; all?: boolean }, what: 'forget' | 'relink') {
    const wanted = await goneRefs(input, what);
    const refusals: Refusal[] = [];
    const records = await loadGoneRecords(models, wanted, undefined, refusals);
    const match = what === 'relink' ? relinkMatcher(await relinkCandidates(models, records)) : null;
    const nodeNames = new Map((await models.Node.findAll({ attributes: ['id', 'name'] })).map((n) => [n.id, n.name]));
    const byRef = new Map(records.map((r) => [r.ref, r]));
    const refusedByRef = new Map(refusals.map((r) => [r.ref, r]));
    const refs = wanted.map((r) => `${r.kind}/${r.id}`);
    const count = `${refs.length} ${refs.length === 1 ? 'record' : 'records'}`;
    const items = refs.map((ref) => {
      const loaded = byRef.get(ref);
      if (!loaded) {
        const refusal = refusedByRef.get(ref);
        return { label: refusal?.name ?? ref, detail: refusal?.error ?? 'not a record gone from Proxmox (any more)' };
      }
      const { kind, record } = loaded;
      const name = recordName(kind, record);
      const where = `${kind.label} ${recordVmid(record) ?? '—'} on ${(record.nodeId && nodeNames.get(record.nodeId)) || '—'}`;
      if (!match) return { label: name, detail: where };
      const found = match(kind, record);
      return { label: name, detail: found ? `${where} → ${found.machine.vmid} on ${found.machine.node} (same ${found.by})` : `${where}: no single match in the last sync` };
    });
    if (what === 'forget') {
      confirmPage(res, { heading: `Forget ${count}?`, action: '/inventory/drift/forget', field: 'records', refs, items, text: `Berth will delete these ${count} (with their credentials and services); nothing changes in Proxmox. Each deletion is audited and their audit history is kept. If any cannot be forgotten, none is.`, button: `Forget ${count}` });
    } else {
      confirmPage(res, { heading: `Re-link ${count}?`, action: '/inventory/drift/relink', field: 'records', refs, items, text: `Berth will point each of these ${count} at the machine shown (its node and VMID), each audited. If any cannot be re-linked, none is.`, button: `Re-link ${count}` });
    }
  }

  /** Forgets several records gone from Proxmox (deletes them in Berth), after a confirmation page. */
  async function forget(req: Request, res: Response) {
    const input = parseInput(bulkGoneSchema, req.body);
    if (!input.confirm && !wantsJson(req)) return confirmGone(res, input, 'forget');
    const refs = await goneRefs(input, 'forget');
    await bulk(req, res, 'forgotten', async () => {
      const done = await forgetGone(commandContext(ctx, req), refs);
      const message = `Forgot ${done.length} ${done.length === 1 ? 'record' : 'records'}: ${done.map((d) => d.name).join(', ')}.`;
      await respond(req, res, { json: { forgotten: done.map((d) => ({ id: d.id, kind: d.kind.key })), refused: [] }, flash: { type: 'success', message }, redirect: '/inventory/drift' });
    });
  }

  /** Re-links several gone records to the machine the last sync saw elsewhere, after a confirmation page. */
  async function relink(req: Request, res: Response) {
    const input = parseInput(bulkGoneSchema, req.body);
    if (!input.confirm && !wantsJson(req)) return confirmGone(res, input, 'relink');
    const refs = await goneRefs(input, 'relink');
    await bulk(req, res, 'relinked', async () => {
      const done = await relinkGone(commandContext(ctx, req), refs, mayViewRecord(req.user));
      const message = `Re-linked ${done.length} ${done.length === 1 ? 'record' : 'records'}.`;
      await respond(req, res, {
        json: { relinked: done.map((d) => ({ id: d.record.id, kind: d.kind.key, href: `${d.kind.basePath}/${d.record.id}`, node: d.node, vmid: d.vmid })), refused: [] },
        flash: { type: 'success', message },
        redirect: '/inventory/drift',
      });
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
  router.post('/inventory/drift/import-bulk', access.admin, formHandler(importSelected, refused, [404]));
  router.post('/inventory/drift/forget', access.admin, formHandler(forget, refused, [404]));
  router.post('/inventory/drift/relink', access.admin, formHandler(relink, refused, [404]));
  router.post('/inventory/drift/accept', access.admin, formHandler(accept, refused, [404]));
  router.post('/inventory/drift/clean-up', access.admin, formHandler(cleanUp, refused, [404]));
  return router;
}
