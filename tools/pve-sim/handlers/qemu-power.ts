// POST /nodes/{node}/qemu/{vmid}/status/start|stop|shutdown (README §9.2, qemu-server
// API2/Qemu.pm, QemuServer.pm `vm_start`, `_do_vm_stop`). Unlike containers, the API checks no run
// state before forking: every call returns a UPID, and a VM that is missing, locked or already
// running makes the task fail (start) or end OK having done nothing (stop, shutdown). A guest that
// ignores shutdown requests makes a shutdown time out, unless `forceStop=1` kills it.
import { die, paramError } from '../errors.js';
import { int, str, who, type Ctx, type Handler, type SimCore } from '../core.js';
import { checkLock, startGuest, stopGuest } from '../guest-ops.js';
import type { Guest } from '../state.js';

type PowerType = 'qmstart' | 'qmstop' | 'qmshutdown';

/** Parameters only root@pam itself may set (its API tokens may not: the caller is then `root@pam!name`). */
const ROOT_ONLY: Record<PowerType, string[]> = {
  qmstart: ['skiplock', 'stateuri', 'migratedfrom', 'migration_type', 'migration_network', 'targetstorage', 'force-cpu', 'with-conntrack-state', 'nets-host-mtu'],
  qmstop: ['skiplock', 'keepActive', 'migratedfrom'],
  qmshutdown: ['skiplock', 'keepActive'],
};

/** Perl truth of a parameter: set, and neither empty nor `0`. */
function isTrue(ctx: Ctx, key: string): boolean {
  const v = str(ctx, key);
  return v !== undefined && v !== '' && v !== '0';
}

/** The VM as the worker loads it; start and stop word a missing config differently. */
function loadVm(core: SimCore, node: string, vmid: number, type: PowerType): Guest {
  const g = core.state.guests.get(vmid);
  if (g && g.node === node && g.type === 'qemu') return g;
  if (type === 'qmstart') throw die(`Configuration file 'nodes/${node}/qemu-server/${vmid}.conf' does not exist`);
  throw die(`unable to find configuration file for VM ${vmid} on node '${node}'`);
}

function start(core: SimCore, g: Guest, skiplock: boolean): void {
  if (Number(g.config.template) === 1) throw die("you can't start a vm if it's a template");
  const lock = g.config.lock;
  // A VM under backup that already runs is only resumed; a suspended one is resumed from its state.
  if (lock === 'backup' && g.status === 'running') return;
  if (!skiplock && lock !== 'suspended') checkLock(g);
  if (g.status === 'running') throw die(`VM ${g.vmid} already running`);
  if (lock === 'suspended') delete g.config.lock;
  startGuest(core, g);
}

function power(type: PowerType): Handler {
  return (ctx) => {
    const { core } = ctx;
    const me = who(ctx);
    const caller = me.tokenid ?? me.userid;
    for (const key of ROOT_ONLY[type]) {
      if (isTrue(ctx, key) && caller !== 'root@pam') throw paramError({ [key]: 'Only root may use this option.' });
    }
    const node = str(ctx, 'node')!;
    const vmid = int(ctx, 'vmid')!;
    const skiplock = isTrue(ctx, 'skiplock');
    const forceStop = isTrue(ctx, 'forceStop');
    let upid = '';
    upid = core.tasks.start({
      node, type, id: vmid, principal: me, lines: [],
      work: () => {
        const g = loadVm(core, node, vmid, type);
        if (type === 'qmstart') return start(core, g, skiplock);
        if (!skiplock) checkLock(g);
        // Stopping a stopped VM does nothing and ends OK.
        if (g.status !== 'running') return;
        if (type === 'qmshutdown' && g.ignoresShutdown) {
          if (!forceStop) throw die('VM quit/powerdown failed - got timeout');
          // A plain warn: the log gets the line, the task still ends OK.
          core.tasks.tasks.get(upid)?.log.push('VM still running - terminating now with SIGTERM');
        }
        stopGuest(g);
      },
    });
    return upid;
  };
}

export const qemuPowerHandlers: Record<string, Handler> = {
  'POST /nodes/{node}/qemu/{vmid}/status/start': power('qmstart'),
  'POST /nodes/{node}/qemu/{vmid}/status/stop': power('qmstop'),
  'POST /nodes/{node}/qemu/{vmid}/status/shutdown': power('qmshutdown'),
};
