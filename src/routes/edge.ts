import { Router, type NextFunction, type Request, type Response } from 'express';
import { createTwoFilesPatch } from 'diff';
import { Op } from 'sequelize';
import { recordEdgeReport, pinVersion, unpinVersion } from '../edge/edges.js';
import { nginxBinary } from '../edge/nginx-check.js';
import { publishEdgeConfig } from '../edge/publish.js';
import { allowList, EdgeConfigServer, EdgePullRecorder, isAllowed, matchesEtag } from '../edge/serve.js';
import { WITHOUT_BODY } from '../edge/versions.js';
import { NotFoundError, ServiceUnavailableError } from '../lib/errors.js';
import { parseInput } from '../lib/parse-input.js';
import { access } from '../policies/access.js';
import { loaded, subjectLoaders } from '../policies/subjects.js';
import { presentEdge, presentVersion, presentVersionList, type EdgeView, type VersionView } from '../presenters/edge.js';
import { EDGE_STATE_ID } from '../../models/EdgeState.js';
import { commandContext } from './command.js';
import type { RouteContext } from './context.js';
import { diffQuery, pullHeaders, reportSchema } from './edge.schema.js';
import { respond } from './respond.js';

/** How many versions the admin page lists. */
const VERSIONS_ON_PAGE = 30;

/**
 * The edge: what reverse-proxy hosts pull (GET /nginx.conf) and report (POST /edges/report), and the
 * admin pages over the versions (view, diff, pin, unpin, publish now) and the edges (docs/edge.md).
 */
