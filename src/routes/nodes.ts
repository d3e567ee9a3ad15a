import { Router, type Request, type Response } from 'express';
import { fn, col } from 'sequelize';
import type { Node } from '../../models/index.js';
import { actorOf } from '../audit/index.js';
import { ConflictError, NotFoundError, ValidationError } from '../lib/errors.js';
import { wantsJson } from '../middlewares/errorHandler.js';
import { flash } from '../middlewares/flash.js';
import { parseInput } from '../middlewares/validate.js';
import { access } from '../policies/access.js';
import { nodeFormValues, presentNode, submittedNodeValues, type NodeFormValues } from '../presenters/node.js';
import { createNode, deleteNode, nodeReferences, testNodeConnection, updateNode, type ConnectionTest } from '../services/nodes.js';
import type { RouteContext } from './index.js';
import { idParam } from '../lib/validators.js';
import { nodeCreateSchema, nodeFormSchema, nodeUpdateSchema } from './nodes.schema.js';

/** Admin pages for Proxmox nodes: list, register, edit, delete (refused while used), test connection. */
export function nodeRoutes(ctx: RouteContext) {
  const { models, config, vault } = ctx;
  const deps = { models, sequelize: ctx.sequelize, auditor: ctx.auditor, vault };
  const router = Router();

  async function load(req: Request): Promise<Node> {
    const { id } = parseInput(idParam, req.params);
    const node = await models.Node.findByPk(id);
    if (!node) throw new NotFoundError('No such node.');
    return node;
  }

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

  async function renderShow(res: Response, node: Node, extra: { status?: number; test?: ConnectionTest; error?: string } = {}) {
    const view = presentNode(node, await nodeReferences(models, node.id));
    res.status(extra.status ?? 200).render('nodes/show', { title: node.name, node: view, test: extra.test ?? null, error: extra.error ?? null });
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

  /** A failed form: re-rendered with the field messages (422/409); JSON gets the error handler's answer. */
  function formFailed(req: Request, res: Response, node: Node | null, err: unknown): void {
    if (wantsJson(req) || !(err instanceof ValidationError || err instanceof ConflictError)) throw err;
    renderForm(res, { node, values: submittedNodeValues(req.body), status: err.status, error: err.message, fields: err.fields });
  }

  router.get('/nodes', access.admin, async (req, res) => {
    const [nodes, counts] = await Promise.all([models.Node.findAll({ order: [['name', 'ASC']], limit: 1000 }), countsByNode()]);
    const rows = nodes.map((n) => presentNode(n, counts.get(n.id)));
    if (wantsJson(req)) return res.json({ nodes: rows });
    res.render('nodes/index', { title: 'Nodes', nodes: rows });
  });

  router.get('/nodes/new', access.admin, (_req, res) => {
    renderForm(res, { node: null, values: nodeFormValues(null) });
  });

  router.post('/nodes', access.admin, async (req, res) => {
    try {
      const input = parseInput(wantsJson(req) ? nodeCreateSchema : nodeFormSchema, req.body);
      const node = await createNode(deps, input, actorOf(req));
      if (wantsJson(req)) return res.status(201).location(`/nodes/${node.id}`).json({ id: node.id, node: presentNode(node) });
      flash(req, 'success', `Node ${node.name} registered. Test the connection to check the token.`);
      res.redirect(303, `/nodes/${node.id}`);
    } catch (err) {
      formFailed(req, res, null, err);
    }
  });

  router.get('/nodes/:id', access.admin, async (req, res) => {
    const node = await load(req);
    if (wantsJson(req)) return res.json({ node: presentNode(node, await nodeReferences(models, node.id)) });
    await renderShow(res, node);
  });

  router.get('/nodes/:id/edit', access.admin, async (req, res) => {
    const node = await load(req);
    renderForm(res, { node, values: nodeFormValues(node) });
  });

  router.post('/nodes/:id', access.admin, async (req, res) => {
    const node = await load(req);
    try {
      const input = parseInput(wantsJson(req) ? nodeUpdateSchema : nodeFormSchema, req.body);
      await updateNode(deps, node, input, actorOf(req));
      if (wantsJson(req)) return res.json({ success: true, node: presentNode(node) });
      flash(req, 'success', `Node ${node.name} saved.`);
      res.redirect(303, `/nodes/${node.id}`);
    } catch (err) {
      formFailed(req, res, node, err);
    }
  });

  router.put('/nodes/:id', access.admin, async (req, res) => {
    const node = await load(req);
    await updateNode(deps, node, parseInput(nodeUpdateSchema, req.body), actorOf(req));
    res.json({ success: true, node: presentNode(node) });
  });

  async function destroy(req: Request, res: Response) {
    const node = await load(req);
    try {
      await deleteNode(deps, node, actorOf(req));
    } catch (err) {
      if (wantsJson(req) || !(err instanceof ConflictError)) throw err;
      return renderShow(res, node, { status: 409, error: err.message });
    }
    if (wantsJson(req)) return res.json({ success: true, message: `Node ${node.name} deleted.` });
    flash(req, 'success', `Node ${node.name} deleted.`);
    res.redirect(303, '/nodes');
  }
  router.post('/nodes/:id/delete', access.admin, destroy);
  router.delete('/nodes/:id', access.admin, destroy);

  // A read of the node, not a change in Berth: not audited (listed as exempt in audit-cases).
  router.post('/nodes/:id/test', access.admin, async (req, res) => {
    const node = await load(req);
    const test = await testNodeConnection(node, vault, config);
    req.log.info({ nodeId: node.id, ok: test.ok }, 'node connection tested');
    if (wantsJson(req)) return res.json(test);
    await renderShow(res, node, { test });
  });

  return router;
}
