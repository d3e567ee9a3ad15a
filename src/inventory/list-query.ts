// Hand-written SQL (allow-listed in eslint.config.js): the tag filter compares the quoted,
// table-qualified tags column with the escaped tag, beside its LIKE … ESCAPE forms (src/lib/db/like.ts).
import { Op, type FindOptions, type Sequelize, type WhereOptions } from 'sequelize';
import { z } from 'zod';
import type { Models } from '../../models/index.js';
import { likeCondition, likeEscape } from '../lib/db/like.js';
import * as v from '../lib/validators.js';
import type { InventoryKind, InventoryRecord } from './kinds.js';

/**
 * The state of a container or VM list (search, filters, sort, page) as it lives in the URL, so a
 * view can be bookmarked and shared. Parsed from `req.query` into typed values, then turned into one
 * scoped query: a non-admin's rows are limited to theirs in the WHERE, never filtered afterwards.
 */

export const SORTS = ['name', 'node', 'vmid', 'ip', 'owner', 'status', 'expires', 'updated'] as const;
export type SortKey = (typeof SORTS)[number];
export const PAGE_SIZES = [10, 25, 50, 100, 200] as const;
const DEFAULTS = { sort: 'name', dir: 'asc', page: 1, per: 50 } as const;

const blank = v.blankToUndefined;
const opt = <S extends z.ZodType>(schema: S) => z.preprocess(blank, schema.optional());
/** A filter checkbox (validators.checkbox): off when absent. */
export const checkbox = (label: string) => v.checkbox(`${label} is 1 (on) or 0 (off).`);
const singleTag = v.tags.refine((t) => typeof t === 'string' && !t.includes(','), { message: 'Filter by one tag.' });
const days = z.coerce
  .number({ error: 'Expiring within is a number of days (0–3650).' })
  .int('Expiring within is a whole number of days (0–3650).')
  .min(0, 'Expiring within is a number of days (0–3650).')
  .max(3650, 'Expiring within is a number of days (0–3650).');

/** The list query of `kind` (its statuses differ); unknown parameters are ignored. */
export function listQuerySchema(kind: InventoryKind) {
  return z.object({
    q: opt(v.line(200)),
    node: opt(z.coerce.number({ error: 'Choose a node.' }).int('Choose a node.').positive('Choose a node.')),
    status: opt(z.enum(kind.statuses as [string, ...string[]], { error: `Status is one of: ${kind.statuses.join(', ')}.` })),
    owner: opt(v.username),
    expiring: opt(days),
    expired: checkbox('Expired'),
    unowned: checkbox('No owner'),
    drifted: checkbox('Drifted'),
    tag: opt(singleTag),
    sort: z.preprocess(blank, z.enum(SORTS, { error: `Sort by one of: ${SORTS.join(', ')}.` }).default(DEFAULTS.sort)),
    dir: z.preprocess(blank, z.enum(['asc', 'desc'], { error: 'Direction is asc or desc.' }).default(DEFAULTS.dir)),
    page: z.preprocess(blank, z.coerce.number({ error: 'Page is a number from 1.' }).int('Page is a whole number.').min(1, 'Page is a number from 1.').max(1_000_000, 'Page is at most 1000000.').default(DEFAULTS.page)),
    per: z.preprocess(
      blank,
      z.coerce
        .number({ error: `Rows per page is one of ${PAGE_SIZES.join(', ')}.` })
        .refine((n) => (PAGE_SIZES as readonly number[]).includes(n), { message: `Rows per page is one of ${PAGE_SIZES.join(', ')}.` })
        .default(DEFAULTS.per),
    ),
  });
}

export type ListQuery = z.infer<ReturnType<typeof listQuerySchema>>;

/** What the requester may see, from the policy (asked by the route). */
export interface ListScope {
  /** `scope(user, kind)`: the rows they may see (a non-admin: their own). */
  where: WhereOptions;
  /** Whether the owner and no-owner filters apply: only to whoever sees other owners' rows. */
  ownerFilters: boolean;
}

/** Today as YYYY-MM-DD in UTC: expiry dates are calendar dates, compared as strings. */
export function todayUtc(now = new Date()): string {
  return now.toISOString().slice(0, 10);
}

