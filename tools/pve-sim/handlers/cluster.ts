// Cluster-wide and node-level reads: version, nodes, node status, resources, next free VMID.
import { paramError } from '../errors.js';
import { int, str, who, type Ctx, type Handler } from '../core.js';
import { nodeRow, resourceRows } from '../views.js';

/** Which /cluster/resources rows a principal may see (PVE filters per object). */
function visibleResources(ctx: Ctx): unknown[] {
  const { core } = ctx;
  const me = who(ctx);
  return resourceRows(core.state, core.clock.now(), str(ctx, 'type')).filter((r) => {
    if (r.type === 'node') return core.perms.has(me, `/nodes/${r.node}`, 'Sys.Audit');
    if (r.type === 'storage') return core.perms.has(me, `/storage/${r.storage}`, 'Datastore.Audit');
    return core.perms.has(me, `/vms/${r.vmid}`, 'VM.Audit');
  });
}

/** GET /cluster/nextid: a string, as real nodes send it (a Perl quirk). */
function nextId(ctx: Ctx): unknown {
  const { state } = ctx.core;
  const vmid = int(ctx, 'vmid');
  if (vmid !== undefined) {
    if (state.guests.has(vmid)) throw paramError({ vmid: `VM ${vmid} already exists` });
    return String(vmid);
  }
  return String(state.nextFreeVmid());
}

function nodeStatus(ctx: Ctx): unknown {
  const { core } = ctx;
  const n = core.state.node(str(ctx, 'node')!);
  const row = nodeRow(n, core.state, core.clock.now(), true);
  const v = core.seed.version;
  return {
    cpu: row.cpu, uptime: row.uptime, loadavg: ['0.12', '0.10', '0.08'], idle: 0, wait: 0.001,
    cpuinfo: { cpus: n.maxcpu, cores: n.maxcpu, sockets: 1, model: 'Simulated CPU', mhz: '2400.000', hvm: '1', flags: '', user_hz: 100 },
    memory: { total: n.maxmem, used: row.mem, free: n.maxmem - Number(row.mem), available: n.maxmem - Number(row.mem) },
    swap: { total: 8 * 1024 ** 3, used: 0, free: 8 * 1024 ** 3 },
    rootfs: { total: n.maxdisk, used: row.disk, free: n.maxdisk - Number(row.disk), avail: n.maxdisk - Number(row.disk) },
    ksm: { shared: 0 },
    pveversion: `pve-manager/${v.version}/${v.repoid}`,
    kversion: 'Linux 6.17.2-1-pve #1 SMP PREEMPT_DYNAMIC PMX 6.17.2-1 (2025-10-21T11:55Z) x86_64',
    'current-kernel': { sysname: 'Linux', release: '6.17.2-1-pve', version: '#1 SMP PREEMPT_DYNAMIC PMX 6.17.2-1', machine: 'x86_64' },
    'boot-info': { mode: 'efi', secureboot: 0 },
  };
}

export const clusterHandlers: Record<string, Handler> = {
  'GET /version': (ctx) => ({ ...ctx.core.seed.version }),
  'GET /nodes': (ctx) => {
    const { core } = ctx;
    return [...core.state.nodes.values()].map((n) =>
      nodeRow(n, core.state, core.clock.now(), core.perms.has(who(ctx), `/nodes/${n.name}`, 'Sys.Audit')));
  },
  'GET /nodes/{node}/status': nodeStatus,
  'GET /cluster/resources': visibleResources,
  'GET /cluster/nextid': nextId,
};
