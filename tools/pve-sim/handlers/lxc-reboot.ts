// POST /nodes/{node}/lxc/{vmid}/status/reboot (README §9.2, pve-container API2/LXC/Status.pm
// `vm_reboot`): refused at once unless the container runs; otherwise a `vzreboot` task stops and
// starts it, so its uptime starts again from 0 (and a DHCP lease is asked for again).
import { die } from '../errors.js';
import { int, str, who, type Ctx, type Handler } from '../core.js';
import { startGuest, stopGuest } from '../guest-ops.js';

function reboot(ctx: Ctx): unknown {
  const { core } = ctx;
  const node = str(ctx, 'node')!;
  const vmid = int(ctx, 'vmid')!;
  const g = core.state.guests.get(vmid);
  // An unknown container gets the same answer as a stopped one, and it says "VM", unlike the other CT calls.
  if (!g || g.node !== node || g.type !== 'lxc' || g.status !== 'running') throw die(`VM ${vmid} not running`);
  return core.tasks.start({
    node, type: 'vzreboot', id: vmid, principal: who(ctx),
    lines: [],
    work: () => {
      // No lock check in the real code; a container that stopped in the meantime is left alone.
      if (g.status !== 'running' || core.state.guests.get(vmid) !== g) return;
      stopGuest(g);
      startGuest(core, g);
    },
  });
}

export const lxcRebootHandlers: Record<string, Handler> = {
  'POST /nodes/{node}/lxc/{vmid}/status/reboot': reboot,
};
