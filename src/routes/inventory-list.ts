import { once } from 'node:events';
import { Router, type Request, type Response } from 'express';
import { stringify } from 'csv-stringify';
import { actorOf } from '../audit/index.js';
import { applyBulkEdit, bulkEditSchema } from '../inventory/bulk-edit.js';
import { csvColumns, toCell } from '../inventory/csv-columns.js';
import { KINDS, type InventoryKind, type InventoryRecord } from '../inventory/kinds.js';
import { exportHref, isFiltered, listFindOptions, listHref, listQuerySchema, PAGE_SIZES, sortLinks, todayUtc, type ListQuery } from '../inventory/list-query.js';
import { AppError, ConflictError, ValidationError } from '../lib/errors.js';
import { safeRedirectPath } from '../lib/safe-redirect.js';
import { wantsJson } from '../middlewares/errorHandler.js';
import { flash } from '../middlewares/flash.js';
import { parseInput } from '../middlewares/validate.js';
import { access } from '../policies/access.js';
import { presentInventoryRow } from '../presenters/inventory-row.js';
import type { RouteContext } from './index.js';

/** The export's row cap: a spreadsheet beyond this is not what anyone wants from a list. */
export const EXPORT_MAX_ROWS = 100_000;
const EXPORT_BATCH = 1000;
const FILTER_KEYS = ['q', 'node', 'status', 'owner', 'expiring', 'expired', 'unowned', 'drifted', 'tag', 'sort', 'dir', 'per'] as const;

/** What the list page shows besides the rows: a failed filter or bulk form, with what was typed. */
interface PageExtras {
  error?: AppError;
  values?: Record<string, string>;
  bulkError?: AppError;
  bulkValues?: Record<string, unknown>;
}

/** First string of a query/body value (a repeated parameter arrives as an array). */
const text = (x: unknown): string => (typeof x === 'string' ? x : Array.isArray(x) && typeof x[0] === 'string' ? x[0] : '');

function formValues(query: ListQuery): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of FILTER_KEYS) {
    const value = query[key];
    out[key] = value === undefined || value === false ? '' : value === true ? '1' : String(value);
  }
  return out;
}

/**
 * The container and VM lists (`GET /containers`, `/vms`), their CSV export and the admins' bulk
 * edit: one set of handlers, mounted once per kind.
 */
export function inventoryListRoutes(ctx: RouteContext) {
  const router = Router();
  for (const kind of KINDS) mountKind(router, ctx, kind);
  return router;
}

