import { Router, type Request, type Response } from 'express';
import { fn, col } from 'sequelize';
import type { Node } from '../../models/index.js';
import { parseInput } from '../lib/parse-input.js';
import { wantsJson } from '../middlewares/errorHandler.js';
import { access } from '../policies/access.js';
import { loaded, subjectLoaders } from '../policies/subjects.js';
import { nodeFormValues, presentNode, submittedNodeValues, type NodeFormValues } from '../presenters/node.js';
import { presentNodeSync } from '../presenters/node-sync.js';
import { createNode, deleteNode, nodeReferences, testNodeConnection, updateNode, type ConnectionTest } from '../services/nodes.js';
import { commandContext } from './command.js';
import type { RouteContext } from './context.js';
import { nodeCreateSchema, nodeFormSchema, nodeUpdateSchema } from './nodes.schema.js';
import { formHandler, respond, type FormFailure, type PageAnswer } from './respond.js';

/** Admin pages for Proxmox nodes: list, register, edit, delete (refused while used), test connection. */
export function nodeRoutes(ctx: RouteContext) {
  const { models, config, vault } = ctx;
  const load = subjectLoaders(models);

  /** Grouped counts: two queries whatever the number of nodes. */
  async function countsByNode(): Promise<Map<number, { containers: number; vms: number }>> {
    const grouped = (model: typeof models.Container | typeof models.VirtualMachine) =>
      (model as typeof models.Container).findAll({ attributes: ['nodeId', [fn('COUNT', col('id')), 'n']], group: ['nodeId'], raw: true }) as unknown as Promise<Array<{ nodeId: number | null; n: number | string }>>;
    const [cts, vms] = await Promise.all([grouped(models.Container), grouped(models.VirtualMachine)]);
    const out = new Map<number, { containers: number; vms: number }>();
    const at = (id: number) => out.get(id) ?? out.set(id, { containers: 0, vms: 0 }).get(id)!;
    for (const r of cts) if (r.nodeId !== null) at(r.nodeId).containers = Number(r.n);
    for (const r of vms) if (r.nodeId !== null) at(r.nodeId).vms = Number(r.n);
    return out;
  }

  async function showPage(node: Node, extra: { status?: number; test?: ConnectionTest; testSeconds?: string; error?: string } = {}): Promise<PageAnswer> {
    const view = { ...presentNode(node, await nodeReferences(models, node.id)), sync: presentNodeSync(node) };
    return { view: 'nodes/show', status: extra.status, locals: { title: node.name, node: view, test: extra.test ?? null, testSeconds: extra.testSeconds ?? null, error: extra.error ?? null } };
  }

  function renderForm(res: Response, opts: { node: Node | null; values: NodeFormValues; status?: number; error?: string | null; fields?: Record<string, string> }) {
    res.status(opts.status ?? 200).render('nodes/form', {
      title: opts.node ? `Edit ${opts.node.name}` : 'New node',
      node: opts.node ? presentNode(opts.node) : null,
      values: opts.values,
      error: opts.error ?? null,
      fields: opts.fields ?? {},
    });
  }

  /** A refused form (422/409) comes back with the field messages and what was typed. */
  const rerender = (res: Response, node: Node | null, failure: FormFailure) =>
    renderForm(res, { node, values: submittedNodeValues(failure.values), status: failure.status, error: failure.error, fields: failure.fields });
  const rerenderNewForm = (_req: Request, res: Response, failure: FormFailure) => rerender(res, null, failure);
  const rerenderEditForm = (_req: Request, res: Response, failure: FormFailure) => rerender(res, loaded(res, 'node'), failure);

  /** A refused delete (409: still used) is shown on the node's page. */
  async function rerenderShow(_req: Request, res: Response, failure: FormFailure) {
    const page = await showPage(loaded(res, 'node'), { status: failure.status, error: failure.error });
    res.status(failure.status).render(page.view, page.locals);
  }

  /**
   * The form sends every field, an unticked checkbox being absent (false); an API client sends what
   * it sets (`apiSchema`: tlsVerify defaults to true on create, absent fields are kept on update).
   */
  const nodeInput = (req: Request, apiSchema: typeof nodeCreateSchema | typeof nodeUpdateSchema) => parseInput(wantsJson(req) ? apiSchema : nodeFormSchema, req.body);

  async function list(req: Request, res: Response) {
    const [nodes, counts] = await Promise.all([models.Node.findAll({ order: [['name', 'ASC']], limit: 1000 }), countsByNode()]);
    const rows = nodes.map((n) => ({ ...presentNode(n, counts.get(n.id)), sync: presentNodeSync(n) }));
    await respond(req, res, { json: { nodes: rows }, page: { view: 'nodes/index', locals: { title: 'Nodes', nodes: rows } } });
  }

  function newForm(_req: Request, res: Response) {
    renderForm(res, { node: null, values: nodeFormValues(null) });
  }

  async function create(req: Request, res: Response) {
    const node = await createNode(commandContext(ctx, req), nodeInput(req, nodeCreateSchema));
    await respond(req, res, {
      status: 201,
      location: `/nodes/${node.id}`,
      json: { id: node.id, node: presentNode(node) },
      flash: { type: 'success', message: `Node ${node.name} registered. Test the connection to check the token.` },
      redirect: `/nodes/${node.id}`,
    });
  }

  async function show(req: Request, res: Response) {
    const node = loaded(res, 'node');
    await respond(req, res, { json: async () => ({ node: { ...presentNode(node, await nodeReferences(models, node.id)), sync: presentNodeSync(node) } }), page: () => showPage(node) });
  }

  function editForm(_req: Request, res: Response) {
    const node = loaded(res, 'node');
    renderForm(res, { node, values: nodeFormValues(node) });
  }

  async function update(req: Request, res: Response) {
    const node = loaded(res, 'node');
    await updateNode(commandContext(ctx, req), node, nodeInput(req, nodeUpdateSchema));
    await respond(req, res, { json: { success: true, node: presentNode(node) }, flash: { type: 'success', message: `Node ${node.name} saved.` }, redirect: `/nodes/${node.id}` });
  }

  /** PUT is the API's (a browser form cannot send it): always JSON. */
  async function replace(req: Request, res: Response) {
    const node = loaded(res, 'node');
    await updateNode(commandContext(ctx, req), node, parseInput(nodeUpdateSchema, req.body));
    res.json({ success: true, node: presentNode(node) });
  }

  async function destroy(req: Request, res: Response) {
    const node = loaded(res, 'node');
    await deleteNode(commandContext(ctx, req), node);
    const message = `Node ${node.name} deleted.`;
    await respond(req, res, { json: { success: true, message }, flash: { type: 'success', message }, redirect: '/nodes' });
  }

  /** A read of the node, not a change in Berth: not audited (listed as exempt in audit-cases). */
  async function testConnection(req: Request, res: Response) {
    const node = loaded(res, 'node');
    const started = Date.now();
    const test = await testNodeConnection(node, vault, config);
    const ms = Date.now() - started;
    req.log.info({ nodeId: node.id, ok: test.ok, ms }, 'node connection tested');
    await respond(req, res, { json: test, page: () => showPage(node, { test, testSeconds: (ms / 1000).toFixed(1) }) });
  }

  const router = Router();
  router.get('/nodes', access.admin, list);
  router.get('/nodes/new', access.admin, newForm);
  router.post('/nodes', access.admin, formHandler(create, rerenderNewForm));
  router.get('/nodes/:id', access.admin, load.node('view'), show);
  router.get('/nodes/:id/edit', access.admin, load.node('view'), editForm);
  router.post('/nodes/:id', access.admin, load.node('change'), formHandler(update, rerenderEditForm));
  router.put('/nodes/:id', access.admin, load.node('change'), replace);
  router.post('/nodes/:id/delete', access.admin, load.node('change'), formHandler(destroy, rerenderShow));
  router.delete('/nodes/:id', access.admin, load.node('change'), formHandler(destroy, rerenderShow));
  router.post('/nodes/:id/test', access.admin, load.node('view'), testConnection);
  return router;
}
