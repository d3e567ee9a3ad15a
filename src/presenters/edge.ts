import type { Edge, EdgeConfigVersion } from '../../models/index.js';
import type { EdgePullStatus, EdgeResult } from '../../models/Edge.js';

/** A version as the admin page and the API show it (never its body: that has its own page). */
export interface VersionView {
  id: number;
  sha256: string;
  status: 'published' | 'rejected';
  checked: boolean;
  serviceCount: number;
  reason: string | null;
  createdBy: string | null;
  createdAt: string;
  /** The `# service` lines added (+) and removed (-) since the version before it. */
  changes: string[];
  served: boolean;
  pinned: boolean;
  /** A rejected version: nginx -t's words exactly, and the service it pointed at (with its container, when it still exists). */
  checkOutput: string | null;
  checkServiceId: number | null;
  checkServiceLink: string | null;
}

export interface VersionContext {
  servedId: number | null;
  pinnedId: number | null;
  /** serviceId → containerId, for the services rejected versions point at that still exist. */
  containerOf: ReadonlyMap<number, number>;
}

export function presentVersion(row: EdgeConfigVersion, ctx: VersionContext): VersionView {
  const containerId = row.checkServiceId == null ? undefined : ctx.containerOf.get(row.checkServiceId);
  return {
    id: row.id,
    sha256: row.sha256,
    status: row.status,
    checked: Boolean(row.checked),
    serviceCount: row.serviceCount,
    reason: row.reason ?? null,
    createdBy: row.createdBy ?? null,
    createdAt: row.createdAt.toISOString(),
    changes: row.changes ? row.changes.split('\n') : [],
    served: row.id === ctx.servedId,
    pinned: row.id === ctx.pinnedId,
    checkOutput: row.checkOutput ?? null,
    checkServiceId: row.checkServiceId ?? null,
    checkServiceLink: containerId === undefined ? null : `/containers/${containerId}#services`,
  };
}

/** A version in the admin page's list, with the one to diff it with. */
export interface VersionListItem extends VersionView {
  /** The next older version Berth still keeps (ids have gaps: pruned versions), or null for the oldest. */
  previousId: number | null;
}

/**
 * The admin page's list: `rows` newest first, and `olderId` the version just past the page (so the
 * last one shown has something to diff with too).
 */
export function presentVersionList(rows: readonly EdgeConfigVersion[], olderId: number | null, ctx: VersionContext): VersionListItem[] {
  return rows.map((row, i) => ({ ...presentVersion(row, ctx), previousId: rows[i + 1]?.id ?? olderId }));
}

/**
 * An edge host: what it runs (its last `applied` report) and whether that is the served text; its
 * last report (which may be a refusal: it then still runs what it applied before); its last pull.
 */
export interface EdgeView {
  id: number;
  name: string;
  /** When it last pulled, from where, the version served then, and how: 200 (sent) or 304 (it named that ETag). */
  lastPullAt: string | null;
  lastPullAddress: string | null;
  lastPullVersionId: number | null;
  lastPullStatus: EdgePullStatus | null;
  lastReportAt: string | null;
  lastReportVersionId: number | null;
  lastReportSha256: string | null;
  lastResult: EdgeResult | null;
  lastOutput: string | null;
  /** The version it runs, as its last `applied` report said; null before one. */
  appliedVersionId: number | null;
  appliedSha256: string | null;
  appliedAt: string | null;
  /** Whether Berth still keeps that version with that text (a link to it works). */
  appliedVersionKept: boolean;
  /** true: what it runs is the text served now; false: something else; null: it never reported applying one. */
  runsServed: boolean | null;
}

/** `kept`: `id:sha256` of the applied versions Berth still has. */
export function presentEdge(row: Edge, served: { sha256: string } | null, kept: ReadonlySet<string> = new Set()): EdgeView {
  const iso = (d: Date | null | undefined) => (d ? d.toISOString() : null);
  const appliedSha256 = row.appliedSha256 ?? null;
  const appliedVersionId = row.appliedVersionId ?? null;
  return {
    id: row.id,
    name: row.name,
    lastPullAt: iso(row.lastPullAt),
    lastPullAddress: row.lastPullAddress ?? null,
    lastPullVersionId: row.lastPullVersionId ?? null,
    lastPullStatus: row.lastPullStatus ?? null,
    lastReportAt: iso(row.lastReportAt),
    lastReportVersionId: row.lastReportVersionId ?? null,
    lastReportSha256: row.lastReportSha256 ?? null,
    lastResult: row.lastResult ?? null,
    lastOutput: row.lastOutput ?? null,
    appliedVersionId,
    appliedSha256,
    appliedAt: iso(row.appliedAt),
    appliedVersionKept: appliedVersionId !== null && appliedSha256 !== null && kept.has(`${appliedVersionId}:${appliedSha256}`),
    runsServed: appliedSha256 === null ? null : appliedSha256 === served?.sha256,
  };
}
