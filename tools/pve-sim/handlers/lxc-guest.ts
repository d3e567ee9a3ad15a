// One container: config read/write, status/current, interfaces, and power (start/stop/shutdown).
import { assertConfigFileFree } from '../config-lock.js';
import { die } from '../errors.js';
import { flag, int, str, who, type Ctx, type Handler } from '../core.js';
import { checkFeaturePerm, checkLock, NOT_CONFIG, startGuest, stopGuest, storeKey } from '../guest-ops.js';
import { splitList } from '../formats.js';
import { configDigest, type Guest } from '../state.js';
import { guestStatus, lxcInterfaces } from '../views.js';

function ct(ctx: Ctx): Guest {
  return ctx.core.state.guest(str(ctx, 'node')!, int(ctx, 'vmid')!, 'lxc');
}

function getConfig(ctx: Ctx): unknown {
  const g = ct(ctx);
  const snap = str(ctx, 'snapshot');
  if (snap) throw die(`snapshot '${snap}' does not exist`);
  return { ...g.config, digest: configDigest(g.config) };
}

function putConfig(ctx: Ctx): unknown {
  const g = ct(ctx);
  assertConfigFileFree(ctx.core, g.vmid);
  const digest = str(ctx, 'digest');
  if (digest && digest !== configDigest(g.config)) throw die('detected modified configuration - file changed by other user? Try again.');
  const removing = splitList(str(ctx, 'delete') ?? '');
  // Setting or clearing `lock` itself is how admins unlock; everything else honours the lock.
  if (!(removing.includes('lock') || str(ctx, 'lock') !== undefined)) checkLock(g);
  const features = str(ctx, 'features');
  if (features !== undefined || removing.includes('features')) {
    const stored = g.config.features === undefined ? undefined : String(g.config.features);
    checkFeaturePerm(ctx.core, who(ctx), g.vmid, Number(g.config.unprivileged) === 1, stored, features);
  }
  for (const key of removing) delete g.config[key];
  for (const key of Object.keys(ctx.params)) {
    if (NOT_CONFIG.has(key)) continue;
    if (removing.includes(key)) throw die(`unable to delete '${key}' - option is also set`);
    storeKey(ctx.core.state, g.config, key, str(ctx, key)!);
  }
  return null;
}

function power(type: 'vzstart' | 'vzstop' | 'vzshutdown'): Handler {
  return (ctx) => {
    const { core } = ctx;
    const g = ct(ctx);
    if (!(flag(ctx, 'skiplock') ?? false)) checkLock(g);
    if (type === 'vzstart' && g.status === 'running') throw die(`CT ${g.vmid} already running`);
    if (type !== 'vzstart' && g.status !== 'running') throw die(`CT ${g.vmid} not running`);
    return core.tasks.start({
      node: g.node, type, id: g.vmid, principal: who(ctx),
      lines: type === 'vzstart' ? [] : [`${type === 'vzstop' ? 'stopping' : 'shutting down'} CT ${g.vmid}`],
      work: () => (type === 'vzstart' ? startGuest(core, g) : stopGuest(g)),
    });
  };
}

export const lxcGuestHandlers: Record<string, Handler> = {
  'GET /nodes/{node}/lxc/{vmid}/config': getConfig,
  'PUT /nodes/{node}/lxc/{vmid}/config': putConfig,
  'GET /nodes/{node}/lxc/{vmid}/status/current': (ctx) => {
    const g = ct(ctx);
    return guestStatus(g, ctx.core.clock.now(), ctx.core.state.node(g.node).maxcpu);
  },
  'GET /nodes/{node}/lxc/{vmid}/interfaces': (ctx) => {
    const g = ct(ctx);
    return g.status === 'running' ? lxcInterfaces(g, ctx.core.clock.now()) : null;
  },
  'POST /nodes/{node}/lxc/{vmid}/status/start': power('vzstart'),
  'POST /nodes/{node}/lxc/{vmid}/status/stop': power('vzstop'),
  'POST /nodes/{node}/lxc/{vmid}/status/shutdown': power('vzshutdown'),
};
