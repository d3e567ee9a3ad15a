import { once } from 'node:events';
import { Router, type Request, type Response } from 'express';
import { applyBulkEdit, bulkEditSchema } from '../inventory/bulk-edit.js';
import { csvColumns, csvWriter, toCell } from '../inventory/csv-columns.js';
import { KINDS, type InventoryKind, type InventoryRecord } from '../inventory/kinds.js';
import { exportHref, isFiltered, listFindOptions, listHref, listQuerySchema, PAGE_SIZES, sortLinks, todayUtc, type ListQuery, type ListScope } from '../inventory/list-query.js';
import { parseInput } from '../lib/parse-input.js';
import { safeRedirectPath } from '../lib/safe-redirect.js';
import { access } from '../policies/access.js';
import { can, mayViewRecord, scope } from '../policies/authorize.js';
import { presentInventoryRow } from '../presenters/inventory-row.js';
import { commandContext } from './command.js';
import type { RouteContext } from './context.js';
import { bulkReturnTo, FILTER_KEYS, listTypedValues } from './inventory-list.schema.js';
import { formHandler, respond, type FormFailure, type PageAnswer } from './respond.js';

/** The export's row cap: a spreadsheet beyond this is not what anyone wants from a list. */
export const EXPORT_MAX_ROWS = 100_000;
const EXPORT_BATCH = 1000;

/** A refused form as the list page shows it: the summary and the field messages. */
interface FormProblem {
  message: string;
  fields: Record<string, string>;
}

/** What the list page shows besides the rows: a refused filter or bulk form, with what was typed. */
interface PageExtras {
  error?: FormProblem;
  values?: Record<string, string>;
  bulkError?: FormProblem;
  bulkValues?: Record<string, unknown>;
}

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
  const { models } = ctx;
  const model = kind.model(models);
  const schema = listQuerySchema(kind);
  const defaults = schema.parse({});
  const jsonKey = kind.basePath.slice(1);

  /**
   * The rows the caller may see (a non-admin: their own). The owner filters mean something only to
   * whoever sees every owner's records.
   */
  const visibleTo = (req: Request): ListScope => ({ where: scope(req.user!, kind.key), ownerFilters: can(req.user, 'seeAllOwners') });

  /** One page of the view: its rows (presented) and the total, in two queries. */
  async function findPage(req: Request, query: ListQuery) {
    const today = todayUtc();
    const { rows, count } = await model.findAndCountAll({ ...listFindOptions(ctx, kind, query, visibleTo(req), today), limit: query.per, offset: (query.page - 1) * query.per });
    return { rows: rows.map((r) => presentInventoryRow(kind, r, today)), total: count, pages: Math.max(1, Math.ceil(count / query.per)) };
  }

  async function listPage(req: Request, query: ListQuery | null, extras: PageExtras = {}): Promise<PageAnswer> {
    const found = query ? await findPage(req, query) : { rows: [], total: 0, pages: 1 };
    const q = query ?? defaults;
    const pages = found.pages;
    const nodes = (await models.Node.findAll({ attributes: ['id', 'name'], order: [['name', 'ASC']] })).map((n) => ({ id: n.id, name: n.name }));
    return {
      view: 'inventory/index',
      locals: {
        title: kind.plural[0].toUpperCase() + kind.plural.slice(1),
        kind: { key: kind.key, label: kind.label, plural: kind.plural, basePath: kind.basePath, nameLabel: kind.nameLabel },
        // The page's word for "sees every owner's records": the whole list, the owner filters, bulk edit.
        isAdmin: visibleTo(req).ownerFilters,
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
      },
    };
  }

  async function renderList(req: Request, res: Response, status: number, query: ListQuery | null, extras: PageExtras) {
    const page = await listPage(req, query, extras);
    res.status(status).render(page.view, page.locals);
  }

  async function list(req: Request, res: Response) {
    const query = parseInput(schema, req.query);
    await respond(req, res, {
      json: async () => {
        const { rows, total, pages } = await findPage(req, query);
        return { [jsonKey]: rows, total, page: query.page, per: query.per, pages };
      },
      page: () => listPage(req, query),
    });
  }

  /** Refused filters: the page without rows, with the messages and the filters as typed. */
  const rerenderList = (req: Request, res: Response, failure: FormFailure) =>
    renderList(req, res, failure.status, null, { error: { message: failure.error, fields: failure.fields }, values: parseInput(listTypedValues, req.query) });

  async function exportCsv(req: Request, res: Response) {
    const query = parseInput(schema, req.query);
    const options = listFindOptions(ctx, kind, query, visibleTo(req));
    const columns = csvColumns(kind);
    const cells = (r: InventoryRecord) => columns.map((c) => toCell(c.field === 'node' ? (r as InventoryRecord & { node?: { name: string } | null }).node?.name : r.get(c.field)));
    const batch = (offset: number) => model.findAll({ ...options, limit: Math.min(EXPORT_BATCH, EXPORT_MAX_ROWS - offset), offset });
    // The first batch is read before any byte is sent, so a failure there is still a proper error page.
    let rows = await batch(0);
    res.setHeader('Content-Type', 'text/csv; charset=utf-8');
    res.setHeader('Content-Disposition', `attachment; filename="${kind.plural.toLowerCase()}-${todayUtc()}.csv"`);
    const csv = csvWriter();
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
  }

  async function bulkEdit(req: Request, res: Response) {
    const input = parseInput(bulkEditSchema, req.body);
    const updated = await applyBulkEdit(commandContext(ctx, req), kind, input, mayViewRecord(req.user));
    const selected = new Set(input.ids).size;
    await respond(req, res, {
      json: { updated },
      flash: { type: 'success', message: updated ? `${updated} of ${selected} selected ${selected === 1 ? kind.label : kind.plural} changed.` : `Nothing to change: the selected ${kind.plural} already had those values.` },
      redirect: safeRedirectPath(input.returnTo, kind.basePath),
    });
  }

  /** A refused bulk edit: the list the form was on, with the error and the selection kept. */
  async function rerenderBulk(req: Request, res: Response, failure: FormFailure) {
    const { returnTo } = parseInput(bulkReturnTo, failure.values);
    const url = new URL(safeRedirectPath(returnTo, kind.basePath), 'http://berth.invalid');
    const parsed = url.pathname === kind.basePath ? schema.safeParse(Object.fromEntries(url.searchParams)) : null;
    await renderList(req, res, failure.status, parsed?.success ? parsed.data : defaults, { bulkError: { message: failure.error, fields: failure.fields }, bulkValues: failure.values });
  }

  router.get(kind.basePath, access.user, formHandler(list, rerenderList));
  router.get(`${kind.basePath}/export.csv`, access.user, exportCsv);
  router.post(`${kind.basePath}/bulk`, access.admin, formHandler(bulkEdit, rerenderBulk));
}
