import net from 'node:net';
import { UniqueConstraintError, type CreationAttributes } from 'sequelize';
import type { Edge, Models } from '../../models/index.js';
import type { EdgePullStatus } from '../../models/Edge.js';
import { EDGE_STATE_ID } from '../../models/EdgeState.js';
import type { Config } from '../../config/index.js';
import { publishEdgeConfig, type PublishContext } from './publish.js';
import { edgeStateCommits } from './versions.js';

/** The version edges get, as served: its text and strong ETag, kept in memory. */
export interface ServedVersion {
  id: number;
  sha256: string;
  /** `"<sha256>"`. */
  etag: string;
  body: string;
}

/** Who may pull and report: an address in EDGE_ALLOW_ADDRESSES (IPv4/IPv6, single or CIDR). */
export function allowList(config: Config): net.BlockList {
  const list = new net.BlockList();
  for (const entry of config.EDGE_ALLOW_ADDRESSES) {
    const [address, bits] = entry.split('/') as [string, string | undefined];
    const type = net.isIPv6(address) ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(address, type);
    else list.addSubnet(address, Number(bits), type);
  }
  return list;
}

/** Whether `ip` (as Express reports it: IPv4-mapped IPv6 for IPv4 peers on a dual-stack socket) is on the list. */
export function isAllowed(list: net.BlockList, ip: string | undefined): boolean {
  if (!ip) return false;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return list.check(mapped[1]!, 'ipv4') || list.check(ip, 'ipv6');
  return net.isIPv6(ip) ? list.check(ip, 'ipv6') : net.isIPv4(ip) ? list.check(ip, 'ipv4') : false;
}

/**
 * The `If-None-Match` header's entity tags: a list (`"a", "b"`), weak tags compared by their value,
 * `*` for any.
 */
export function matchesEtag(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header.split(',').some((raw) => {
    const tag = raw.trim().replace(/^W\//, '');
    return tag === '*' || tag === etag;
  });
}

/**
 * Serves the edge config without reading the registry: each pull reads EdgeState's one row, and the
 * served version's text is loaded only when that row names another version (a publish by any
 * instance, a pin, an unpin). One per app.
 */
export class EdgeConfigServer {
  private cached: ServedVersion | null = null;
  private loading: Promise<ServedVersion | null> | null = null;
  /** What EdgeState said, when, and at which of this process's own commits: trusted for EDGE_PULL_CACHE_MS. */
  private state: { id: number; readAt: number; commits: number } | null = null;

  constructor(
    private readonly cmd: PublishContext,
    private readonly clock: () => number = Date.now,
  ) {}

  /**
   * The id EdgeState names (the pinned version while one is pinned), or null before the first publish.
   * Read at most once per EDGE_PULL_CACHE_MS, and again at once after this process changed it.
   */
  private async servedId(): Promise<number | null> {
    const now = this.clock();
    const s = this.state;
    if (s && s.commits === edgeStateCommits() && now - s.readAt < this.cmd.config.EDGE_PULL_CACHE_MS) return s.id;
    const commits = edgeStateCommits();
    const row = await this.cmd.models.EdgeState.findByPk(EDGE_STATE_ID, { attributes: ['servedVersionId'], raw: true });
    const id = row?.servedVersionId ?? null;
    this.state = id === null ? null : { id, readAt: now, commits };
    return id;
  }

  /**
   * The version edges get now. Before any version is served, the registry is published first; null
   * when even that produced nothing servable (the first version was rejected by nginx -t).
   */
  async current(): Promise<ServedVersion | null> {
    let id = await this.servedId();
    if (id === null) {
      await publishEdgeConfig(this.cmd, { reason: 'first pull: nothing published yet' });
      id = await this.servedId();
      if (id === null) return null;
    }
    if (this.cached?.id === id) return this.cached;
    return this.load(id);
  }

  /** Loads version `id` once, however many pulls ask for it at the same moment. */
  private async load(id: number): Promise<ServedVersion | null> {
    while (this.loading) await this.loading;
    if (this.cached?.id === id) return this.cached;
    this.loading = (async () => {
      const row = await this.cmd.models.EdgeConfigVersion.findByPk(id, { attributes: ['id', 'sha256', 'body'], raw: true });
      if (!row) return null;
      this.cached = { id: row.id, sha256: row.sha256, etag: `"${row.sha256}"`, body: row.body };
      return this.cached;
    })().finally(() => (this.loading = null));
    return this.loading;
  }
}

/** Pulls are recorded on the Edge row at most this often per edge (unless the version changed): a pull is not a write. */
const PULL_RECORD_MS = 60_000;

/**
 * Remembers each edge's pulls (its name from `X-Berth-Edge`): when, from where, which version was
 * served and how (200: its text sent; 304: the edge named its ETag). A pull never says what the edge
 * runs: a 304 also answers the ETag of a version the edge refused (bin/berth-edge-pull sends it with
 * its own file's), and a 200 is not applied yet; that is only what `applied` reports set. The Edge
 * row is created on first sight and updated when the version or the answer changed, or a minute has
 * passed since this instance last wrote it.
 */
export class EdgePullRecorder {
  private readonly written = new Map<string, { at: number; versionId: number; status: EdgePullStatus }>();

  constructor(
    private readonly models: Models,
    private readonly clock: () => number = Date.now,
  ) {}

  async record(name: string, address: string | null, versionId: number, status: EdgePullStatus): Promise<void> {
    const now = this.clock();
    const last = this.written.get(name);
    if (last && last.versionId === versionId && last.status === status && now - last.at < PULL_RECORD_MS) return;
    this.written.set(name, { at: now, versionId, status });
    const values = { lastPullAt: new Date(now), lastPullAddress: address?.slice(0, 64) ?? null, lastPullVersionId: versionId, lastPullStatus: status };
    await upsertEdge(this.models, name, values);
  }
}

/** Updates the Edge named `name`, creating it first when it is new (two instances may race to). */
export async function upsertEdge(models: Models, name: string, values: Partial<CreationAttributes<Edge>>): Promise<void> {
  if (await models.Edge.findOne({ where: { name }, attributes: ['id'], raw: true })) {
    await models.Edge.update(values, { where: { name } });
    return;
  }
  try {
    await models.Edge.create({ name, ...values });
  } catch (err) {
    if (!(err instanceof UniqueConstraintError)) throw err;
    await models.Edge.update(values, { where: { name } });
  }
}