export function addDays(date: string, n: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

/** The find options (scoped WHERE, node include, whitelisted ORDER) for `query`; LIKEs are escaped (src/lib/db/like.ts). */
export function listFindOptions(db: { sequelize: Sequelize; models: Models }, kind: InventoryKind, query: ListQuery, visible: ListScope, today = todayUtc()): FindOptions<InventoryRecord> {
  const { sequelize } = db;
  const qi = (name: string) => sequelize.getQueryInterface().quoteIdentifier(name);
  // Qualified with the main table's alias: the joined Nodes table also has `name` and `id`.
  const col = (name: string) => `${qi(kind.model(db.models).name)}.${qi(name)}`;
  const like = (column: string, pattern: string) => likeCondition(sequelize, col(column), pattern);
  const tagMatch = (tag: string) => {
    const t = likeEscape(tag);
    return { [Op.or]: [sequelize.literal(`${col('tags')} = ${sequelize.escape(tag)}`), like('tags', `${t},%`), like('tags', `%,${t}`), like('tags', `%,${t},%`)] };
  };

  const and: unknown[] = [visible.where];
  if (visible.ownerFilters) {
    if (query.owner) and.push({ username: query.owner });
    if (query.unowned) and.push({ username: { [Op.is]: null } });
  }
  if (query.q) {
    const p = likeEscape(query.q);
    and.push({
      [Op.or]: [like(kind.nameField, `%${p}%`), like('ipv4Address', `${p}%`), like('macAddress', `%${likeEscape(v.normaliseMac(query.q))}%`), like('username', `%${p}%`), tagMatch(query.q.toLowerCase())],
    });
  }
  if (query.node) and.push({ nodeId: query.node });
  if (query.status) and.push({ status: query.status });
  if (query.expiring !== undefined) and.push({ expiresAt: { [Op.between]: [today, addDays(today, query.expiring)] } });
  if (query.expired) and.push({ expiresAt: { [Op.lt]: today } });
  if (query.drifted) and.push({ drift: { [Op.not]: null } });
  if (query.tag) and.push(tagMatch(query.tag));

  const dir = query.dir === 'desc' ? 'DESC' : 'ASC';
  const columns: Record<Exclude<SortKey, 'node'>, string> = { name: kind.nameField, vmid: 'vmid', ip: 'ipv4Address', owner: 'username', status: 'status', expires: 'expiresAt', updated: 'updatedAt' };
  const first = query.sort === 'node' ? sequelize.col('node.name') : sequelize.col(`${kind.model(db.models).name}.${columns[query.sort]}`);
  return {
    where: { [Op.and]: and } as WhereOptions,
    include: [{ model: db.models.Node, as: 'node', attributes: ['id', 'name'] }],
    // id breaks ties so pages never overlap or skip rows with equal sort values.
    order: [[first, dir], ['id', dir]],
  };
}

/** True when any filter narrows the list (the empty-state message says so). */
export function isFiltered(query: ListQuery): boolean {
  return Boolean(query.q || query.node || query.status || query.owner || query.expiring !== undefined || query.expired || query.unowned || query.drifted || query.tag);
}

/** The query as URL parameters, defaults left out so URLs stay short; `changes` override. */
export function listParams(query: ListQuery, changes: Partial<ListQuery> = {}): URLSearchParams {
  const merged = { ...query, ...changes } as Record<string, unknown>;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(merged)) {
    if (value === undefined || value === null || value === false || value === '') continue;
    if ((DEFAULTS as Record<string, unknown>)[key] === value) continue;
    params.set(key, value === true ? '1' : String(value));
  }
  return params;
}

/** A link to the list with `changes` applied (sort, page). */
export function listHref(kind: InventoryKind, query: ListQuery, changes: Partial<ListQuery> = {}): string {
  const qs = listParams(query, changes).toString();
  return qs ? `${kind.basePath}?${qs}` : kind.basePath;
}

/** The CSV export of the same view: every page, so page and per are dropped. */
export function exportHref(kind: InventoryKind, query: ListQuery): string {
  const params = listParams(query);
  params.delete('page');
  params.delete('per');
  const qs = params.toString();
  return `${kind.basePath}/export.csv${qs ? `?${qs}` : ''}`;
}

/** A sortable column header: the link sorts by it (ascending, or flips the direction when active). */
export function sortLinks(kind: InventoryKind, query: ListQuery): Record<SortKey, { href: string; active: boolean; dir: 'asc' | 'desc' }> {
  const out = {} as Record<SortKey, { href: string; active: boolean; dir: 'asc' | 'desc' }>;
  for (const sort of SORTS) {
    const active = query.sort === sort;
    const dir = active && query.dir === 'asc' ? 'desc' : 'asc';
    out[sort] = { href: listHref(kind, query, { sort, dir, page: 1 }), active, dir: query.dir };
  }
  return out;
}
