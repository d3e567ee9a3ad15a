import { Router, type Request, type Response } from 'express';
import type { IpPool, Node, User } from '../../models/index.js';
import { parseInput } from '../lib/parse-input.js';
import { access } from '../policies/access.js';
import { loaded, subjectLoaders } from '../policies/subjects.js';
import {
  poolFormValues,
  presentPool,
  presentQuotaRow,
  presentTemplate,
  submittedPoolValues,
  submittedQuotaValues,
  submittedTemplateValues,
  templatesByNode,
  type PoolFormValues,
} from '../presenters/provisioning-settings.js';
import { heldAddresses } from '../provisioning/addresses.js';
import { defaultQuota, overrideOf, usageOf, type QuotaInput } from '../provisioning/quota.js';
import {
  addTemplate,
  addTemplates,
  createPool,
  deletePool,
  deleteTemplate,
  discoverTemplates,
  poolNotes,
  quotaOverrides,
  setUserQuota,
  updatePool,
  userNamed,
} from '../provisioning/settings.js';
import { commandContext } from './command.js';
import type { RouteContext } from './context.js';
import { discoveredSchema, poolSchema, quotaByNameSchema, quotaSchema, templateSchema } from './provisioning-settings.schema.js';
import { formHandler, respond, type FormFailure } from './respond.js';

/** What a page shows about a refused form: the summary, the field messages, what was typed. */
interface FormState<V> {
  error: string | null;
  fields: Record<string, string>;
  values: V;
}

const clean = <V>(values: V): FormState<V> => ({ error: null, fields: {}, values });
const refused = <V>(failure: FormFailure, values: V): FormState<V> => ({ error: failure.error, fields: failure.fields, values });

/**
 * Admin settings for self-service containers: the templates each node offers (typed in, or
 * discovered on the nodes' storages), IPv4 pools per node and bridge, and per-user quota overrides.
 */
