import { Op, col, type Sequelize, type WhereOptions } from 'sequelize';
import type { Node } from '../../models/index.js';
import type { Job, Models } from '../../models/index.js';
import { KINDS, type InventoryKind } from '../inventory/kinds.js';
import { listFindOptions, listHref, listQuerySchema, todayUtc, type ListScope } from '../inventory/list-query.js';
import { jobListWhere, type JobFilter } from '../jobs/list-filter.js';

/** "Expiring soon" on the dashboard: within this many days (the inventory list's `expiring` filter). */
export const EXPIRING_DAYS = 7;
/** "Failed recently": finished with `failure` within this many days (the jobs list's `within` filter). */
export const FAILED_WITHIN_DAYS = 1;

/** What the requester may see, from the policy (asked by the route: presenters never decide access). */
export interface DashboardVisibility {
  /** Per kind: `scope(user, kind)` and whether the owner filters apply, as the lists get it. */
  records: Record<InventoryKind['key'], ListScope>;
  /** `scope(user, 'job')`. */
  jobs: WhereOptions<Job>;
  /** Whether the admins' numbers (approvals waiting, nodes) are shown: only to who may open their pages. */
  admin: boolean;
}

/** One number on the dashboard and the list that shows exactly those rows. */
export interface DashboardStat {
  key: string;
  count: number;
  href: string;
  /** The words after the number; with it, the link's accessible name ("3 containers expiring within 7 days"). */
  label: string;
}

/**
 * Nodes the last sync tried and could not read: failed later than they were last read (or never
 * read). A partial sync still succeeds, so this number is what shows a node that has been down for
 * weeks. (A node read through a cluster peer while its own URL failed has both times equal: read.)
 */
export const NOT_SYNCED_WHERE: WhereOptions<Node> = {
  syncFailedAt: { [Op.ne]: null },
  [Op.or]: [{ syncedAt: null }, { syncFailedAt: { [Op.gt]: col('syncedAt') } }],
};

export interface DashboardGroup {
  title: string;
  stats: DashboardStat[];
}

const words = (n: number, one: string, many: string) => (n === 1 ? one : many);

/**
 * The dashboard: what the requester can act on, each number counted with the same query options as
 * the list it links to (`listFindOptions` for containers and VMs, `jobListWhere` for jobs), so the
 * number and the list always agree. A constant number of COUNT queries.
 */
export async function loadDashboard(db: { models: Models; sequelize: Sequelize }, visible: DashboardVisibility, now = new Date()) {
  const { models } = db;
  const today = todayUtc(now);

  /** A count of `kind` under the list's filters `filters` (as the URL has them), and that list's link. */
  async function recordStat(kind: InventoryKind, key: string, filters: Record<string, string>, label: (n: number) => string): Promise<DashboardStat> {
    const query = listQuerySchema(kind).parse(filters);
    const { where, include } = listFindOptions(db, kind, query, visible.records[kind.key], today);
    const count = await kind.model(models).count({ where, include });
    return { key, count, href: listHref(kind, query), label: label(count) };
  }

  async function jobStat(key: string, filter: JobFilter, label: (n: number) => string): Promise<DashboardStat> {
    const count = await models.Job.count({ where: jobListWhere(visible.jobs, filter, now) });
    const params = new URLSearchParams();
    if (filter.status) params.set('status', filter.status);
    if (filter.within !== undefined) params.set('within', String(filter.within));
    return { key, count, href: `/jobs?${params.toString()}`, label: label(count) };
  }

  const recordGroup = (kind: InventoryKind, plural: string) => {
    const one = kind.label;
    const many = kind.plural;
    return Promise.all([
      recordStat(kind, plural, {}, (n) => words(n, one, many)),
      recordStat(kind, `${plural}Expiring`, { expiring: String(EXPIRING_DAYS) }, (n) => `${words(n, one, many)} expiring within ${EXPIRING_DAYS} days`),
      recordStat(kind, `${plural}Drifted`, { drifted: '1' }, (n) => `drifted ${words(n, one, many)}`),
    ]);
  };

  const [containerKind, vmKind] = KINDS;
  const [containers, vms, jobs, approvals, nodes] = await Promise.all([
    recordGroup(containerKind, 'containers'),
    recordGroup(vmKind, 'vms'),
    Promise.all([
      jobStat('failedJobs', { status: 'failure', within: FAILED_WITHIN_DAYS }, (n) => `${words(n, 'job', 'jobs')} failed in the last day`),
      jobStat('pendingJobs', { status: 'pending' }, (n) => `${words(n, 'job', 'jobs')} waiting to run`),
    ]),
    visible.admin
      ? Promise.all([
          models.AccountRequest.count({ where: { status: 'pending' } }).then((count) => ({ key: 'accountRequests', count, href: '/account-requests', label: `${words(count, 'account request', 'account requests')} to review` })),
          models.ContainerRequest.count({ where: { status: 'pending' } }).then((count) => ({ key: 'containerRequests', count, href: '/containers/requests', label: `${words(count, 'container request', 'container requests')} to review` })),
        ])
      : Promise.resolve(null),
    visible.admin
      ? Promise.all([
          models.Node.count().then((count) => ({ key: 'nodes', count, href: '/nodes', label: words(count, 'node', 'nodes') })),
          models.Node.count({ where: NOT_SYNCED_WHERE }).then((count) => ({ key: 'nodesNotSynced', count, href: '/nodes', label: `${words(count, 'node', 'nodes')} not read by the last sync` })),
        ])
      : Promise.resolve(null),
  ]);

  const groups: DashboardGroup[] = [
    { title: visible.admin ? 'Containers' : 'Your containers', stats: containers },
    { title: visible.admin ? 'VMs' : 'Your VMs', stats: vms },
    { title: visible.admin ? 'Jobs' : 'Your jobs', stats: jobs },
  ];
  if (approvals) groups.push({ title: 'Waiting for approval', stats: approvals });
  if (nodes) groups.push({ title: 'Cluster', stats: nodes });

  const all = groups.flatMap((g) => g.stats);
  return {
    groups,
    expiringDays: EXPIRING_DAYS,
    counts: Object.fromEntries(all.map((s) => [s.key, s.count])) as Record<string, number>,
    links: Object.fromEntries(all.map((s) => [s.key, s.href])) as Record<string, string>,
  };
}

export type DashboardView = Awaited<ReturnType<typeof loadDashboard>>;
