import { Router, type Request, type Response } from 'express';
import { Op, type Sequelize, type WhereOptions } from 'sequelize';
import type { AuditEvent } from '../../models/index.js';
import { likeCondition, likeEscape } from '../lib/db/like.js';
import { parseInput } from '../lib/parse-input.js';
import { access } from '../policies/access.js';
import { presentAuditEvents } from '../presenters/audit.js';
import { AUDIT_FILTER_KEYS, AUDIT_PAGE_SIZES, auditQuerySchema, auditTypedValues, type AuditQuery } from './audit.schema.js';
import type { RouteContext } from './context.js';
import { formHandler, respond, type FormFailure } from './respond.js';

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

/** What the visitor typed, as strings for the form. */
const typedValues = (req: Request): Record<string, string> => parseInput(auditTypedValues, req.query);

/** The admins' audit log: `GET /audit`, every recorded write, newest first, filtered from the URL. */
export function auditRoutes({ models, sequelize }: RouteContext) {
  /** What the page shows when there is nothing to show. */
  const pageDefaults = { title: 'Audit log', events: [], total: 0, page: 1, pages: 1, prevHref: null, nextHref: null, error: null, fields: {}, perOptions: AUDIT_PAGE_SIZES };

  function render(res: Response, status: number, locals: Record<string, unknown>) {
    res.status(status).render('audit/index', { ...pageDefaults, ...locals });
  }

  /** A refused filter: the page again, with the messages and what was typed, and no events. */
  function rerender(req: Request, res: Response, failure: FormFailure) {
    render(res, failure.status, { error: failure.error, fields: failure.fields, values: typedValues(req) });
  }

  async function list(req: Request, res: Response) {
    const query = parseInput(auditQuerySchema, req.query);
    const { rows, count } = await models.AuditEvent.findAndCountAll({
      where: auditWhere(sequelize, query),
      order: [['id', 'DESC']],
      limit: query.per,
      offset: (query.page - 1) * query.per,
    });
    // The names behind ids in the changes (nodes, users, domains): one query per table for the page.
    const events = await presentAuditEvents(models, rows);
    const values = { ...typedValues(req), per: String(query.per) };
    const pages = Math.max(1, Math.ceil(count / query.per));
    await respond(req, res, {
      json: { events, total: count, page: query.page, per: query.per },
      page: {
        view: 'audit/index',
        locals: {
          ...pageDefaults,
          events,
          total: count,
          page: query.page,
          pages,
          values,
          prevHref: query.page > 1 ? pageHref(values, Math.min(query.page - 1, pages)) : null,
          nextHref: query.page < pages ? pageHref(values, query.page + 1) : null,
        },
      },
    });
  }

  const router = Router();
  router.get('/audit', access.admin, formHandler(list, rerender));
  return router;
}
