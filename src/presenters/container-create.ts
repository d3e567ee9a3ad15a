import type { Config } from '../../config/index.js';
import type { OfferedTemplate } from '../provisioning/offer.js';

const text = (v: unknown, fallback = '') => (v === undefined || v === null ? fallback : Array.isArray(v) ? String(v[v.length - 1] ?? '') : String(v));

/** The create form's locals: the choices (templates, nodes), the limits and the values to show. */
export function presentCreateForm(
  offered: OfferedTemplate[],
  config: Pick<Config, 'CONTAINER_MAX_CORES' | 'CONTAINER_MAX_MEMORY_MB' | 'CONTAINER_MAX_DISK_GB'>,
  opts: { isAdmin: boolean; values: Record<string, unknown>; defaultExpiry: string; maxExpiry: string },
) {
  const nodes = new Map<number, string>();
  for (const t of offered) for (const n of t.nodes) nodes.set(n.id, n.name);
  const v = opts.values;
  return {
    templates: offered.map((t) => ({ osRelease: t.osRelease, nodeNames: t.nodes.map((n) => n.name).join(', ') })),
    nodes: [...nodes].map(([id, name]) => ({ id, name })).sort((a, b) => a.name.localeCompare(b.name)),
    limits: { cores: config.CONTAINER_MAX_CORES, memoryMb: config.CONTAINER_MAX_MEMORY_MB, diskGb: config.CONTAINER_MAX_DISK_GB },
    isAdmin: opts.isAdmin,
    maxExpiry: opts.isAdmin ? '' : opts.maxExpiry,
    values: {
      hostname: text(v.hostname),
      osRelease: text(v.osRelease),
      nodeId: text(v.nodeId, 'auto'),
      cores: text(v.cores, '1'),
      memoryMb: text(v.memoryMb, '512'),
      diskGb: text(v.diskGb, '8'),
      httpPort: text(v.httpPort),
      sshPublicKey: text(v.sshPublicKey),
      aiContainer: text(v.aiContainer) === 'Y' || text(v.aiContainer) === 'on',
      expiresAt: text(v.expiresAt, Object.keys(v).length ? '' : opts.defaultExpiry),
      purpose: text(v.purpose),
      submitForApproval: text(v.submitForApproval) === 'on' || text(v.submitForApproval) === 'true',
    },
  };
}