export function edgeRoutes(ctx: RouteContext) {
  const { models, config } = ctx;
  const load = subjectLoaders(models);
  const allowed = allowList(config);
  // One per app: the served text stays in memory between pulls (src/edge/serve.ts).
  const server = new EdgeConfigServer({ models, sequelize: ctx.sequelize, config, logger: ctx.logger, actor: { username: null } });
  const pulls = new EdgePullRecorder(models);

  /**
   * Who may pull and report: an edge-scope token of an administrator, or an address on
   * EDGE_ALLOW_ADDRESSES; nobody else, not even a signed-in admin (the config names every
   * container's address). Answered here, never by the error handler, which would send a browser-like
   * client to the login page.
   */
  function edgeOnly(req: Request, res: Response, next: NextFunction) {
    const refuse = (status: number, error: string) => {
      if (status === 401) res.setHeader('WWW-Authenticate', 'Bearer realm="berth"');
      res.status(status).json({ error, requestId: String(req.id ?? '') });
    };
    if (req.apiToken) {
      if (req.apiToken.scope !== 'edge') return refuse(403, 'Only an edge token (scope edge) may pull the edge config or report.');
      if (!req.user?.isAdmin) return refuse(403, "This edge token's owner is not an administrator.");
      return next();
    }
    if (isAllowed(allowed, req.ip)) return next();
    if (req.user) return refuse(403, 'The edge config is served to edge tokens and allow-listed addresses only, not to signed-in users.');
    return refuse(401, 'An edge token is required (Authorization: Bearer <token>).');
  }

  /** GET (and HEAD) /nginx.conf: the served version, or 304 when the edge already has it. */
  async function nginxConf(req: Request, res: Response) {
    const { 'x-berth-edge': edge } = parseInput(pullHeaders, { 'x-berth-edge': req.get('x-berth-edge') });
    const served = await server.current();
    if (!served) throw new ServiceUnavailableError('No version of the edge config has passed nginx -t yet (see /admin/edge).');
    // A 304 answers the edge's own file's ETag and a refused version's alike: recorded as such, never as what it runs.
    const notModified = matchesEtag(req.get('if-none-match'), served.etag);
    if (edge) await pulls.record(edge, req.ip ?? null, served.id, notModified ? 304 : 200);
    res.setHeader('ETag', served.etag);
    res.setHeader('X-Berth-Version', String(served.id));
    res.setHeader('Cache-Control', 'no-cache');
    if (notModified) {
      res.status(304).end();
      return;
    }
    res.status(200).type('text/plain; charset=utf-8').send(served.body);
  }

  /** POST /edges/report: what an edge did with a version (applied, or rejected with nginx's words). */
  async function report(req: Request, res: Response) {
    const input = parseInput(reportSchema, req.body);
    await recordEdgeReport(commandContext(ctx, req), input);
    res.status(204).end();
  }

  /* ------------------------------------------------------------------ admin pages */

  async function overview(req: Request, res: Response) {
    const [state, listed, edges] = await Promise.all([
      models.EdgeState.findByPk(EDGE_STATE_ID),
      // One more than the page shows: the last one shown is diffed with it.
      models.EdgeConfigVersion.findAll({ attributes: WITHOUT_BODY, order: [['id', 'DESC']], limit: VERSIONS_ON_PAGE + 1 }),
      models.Edge.findAll({ order: [['name', 'ASC']], limit: 1000 }),
    ]);
    const rows = listed.slice(0, VERSIONS_ON_PAGE);
    const olderId = listed[VERSIONS_ON_PAGE]?.id ?? null;
    const servedId = state?.servedVersionId ?? null;
    const pinnedId = state?.pinnedVersionId ?? null;
    const missing = [servedId, pinnedId].filter((id): id is number => id !== null && !rows.some((r) => r.id === id));
    const extra = missing.length ? await models.EdgeConfigVersion.findAll({ where: { id: missing }, attributes: WITHOUT_BODY }) : [];
    const byId = new Map([...rows, ...extra].map((r) => [r.id, r]));
    // The services rejected versions point at, to link to their container's services.
    const serviceIds = [...new Set(rows.map((r) => r.checkServiceId).filter((id): id is number => id != null))];
    const services = serviceIds.length ? await models.Service.findAll({ where: { id: serviceIds }, attributes: ['id', 'containerId'], raw: true }) : [];
    const containerOf = new Map(services.map((s) => [s.id, s.containerId]));
    const view = (id: number | null): VersionView | null => {
      const row = id === null ? undefined : byId.get(id);
      return row ? presentVersion(row, { servedId, pinnedId, containerOf }) : null;
    };
    const served = view(servedId);
    const versions = presentVersionList(rows, olderId, { servedId, pinnedId, containerOf });
    // The versions edges run that Berth still keeps (with the text they applied), to link to them.
    const appliedIds = [...new Set(edges.map((e) => e.appliedVersionId).filter((id): id is number => id != null))];
    const applied = appliedIds.length ? await models.EdgeConfigVersion.findAll({ where: { id: appliedIds }, attributes: ['id', 'sha256'], raw: true }) : [];
    const kept = new Set(applied.map((v) => `${v.id}:${v.sha256}`));
    const edgeViews: EdgeView[] = edges.map((e) => presentEdge(e, served, kept));
    await respond(req, res, {
      json: { served, pinned: view(pinnedId), versions, edges: edgeViews },
      page: { view: 'edge/index', locals: { title: 'Edge config', served, pinned: view(pinnedId), versions, edges: edgeViews, checking: nginxBinary(config) !== null } },
    });
  }

  async function showVersion(req: Request, res: Response) {
    const meta = loaded(res, 'edgeConfigVersion');
    const row = await models.EdgeConfigVersion.findByPk(meta.id, { attributes: ['body'], raw: true });
    if (!row) throw new NotFoundError('No such version.');
    const state = await models.EdgeState.findByPk(EDGE_STATE_ID);
    const version = presentVersion(meta, { servedId: state?.servedVersionId ?? null, pinnedId: state?.pinnedVersionId ?? null, containerOf: new Map() });
    const previous = await models.EdgeConfigVersion.findOne({ where: { id: { [Op.lt]: meta.id } }, attributes: ['id'], order: [['id', 'DESC']] });
    await respond(req, res, {
      json: { version, body: row.body },
      page: { view: 'edge/version', locals: { title: `Edge config version ${meta.id}`, version, body: row.body, previousId: previous?.id ?? null } },
    });
  }

  async function diff(req: Request, res: Response) {
    const { from, to } = parseInput(diffQuery, req.query);
    const rows = await models.EdgeConfigVersion.findAll({ where: { id: [from, to] }, attributes: ['id', 'body'], raw: true });
    const a = rows.find((r) => r.id === from);
    const b = rows.find((r) => r.id === to);
    if (!a || !b) throw new NotFoundError(`No version ${!a ? from : to}.`);
    const patch = createTwoFilesPatch(`version ${from}`, `version ${to}`, a.body, b.body, '', '', { context: 3 });
    await respond(req, res, {
      json: { from, to, diff: patch },
      page: { view: 'edge/diff', locals: { title: `Edge config: version ${from} → ${to}`, from, to, diff: patch, lines: patch.split('\n') } },
    });
  }

  async function pin(req: Request, res: Response) {
    const version = loaded(res, 'edgeConfigVersion');
    await pinVersion(commandContext(ctx, req), version);
    const message = `Version ${version.id} is pinned: edges get it until you unpin it.`;
    await respond(req, res, { json: { pinnedVersionId: version.id, servedVersionId: version.id }, flash: { type: 'success', message }, redirect: '/admin/edge' });
  }

  async function unpin(req: Request, res: Response) {
    const { servedVersionId, wasPinned } = await unpinVersion(commandContext(ctx, req));
    const message = wasPinned ? `Version ${wasPinned} is no longer pinned: edges get ${servedVersionId ? `version ${servedVersionId}` : 'nothing yet'}.` : 'Nothing was pinned.';
    await respond(req, res, { json: { pinnedVersionId: null, servedVersionId }, flash: { type: 'success', message }, redirect: '/admin/edge' });
  }

  async function publish(req: Request, res: Response) {
    const cmd = commandContext(ctx, req);
    const result = await publishEdgeConfig(cmd, { reason: `published by hand (${req.user!.username})`, recheck: true });
    const { version, changed } = result;
    // The request itself is the admin's act: audited on its own, with what it produced.
    await cmd.sequelize.transaction((transaction) =>
      cmd.auditor.record(cmd.actor, { action: 'edge.publish', objectType: 'edgeConfigVersion', objectId: version.id, objectLabel: `version ${version.id}`, changes: { status: { after: version.status }, changed: { after: changed } } }, transaction),
    );
    const message = !changed
      ? `Nothing changed since version ${version.id}.`
      : version.status === 'published'
        ? `Version ${version.id} published.`
        : `Version ${version.id} was rejected by nginx -t; edges keep the last good version.`;
    await respond(req, res, {
      status: changed ? 201 : 200,
      json: result,
      flash: { type: version.status === 'published' ? 'success' : 'error', message },
      redirect: '/admin/edge',
    });
  }

  const router = Router();
  // The edge's side: authenticated by edgeOnly (token of scope edge, or an allow-listed address).
  router.get('/nginx.conf', access.public, edgeOnly, nginxConf);
  router.post('/edges/report', access.public, edgeOnly, report);
  // The admin pages.
  router.get('/admin/edge', access.admin, overview);
  router.get('/admin/edge/diff', access.admin, diff);
  router.get('/admin/edge/versions/:versionId', access.admin, load.edgeConfigVersion('view', 'versionId'), showVersion);
  router.post('/admin/edge/publish', access.admin, publish);
  // Pin before unpin: the route matrix and the audit test walk routes in this order, so a pin they
  // make is undone by the unpin that follows.
  router.post('/admin/edge/versions/:versionId/pin', access.admin, load.edgeConfigVersion('change', 'versionId'), pin);
  router.post('/admin/edge/unpin', access.admin, unpin);
  return router;
}