function mountKind(router: Router, ctx: RouteContext, kind: InventoryKind) {
  const { models, sequelize } = ctx;
  const model = kind.model(models);
  const schema = listQuerySchema(kind);
  const defaults = schema.parse({});
  const jsonKey = kind.basePath.slice(1);
  const viewer = (req: Request) => ({ username: req.user!.username, isAdmin: req.user!.isAdmin });

  /** One page of the view: its rows (presented) and the total, in two queries. */
  async function findPage(req: Request, query: ListQuery) {
    const today = todayUtc();
    const { rows, count } = await model.findAndCountAll({ ...listFindOptions(ctx, kind, query, viewer(req), today), limit: query.per, offset: (query.page - 1) * query.per });
    return { rows: rows.map((r) => presentInventoryRow(kind, r, today)), total: count, pages: Math.max(1, Math.ceil(count / query.per)) };
  }

  async function renderList(req: Request, res: Response, query: ListQuery | null, extras: PageExtras = {}, status = 200) {
    const found = query ? await findPage(req, query) : { rows: [], total: 0, pages: 1 };
    const q = query ?? defaults;
    const pages = found.pages;
    const nodes = (await models.Node.findAll({ attributes: ['id', 'name'], order: [['name', 'ASC']] })).map((n) => ({ id: n.id, name: n.name }));
    res.status(status).render('inventory/index', {
      title: kind.plural[0].toUpperCase() + kind.plural.slice(1),
      kind: { key: kind.key, label: kind.label, plural: kind.plural, basePath: kind.basePath, nameLabel: kind.nameLabel },
      isAdmin: req.user!.isAdmin,
      valid: query !== null,
      rows: found.rows,
      total: found.total,
      page: q.page,
      pages,
      values: extras.values ?? formValues(q),
      error: extras.error ?? null,
      nodes,
      statuses: kind.statuses,
      perOptions: PAGE_SIZES,
      sorts: sortLinks(kind, q),
      prevHref: q.page > 1 ? listHref(kind, q, { page: Math.min(q.page - 1, pages) }) : null,
      nextHref: q.page < pages ? listHref(kind, q, { page: q.page + 1 }) : null,
      exportHref: exportHref(kind, q),
      currentHref: listHref(kind, q),
      filtered: isFiltered(q),
      bulkError: extras.bulkError ?? null,
      bulk: extras.bulkValues ?? {},
      // Ticked again after a refused edit, whether sent one per box or packed as "1,2,3" by the script.
      selected: new Set<string>([extras.bulkValues?.ids].flat().flatMap((x) => (typeof x === 'string' || typeof x === 'number' ? String(x).split(',') : []))),
    });
  }

  router.get(kind.basePath, access.user, async (req, res) => {
    let query: ListQuery;
    try {
      query = parseInput(schema, req.query);
    } catch (err) {
      if (wantsJson(req) || !(err instanceof ValidationError)) throw err;
      const values = Object.fromEntries(FILTER_KEYS.map((k) => [k, text(req.query[k])]));
      return renderList(req, res, null, { error: err, values }, 422);
    }
    if (!wantsJson(req)) return renderList(req, res, query);
    const { rows, total, pages } = await findPage(req, query);
    res.json({ [jsonKey]: rows, total, page: query.page, per: query.per, pages });
  });

  router.get(`${kind.basePath}/export.csv`, access.user, async (req, res) => {
    const query = parseInput(schema, req.query);
    const options = listFindOptions(ctx, kind, query, viewer(req));
    const columns = csvColumns(kind);
    const cells = (r: InventoryRecord) => columns.map((c) => toCell(c.field === 'node' ? (r as InventoryRecord & { node?: { name: string } | null }).node?.name : r.get(c.field)));
    const batch = (offset: number) => model.findAll({ ...options, limit: Math.min(EXPORT_BATCH, EXPORT_MAX_ROWS - offset), offset });
    // The first batch is read before any byte is sent, so a failure there is still a proper error page.
    let rows = await batch(0);
    res.setHeader('Content-Type', 'text/csv; charset=utf-8');
    res.setHeader('Content-Disposition', `attachment; filename="${kind.plural.toLowerCase()}-${todayUtc()}.csv"`);
    const csv = stringify();
    csv.pipe(res);
    const gone = new AbortController();
    res.on('close', () => gone.abort());
    try {
      csv.write(columns.map((c) => c.header));
      for (let offset = 0; ; ) {
        for (const r of rows) if (!csv.write(cells(r))) await once(csv, 'drain', { signal: gone.signal });
        offset += rows.length;
        if (rows.length < EXPORT_BATCH || offset >= EXPORT_MAX_ROWS || gone.signal.aborted) break;
        rows = await batch(offset);
      }
      csv.end();
    } catch (err) {
      // The client left (abort) or the database failed mid-file: the response cannot become an error page now.
      if (!gone.signal.aborted) req.log.error({ err }, 'CSV export failed');
      res.destroy();
    }
  });

  router.post(`${kind.basePath}/bulk`, access.admin, async (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const backTo = safeRedirectPath(body.returnTo, kind.basePath);
    try {
      const input = parseInput(bulkEditSchema, body);
      const updated = await applyBulkEdit({ models, sequelize, auditor: ctx.auditor }, kind, input, actorOf(req), req.user);
      if (wantsJson(req)) return res.json({ updated });
      const selected = new Set(input.ids).size;
      flash(req, 'success', updated ? `${updated} of ${selected} selected ${selected === 1 ? kind.label : kind.plural} changed.` : `Nothing to change: the selected ${kind.plural} already had those values.`);
      res.redirect(303, backTo);
    } catch (err) {
      if (wantsJson(req) || !(err instanceof ValidationError || err instanceof ConflictError)) throw err;
      // Re-render the list the form was on, with the error and the selection kept.
      const url = new URL(backTo, 'http://berth.invalid');
      const parsed = url.pathname === kind.basePath ? schema.safeParse(Object.fromEntries(url.searchParams)) : null;
      return renderList(req, res, parsed?.success ? parsed.data : defaults, { bulkError: err, bulkValues: body }, err.status);
    }
  });
}
