// GET and POST /nodes/{node}/lxc/{vmid}/snapshot (README §9.3, pve-container API2/LXC/Snapshot.pm,
// pve-guest-common AbstractConfig.pm). Only the reserved names are refused before the task; every
// other problem, a duplicate name included, fails the `vzsnapshot` task. While the task runs the
// config holds `lock: snapshot` and the new entry `snapstate: prepare`.
import { configFileBusy } from '../config-lock.js';
import { die, noConfig } from '../errors.js';
import { int, str, who, type Ctx, type Handler, type SimCore } from '../core.js';
import { parsePropertyString } from '../property-string.js';
import { configDigest, type Guest, type SnapshotRec } from '../state.js';

const RESERVED = new Set(['current', 'vzdump']);

/** Storage types whose volumes can take snapshots (a raw file on `dir`, `nfs` or `cifs` cannot). */
const SNAPSHOT_CAPABLE = new Set(['lvmthin', 'zfspool', 'rbd', 'cephfs']);

/** Whether every volume of the container (rootfs and mount points) sits on a storage that snapshots. */
function canSnapshot(core: SimCore, g: Guest): boolean {
  return Object.keys(g.config).filter((k) => k === 'rootfs' || /^mp\d+$/.test(k)).every((key) => {
    const volid = parsePropertyString(String(g.config[key]), { defaultKey: 'volume' }).volume ?? '';
    const storeId = volid.split(':')[0];
    const storage = core.state.storagesOn(g.node).find((s) => s.id === storeId);
    return !!storage && SNAPSHOT_CAPABLE.has(storage.type) && !/\.raw$/.test(volid);
  });
}

/** The config file lock, then `__snapshot_prepare`'s checks, in its order; the message, or null when the snapshot may be taken. */
function prepareError(core: SimCore, node: string, vmid: number, name: string): string | null {
  const busy = configFileBusy(core, vmid);
  if (busy) return busy;
  const g = core.state.guests.get(vmid);
  if (!g || g.node !== node || g.type !== 'lxc') return noConfig(node, vmid, 'lxc').message;
  if (Number(g.config.template) === 1) return "you can't take a snapshot if it's a template";
  if (g.config.lock !== undefined) return `CT is locked (${g.config.lock})`;
  if (g.snapshots?.some((s) => s.name === name)) return `snapshot name '${name}' already used`;
  if (!canSnapshot(core, g)) return 'snapshot feature is not available';
  return null;
}

function create(ctx: Ctx): unknown {
  const { core } = ctx;
  const node = str(ctx, 'node')!;
  const vmid = int(ctx, 'vmid')!;
  const name = str(ctx, 'snapname')!;
  if (RESERVED.has(name)) throw die(`unable to use snapshot name '${name}' (reserved name)`);
  const refused = prepareError(core, node, vmid, name);
  if (refused !== null) {
    return core.tasks.start({ node, type: 'vzsnapshot', id: vmid, principal: who(ctx), lines: [], work: () => { throw die(refused); } });
  }
  // The worker starts at once: from now on the config is locked and the entry is being prepared.
  const g = core.state.guests.get(vmid)!;
  const snapshot: SnapshotRec = {
    name, snaptime: core.clock.seconds(), description: str(ctx, 'description') ?? '',
    ...(g.config.parent !== undefined ? { parent: String(g.config.parent) } : {}), snapstate: 'prepare',
  };
  (g.snapshots ??= []).push(snapshot);
  g.config.lock = 'snapshot';
  let upid = '';
  const cleanUp = () => {
    core.tasks.tasks.get(upid)?.log.push('snapshot create failed: starting cleanup');
    g.snapshots = g.snapshots?.filter((s) => s !== snapshot);
    if (g.config.lock === 'snapshot') delete g.config.lock;
  };
  upid = core.tasks.start({
    node, type: 'vzsnapshot', id: vmid, principal: who(ctx),
    lines: [`create snapshot '${name}'`],
    work: () => {
      delete snapshot.snapstate;
      if (g.config.lock === 'snapshot') delete g.config.lock;
      g.config.parent = name;
    },
    onError: cleanUp,
  });
  return upid;
}

/** Snapshots in stored order, then the `current` pseudo-entry, always last. */
function list(ctx: Ctx): unknown {
  const { core } = ctx;
  const g = core.state.guest(str(ctx, 'node')!, int(ctx, 'vmid')!, 'lxc');
  const rows: Record<string, unknown>[] = (g.snapshots ?? []).map((s) => ({
    name: s.name, snaptime: s.snaptime, description: s.description,
    ...(s.parent !== undefined ? { parent: s.parent } : {}), ...(s.snapstate ? { snapstate: s.snapstate } : {}),
  }));
  rows.push({
    name: 'current', description: 'You are here!', digest: configDigest(g.config), running: g.status === 'running' ? 1 : 0,
    ...(g.config.parent !== undefined ? { parent: String(g.config.parent) } : {}),
  });
  return rows;
}

export const lxcSnapshotHandlers: Record<string, Handler> = {
  'GET /nodes/{node}/lxc/{vmid}/snapshot': list,
  'POST /nodes/{node}/lxc/{vmid}/snapshot': create,
};
