import type { Edge, EdgeConfigVersion } from '../../models/index.js';

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

/** An edge host: its last pull and what it last reported, and whether that is the served text. */
export interface EdgeView {
  id: number;
  name: string;
  lastPullAt: string | null;
  lastPullAddress: string | null;
  lastPullVersionId: number | null;
  lastReportAt: string | null;
  lastReportVersionId: number | null;
  lastReportSha256: string | null;
  lastResult: 'applied' | 'rejected' | null;
  lastOutput: string | null;
  /** true: it applied the text edges are served now; false: something else; null: no report yet. */
  runsServed: boolean | null;
}

export function presentEdge(row: Edge, served: { sha256: string } | null): EdgeView {
  const iso = (d: Date | null | undefined) => (d ? d.toISOString() : null);
  return {
    id: row.id,
    name: row.name,
    lastPullAt: iso(row.lastPullAt),
    lastPullAddress: row.lastPullAddress ?? null,
    lastPullVersionId: row.lastPullVersionId ?? null,
    lastReportAt: iso(row.lastReportAt),
    lastReportVersionId: row.lastReportVersionId ?? null,
    lastReportSha256: row.lastReportSha256 ?? null,
    lastResult: row.lastResult ?? null,
    lastOutput: row.lastOutput ?? null,
    runsServed: row.lastReportSha256 && row.lastResult === 'applied' ? row.lastReportSha256 === served?.sha256 : row.lastReportSha256 ? false : null,
  };
}
