// /nodes/{node}/storage: storages of a node and their content (templates and guest volumes).
import { int, str, who, type Ctx, type Handler } from '../core.js';
import { parseSize, splitList } from '../formats.js';
import { parsePropertyString } from '../property-string.js';
import { storageRow } from '../views.js';

function mayAudit(ctx: Ctx, storage: string): boolean {
  const me = who(ctx);
  return ctx.core.perms.has(me, `/storage/${storage}`, 'Datastore.Audit') ||
    ctx.core.perms.has(me, `/storage/${storage}`, 'Datastore.AllocateSpace');
}

function list(ctx: Ctx): unknown {
  const node = str(ctx, 'node')!;
  const wanted = splitList(str(ctx, 'content') ?? '');
  const only = str(ctx, 'storage');
  return ctx.core.state.storagesOn(node)
    .filter((s) => (!only || s.id === only) && (!wanted.length || wanted.some((c) => s.content.includes(c))))
    .filter((s) => mayAudit(ctx, s.id))
    .map(storageRow);
}

function templateFormat(name: string): string {
  const ext = /\.tar\.(zst|gz|xz)$/.exec(name)?.[1];
  return ext ? `t${ext === 'zst' ? 'zst' : ext === 'gz' ? 'gz' : 'xz'}` : 'raw';
}

function content(ctx: Ctx): unknown {
  const { state } = ctx.core;
  const node = str(ctx, 'node')!;
  const s = state.storage(node, str(ctx, 'storage')!);
  const kind = str(ctx, 'content');
  const vmid = int(ctx, 'vmid');
  const rows: Record<string, unknown>[] = [];
  if (s.content.includes('vztmpl') && (!kind || kind === 'vztmpl') && vmid === undefined) {
    for (const t of s.templates) {
      rows.push({ volid: `${s.id}:vztmpl/${t.name}`, format: templateFormat(t.name), content: 'vztmpl', size: t.size, ctime: t.ctime ?? 1_700_000_000 });
    }
  }
  for (const g of state.guests.values()) {
    if (g.node !== node || (vmid !== undefined && g.vmid !== vmid)) continue;
    const type = g.type === 'lxc' ? 'rootdir' : 'images';
    if (!s.content.includes(type) || (kind && kind !== type)) continue;
    const disk = String(g.type === 'lxc' ? g.config.rootfs : (g.config.scsi0 ?? ''));
    const kv = parsePropertyString(disk, { defaultKey: 'volume' });
    if (!kv.volume?.startsWith(`${s.id}:`)) continue;
    rows.push({ volid: kv.volume, format: 'raw', content: type, size: parseSize(kv.size ?? '0') ?? 0, vmid: g.vmid, ctime: 1_700_000_000 });
  }
  return rows;
}

export const storageHandlers: Record<string, Handler> = {
  'GET /nodes/{node}/storage': list,
  'GET /nodes/{node}/storage/{storage}/content': content,
};
