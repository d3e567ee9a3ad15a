import { Router, type Request, type Response } from 'express';
import { Op, type Sequelize, type WhereOptions } from 'sequelize';
import type { AuditEvent } from '../../models/index.js';
import { likeCondition, likeEscape } from '../lib/db/like.js';
import { ValidationError } from '../lib/errors.js';
import { wantsJson } from '../middlewares/errorHandler.js';
import { parseInput } from '../middlewares/validate.js';
import { access } from '../policies/access.js';
import { presentAuditEvent } from '../presenters/audit.js';
import { AUDIT_FILTER_KEYS, AUDIT_PAGE_SIZES, auditQuerySchema, type AuditQuery } from './audit.schema.js';
import type { RouteContext } from './index.js';

/** The day after `date` (YYYY-MM-DD), at 00:00 UTC: `to` includes its whole day. */
const dayAfter = (date: string) => new Date(Date.parse(`${date}T00:00:00Z`) + 86_400_000);

/** The WHERE for `query`; user text in LIKEs matches literally (src/lib/db/like.ts). */
export function auditWhere(sequelize: Sequelize, query: AuditQuery): WhereOptions<AuditEvent> {
  const qi = (name: string) => sequelize.getQueryInterface().quoteIdentifier(name);
  const like = (column: string, pattern: string) => likeCondition(sequelize, qi(column), pattern);
  const and: unknown[] = [];
  if (query.actor) and.push({ actor: query.actor });
  if (query.action) {
    const prefix = /^(.*\.)\*?$/.exec(query.action)?.[1];
    and.push(prefix ? like('action', `${likeEscape(prefix)}%`) : { action: query.action });
  }
  if (query.objectType) and.push({ objectType: query.objectType });
  if (query.objectId) and.push({ objectId: query.objectId });
  if (query.q) and.push(like('objectLabel', `%${likeEscape(query.q)}%`));
  if (query.from) and.push({ createdAt: { [Op.gte]: new Date(`${query.from}T00:00:00Z`) } });
  if (query.to) and.push({ createdAt: { [Op.lt]: dayAfter(query.to) } });
  return { [Op.and]: and } as WhereOptions<AuditEvent>;
}

/** The query string of `values` with `page`, keeping only filled-in filters (for page links). */
function pageHref(values: Record<string, string>, page: number): string {
  const params = new URLSearchParams();
  for (const key of AUDIT_FILTER_KEYS) if (values[key]) params.set(key, values[key]);
  params.set('page', String(page));
  return `/audit?${params.toString()}`;
}

/** What the visitor typed, as strings for the form (a repeated parameter keeps its first value). */
function typedValues(req: Request): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of AUDIT_FILTER_KEYS) {
    const v = req.query[key];
    out[key] = typeof v === 'string' ? v : Array.isArray(v) && typeof v[0] === 'string' ? v[0] : '';
  }
  return out;
}

/** The admins' audit log: `GET /audit`, every recorded write, newest first, filtered from the URL. */
export function auditRoutes({ models, sequelize }: RouteContext) {
  const router = Router();

  function render(res: Response, status: number, locals: Record<string, unknown>) {
    res.status(status).render('audit/index', {
      title: 'Audit log',
      events: [],
      total: 0,
      page: 1,
      pages: 1,
      prevHref: null,
      nextHref: null,
      error: null,
      fields: {},
      perOptions: AUDIT_PAGE_SIZES,
      ...locals,
    });
  }

  router.get('/audit', access.admin, async (req, res) => {
    let query: AuditQuery;
    try {
      query = parseInput(auditQuerySchema, req.query);
    } catch (err) {
      if (err instanceof ValidationError && !wantsJson(req)) return render(res, 422, { error: err.message, fields: err.fields ?? {}, values: typedValues(req) });
      throw err;
    }
    const { rows, count } = await models.AuditEvent.findAndCountAll({
      where: auditWhere(sequelize, query),
      order: [['id', 'DESC']],
      limit: query.per,
      offset: (query.page - 1) * query.per,
    });
    const events = rows.map(presentAuditEvent);
    if (wantsJson(req)) return res.json({ events, total: count, page: query.page, per: query.per });
    const values = { ...typedValues(req), per: String(query.per) };
    const pages = Math.max(1, Math.ceil(count / query.per));
    render(res, 200, {
      events,
      total: count,
      page: query.page,
      pages,
      values,
      prevHref: query.page > 1 ? pageHref(values, Math.min(query.page - 1, pages)) : null,
      nextHref: query.page < pages ? pageHref(values, query.page + 1) : null,
    });
  });

  return router;
}
