// QEMU VMs, read-only: list, config, status/current, and guest-agent interfaces.
import { die } from '../errors.js';
import { int, str, who, type Ctx, type Handler } from '../core.js';
import { configDigest, type Guest } from '../state.js';
import { agentInterfaces, guestListRow, guestStatus } from '../views.js';

function vm(ctx: Ctx): Guest {
  return ctx.core.state.guest(str(ctx, 'node')!, int(ctx, 'vmid')!, 'qemu');
}

/** `agent: 1` or `agent: enabled=1,...` turns the agent on. */
function agentConfigured(g: Guest): boolean {
  const v = String(g.config.agent ?? '0');
  return /^(1|enabled=1)(,|$)/.test(v);
}

export const qemuHandlers: Record<string, Handler> = {
  'GET /nodes/{node}/qemu': (ctx) => {
    const { core } = ctx;
    const node = str(ctx, 'node')!;
    return [...core.state.guests.values()]
      .filter((g) => g.node === node && g.type === 'qemu' && core.perms.has(who(ctx), `/vms/${g.vmid}`, 'VM.Audit'))
      .map((g) => guestListRow(g, core.clock.now()));
  },
  'GET /nodes/{node}/qemu/{vmid}/config': (ctx) => {
    const g = vm(ctx);
    const snap = str(ctx, 'snapshot');
    if (snap) throw die(`snapshot '${snap}' does not exist`);
    return { ...g.config, digest: configDigest(g.config) };
  },
  'GET /nodes/{node}/qemu/{vmid}/status/current': (ctx) => guestStatus(vm(ctx), ctx.core.clock.now()),
  'GET /nodes/{node}/qemu/{vmid}/agent/network-get-interfaces': (ctx) => {
    const g = vm(ctx);
    if (!agentConfigured(g)) throw die('No QEMU guest agent configured');
    if (g.status !== 'running') throw die(`VM ${g.vmid} is not running`);
    if (!g.agentRunning) throw die('QEMU guest agent is not running');
    return { result: agentInterfaces(g, ctx.core.clock.now()) };
  },
};
