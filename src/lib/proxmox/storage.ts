// Storages and the container templates on them.
import type { Proxmox } from 'proxmox-api';
import { coerceNumbers } from './numbers.js';
import type { StorageInfo, TemplateInfo } from './types.js';

const STORAGE_NUMBERS = ['active', 'enabled', 'shared', 'total', 'used', 'avail', 'used_fraction'] as const;

/** Storage reads. Reached as `client.storage`. */
export class StorageApi {
  constructor(private readonly api: Proxmox.Api) {}

  /** `GET /nodes/{node}/storage`, optionally only those holding `content` (e.g. `vztmpl`, `rootdir`). */
  async list(node: string, opts: { content?: string } = {}): Promise<StorageInfo[]> {
    const rows = (await this.api.nodes.$(node).storage.$get(opts.content ? { content: opts.content } : undefined)) as Record<string, unknown>[];
    return rows.map((r) => {
      const row = coerceNumbers(r, STORAGE_NUMBERS);
      const content = typeof row.content === 'string' ? row.content.split(',').filter(Boolean) : [];
      return { ...row, content } as StorageInfo;
    });
  }

  /**
   * Container templates (`content=vztmpl`) on one storage, or on every active storage of the node
   * that holds templates when `storage` is omitted (an inactive one, e.g. an unmounted NFS share,
   * would fail the whole list with `storage '...' is not online`).
   */
  async templates(node: string, storage?: string): Promise<TemplateInfo[]> {
    const stores = storage
      ? [storage]
      : (await this.list(node, { content: 'vztmpl' })).filter((s) => s.active !== 0).map((s) => s.storage);
    const out: TemplateInfo[] = [];
    for (const s of stores) {
      const rows = (await this.api.nodes.$(node).storage.$(s).content.$get({ content: 'vztmpl' })) as Record<string, unknown>[];
      for (const r of rows) {
        const row = coerceNumbers(r, ['size', 'ctime']);
        const volid = String(row.volid);
        out.push({
          volid,
          storage: s,
          file: volid.slice(volid.lastIndexOf('/') + 1),
          ...(typeof row.size === 'number' ? { size: row.size } : {}),
          ...(typeof row.format === 'string' ? { format: row.format } : {}),
          ...(typeof row.ctime === 'number' ? { ctime: row.ctime } : {}),
        });
      }
    }
    return out;
  }
}