export function provisioningSettingsRoutes(ctx: RouteContext) {
  const { models, config } = ctx;
  const load = subjectLoaders(models);

  const allNodes = () => models.Node.findAll({ order: [['name', 'ASC']], limit: 1000 });
  const nodeOptions = (nodes: Node[]) => nodes.map((n) => ({ id: n.id, name: n.name }));

  /* ---------------------------------------------------------------- templates */

  async function templatesPage(form: FormState<ReturnType<typeof submittedTemplateValues>>, status = 200) {
    const [nodes, rows] = await Promise.all([allNodes(), models.ContainerTemplate.findAll({ limit: 10_000 })]);
    return { view: 'provisioning/templates', status, locals: { title: 'Container templates', section: 'templates', groups: templatesByNode(nodes, rows), nodes: nodeOptions(nodes), form } };
  }

  async function listTemplates(req: Request, res: Response) {
    await respond(req, res, {
      json: async () => {
        const [nodes, rows] = await Promise.all([allNodes(), models.ContainerTemplate.findAll({ limit: 10_000 })]);
        return { templates: templatesByNode(nodes, rows).flatMap((g) => g.templates) };
      },
      page: () => templatesPage(clean(submittedTemplateValues({}))),
    });
  }

  async function createTemplate(req: Request, res: Response) {
    const row = await addTemplate(commandContext(ctx, req), parseInput(templateSchema, req.body));
    const node = (await models.Node.findByPk(row.nodeId))!;
    await respond(req, res, {
      status: 201,
      json: { template: presentTemplate(row, node.name) },
      flash: { type: 'success', message: `${row.osRelease} (${row.volid}) is now offered on ${node.name}.` },
      redirect: '/admin/templates',
    });
  }

  async function rerenderTemplates(_req: Request, res: Response, failure: FormFailure) {
    const page = await templatesPage(refused(failure, submittedTemplateValues(failure.values)), failure.status);
    res.status(page.status).render(page.view, page.locals);
  }

  async function destroyTemplate(req: Request, res: Response) {
    const row = loaded(res, 'containerTemplate');
    await deleteTemplate(commandContext(ctx, req), row);
    const message = `${row.osRelease} (${row.volid}) is no longer offered.`;
    await respond(req, res, { json: { success: true, message }, flash: { type: 'success', message }, redirect: '/admin/templates' });
  }

  /** The discovery page: a read of the nodes' storages, not a change in Berth (nothing is audited). */
  async function discoveryPage(form: FormState<Record<string, unknown>>, status = 200) {
    const found = await discoverTemplates(ctx);
    return { view: 'provisioning/discover', status, locals: { title: 'Discover templates', section: 'templates', ...found, form } };
  }

  async function discover(req: Request, res: Response) {
    const page = await discoveryPage(clean({}));
    const { found, problems, asked } = page.locals;
    await respond(req, res, { json: { found, problems, asked }, page });
  }

  async function addDiscovered(req: Request, res: Response) {
    const { templates } = parseInput(discoveredSchema, req.body);
    const { added, skipped } = await addTemplates(commandContext(ctx, req), templates);
    const message = `${added.length} template${added.length === 1 ? '' : 's'} added${skipped.length ? `; ${skipped.length} already offered` : ''}.`;
    await respond(req, res, {
      status: 201,
      json: { added: added.map((r) => ({ id: r.id, nodeId: r.nodeId, volid: r.volid, osRelease: r.osRelease })), skipped },
      flash: { type: 'success', message },
      redirect: '/admin/templates',
    });
  }

  /** A refused pick (no box ticked, an empty label) shows the discovery again, with what was typed. */
  async function rerenderDiscovery(_req: Request, res: Response, failure: FormFailure) {
    const page = await discoveryPage(refused(failure, failure.values));
    res.status(failure.status).render(page.view, page.locals);
  }

  /* ---------------------------------------------------------------- IP pools */

  async function poolViews() {
    const [nodes, pools, held] = await Promise.all([allNodes(), models.IpPool.findAll({ limit: 10_000 }), heldAddresses(models)]);
    const names = new Map(nodes.map((n) => [n.id, n.name]));
    const views = pools
      .map((p) => presentPool(p, names.get(p.nodeId) ?? `node ${p.nodeId}`, held))
      .sort((a, b) => a.nodeName.localeCompare(b.nodeName) || a.bridge.localeCompare(b.bridge));
    return { nodes, views };
  }

  async function poolsPage(form: FormState<PoolFormValues>, status = 200) {
    const { nodes, views } = await poolViews();
    return { view: 'provisioning/pools', status, locals: { title: 'IP pools', section: 'pools', pools: views, nodes: nodeOptions(nodes), form } };
  }

  async function listPools(req: Request, res: Response) {
    await respond(req, res, {
      json: async () => ({ pools: (await poolViews()).views }),
      page: () => poolsPage(clean(poolFormValues(null, config.PROVISION_BRIDGE))),
    });
  }

  /** The flash after a save: the pool, plus what the admin should know (a gateway skipped). */
  const poolSaved = (pool: IpPool, verb: string) => [`IP pool ${pool.cidr} on ${pool.bridge} ${verb}.`, ...poolNotes(pool)].join(' ');

  async function createPoolHandler(req: Request, res: Response) {
    const pool = await createPool(commandContext(ctx, req), parseInput(poolSchema, req.body));
    const { views } = await poolViews();
    await respond(req, res, {
      status: 201,
      location: `/admin/ip-pools/${pool.id}`,
      json: { pool: views.find((v) => v.id === pool.id) },
      flash: { type: 'success', message: poolSaved(pool, 'created') },
      redirect: '/admin/ip-pools',
    });
  }

  async function rerenderPools(_req: Request, res: Response, failure: FormFailure) {
    const page = await poolsPage(refused(failure, submittedPoolValues(failure.values)), failure.status);
    res.status(page.status).render(page.view, page.locals);
  }

  async function poolEditPage(pool: IpPool, form: FormState<PoolFormValues>, status = 200) {
    const { nodes, views } = await poolViews();
    return { view: 'provisioning/pool-form', status, locals: { title: `IP pool ${pool.cidr}`, section: 'pools', pool: views.find((v) => v.id === pool.id), nodes: nodeOptions(nodes), form } };
  }

  async function showPool(req: Request, res: Response) {
    const pool = loaded(res, 'ipPool');
    await respond(req, res, {
      json: async () => ({ pool: (await poolViews()).views.find((v) => v.id === pool.id) }),
      page: () => poolEditPage(pool, clean(poolFormValues(pool, config.PROVISION_BRIDGE))),
    });
  }

  async function updatePoolHandler(req: Request, res: Response) {
    const pool = await updatePool(commandContext(ctx, req), loaded(res, 'ipPool'), parseInput(poolSchema, req.body));
    const { views } = await poolViews();
    await respond(req, res, { json: { pool: views.find((v) => v.id === pool.id) }, flash: { type: 'success', message: poolSaved(pool, 'saved') }, redirect: '/admin/ip-pools' });
  }

  async function rerenderPoolEdit(_req: Request, res: Response, failure: FormFailure) {
    const page = await poolEditPage(loaded(res, 'ipPool'), refused(failure, submittedPoolValues(failure.values)), failure.status);
    res.status(page.status).render(page.view, page.locals);
  }

  async function destroyPool(req: Request, res: Response) {
    const pool = loaded(res, 'ipPool');
    await deletePool(commandContext(ctx, req), pool);
    const message = `IP pool ${pool.cidr} on ${pool.bridge} deleted; new containers on that node get their address by DHCP.`;
    await respond(req, res, { json: { success: true, message }, flash: { type: 'success', message }, redirect: '/admin/ip-pools' });
  }

  /* ---------------------------------------------------------------- quotas */

  async function quotaRows() {
    const defaults = defaultQuota(config);
    const overrides = await quotaOverrides(models);
    const rows = await Promise.all(overrides.map(async ({ user, override }) => presentQuotaRow(user, override, defaults, await usageOf(models, user.username))));
    return { defaults, rows };
  }

  async function quotasPage(form: FormState<ReturnType<typeof submittedQuotaValues>>, status = 200) {
    return { view: 'provisioning/quotas', status, locals: { title: 'Quotas', section: 'quotas', ...(await quotaRows()), form } };
  }

  async function listQuotas(req: Request, res: Response) {
    await respond(req, res, { json: quotaRows, page: () => quotasPage(clean(submittedQuotaValues({}))) });
  }

  async function saveQuota(req: Request, res: Response, user: User, input: QuotaInput) {
    const row = await setUserQuota(commandContext(ctx, req), user, input);
    const defaults = defaultQuota(config);
    const view = presentQuotaRow(user, overrideOf(row), defaults, await usageOf(models, user.username));
    const message = row ? `Quota of ${user.username} saved.` : `${user.username} has the default quota again.`;
    await respond(req, res, { json: { quota: view }, flash: { type: 'success', message }, redirect: '/admin/quotas' });
  }

  async function setQuotaByName(req: Request, res: Response) {
    const { username, ...input } = parseInput(quotaByNameSchema, req.body);
    const user = await userNamed(models, username);
    await saveQuota(req, res, user, input);
  }

  async function setQuota(req: Request, res: Response) {
    await saveQuota(req, res, loaded(res, 'user'), parseInput(quotaSchema, req.body));
  }

  async function rerenderQuotas(_req: Request, res: Response, failure: FormFailure) {
    const page = await quotasPage(refused(failure, submittedQuotaValues(failure.values)), failure.status);
    res.status(page.status).render(page.view, page.locals);
  }

  /** A refused row form (the user is in the path): the page names whose row it was. */
  async function rerenderQuotaRow(_req: Request, res: Response, failure: FormFailure) {
    const user = loaded(res, 'user');
    const page = await quotasPage(refused(failure, { ...submittedQuotaValues(failure.values), username: user.username }), failure.status);
    res.status(page.status).render(page.view, page.locals);
  }

  const router = Router();
  router.get('/admin/templates', access.admin, listTemplates);
  router.post('/admin/templates', access.admin, formHandler(createTemplate, rerenderTemplates));
  router.post('/admin/templates/discover', access.admin, discover);
  router.post('/admin/templates/discovered', access.admin, formHandler(addDiscovered, rerenderDiscovery));
  router.post('/admin/templates/:templateId/delete', access.admin, load.containerTemplate('change', 'templateId'), destroyTemplate);
  router.get('/admin/ip-pools', access.admin, listPools);
  router.post('/admin/ip-pools', access.admin, formHandler(createPoolHandler, rerenderPools));
  router.get('/admin/ip-pools/:poolId', access.admin, load.ipPool('view', 'poolId'), showPool);
  router.post('/admin/ip-pools/:poolId', access.admin, load.ipPool('change', 'poolId'), formHandler(updatePoolHandler, rerenderPoolEdit));
  router.post('/admin/ip-pools/:poolId/delete', access.admin, load.ipPool('change', 'poolId'), destroyPool);
  router.get('/admin/quotas', access.admin, listQuotas);
  router.post('/admin/quotas', access.admin, formHandler(setQuotaByName, rerenderQuotas));
  router.post('/admin/quotas/:userId', access.admin, load.user('change', 'userId'), formHandler(setQuota, rerenderQuotaRow));
  return router;
}
