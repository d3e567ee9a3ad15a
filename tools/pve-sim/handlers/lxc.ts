// /nodes/{node}/lxc: list, create from a template, clone and destroy. Synchronous checks fail the
// request (400/500, no task); everything else happens in the returned task, as on a real node.
import { die, SimHttpError } from '../errors.js';
import { flag, int, str, who, type Ctx, type Handler } from '../core.js';
import { allocateRootfs, checkLock, checkVmidFree, NOT_CONFIG, startGuest, stopGuest, storeKey } from '../guest-ops.js';
import type { ConfigValue, Guest } from '../state.js';
import { parsePropertyString } from '../property-string.js';
import { guestListRow } from '../views.js';

function list(ctx: Ctx): unknown {
  const { core } = ctx;
  const node = str(ctx, 'node')!;
  return [...core.state.guests.values()]
    .filter((g) => g.node === node && g.type === 'lxc' && core.perms.has(who(ctx), `/vms/${g.vmid}`, 'VM.Audit'))
    .map((g) => guestListRow(g, core.clock.now()));
}

/** The template volume `storage:vztmpl/file`, which must exist on the node. */
function findTemplate(ctx: Ctx, node: string, volid: string) {
  const m = /^([^:]+):vztmpl\/(.+)$/.exec(volid);
  if (!m) throw die(`unable to parse volume ID '${volid}'`);
  const storage = ctx.core.state.storage(node, m[1]);
  const tpl = storage.templates.find((t) => t.name === m[2]);
  if (!tpl) throw die(`volume '${volid}' does not exist`);
  return tpl;
}

function create(ctx: Ctx): unknown {
  const { core } = ctx;
  const { state } = core;
  const me = who(ctx);
  const node = str(ctx, 'node')!;
  const vmid = int(ctx, 'vmid')!;
  core.perms.require(me, `/vms/${vmid}`, 'VM.Allocate');
  const injected = core.faults.createFailures.shift();
  if (injected) throw new SimHttpError(injected.status, injected.message.replaceAll('{vmid}', String(vmid)).replaceAll('{node}', node));
  checkVmidFree(state, vmid);
  if (flag(ctx, 'restore')) throw die('the simulator does not implement restore');
  const ostemplate = str(ctx, 'ostemplate')!;
  const tpl = findTemplate(ctx, node, ostemplate);
  const unprivileged = flag(ctx, 'unprivileged') ?? true; // create's real default, unlike the schema's
  if (!unprivileged) core.perms.require(me, '/', 'Sys.Modify');
  const config: Record<string, ConfigValue> = {
    arch: 'amd64', hostname: `CT${vmid}`, memory: 512, swap: 512,
    ostype: /ubuntu/.test(tpl.name) ? 'ubuntu' : /alpine/.test(tpl.name) ? 'alpine' : 'debian',
    rootfs: allocateRootfs(state, node, vmid, str(ctx, 'rootfs'), str(ctx, 'storage')),
  };
  for (const key of Object.keys(ctx.params)) if (!NOT_CONFIG.has(key)) storeKey(state, config, key, str(ctx, key)!);
  config.unprivileged = unprivileged ? 1 : 0;
  config.lock = 'create';
  const guest: Guest = { vmid, node, type: 'lxc', status: 'stopped', config, agentRunning: false };
  state.guests.set(vmid, guest);
  const start = flag(ctx, 'start') ?? false;
  const host = String(config.hostname);
  return core.tasks.start({
    node, type: 'vzcreate', id: vmid, principal: me,
    lines: [
      `extracting archive '/var/lib/vz/template/cache/${tpl.name}'`,
      `Total bytes read: ${tpl.size * 4} (${Math.round((tpl.size * 4) / 1024 ** 2)}MiB, 512MiB/s)`,
      `Detected container architecture: ${config.arch}`,
      "Creating SSH host key 'ssh_host_rsa_key' - this may take some time ...",
      `done: SHA256:3JFuQOe8Jr8QEk0kE1sWl3Q9uJ0OaN2bDtXh3u+UyDw root@${host}`,
      "Creating SSH host key 'ssh_host_ed25519_key' - this may take some time ...",
      `done: SHA256:V1Lb8v3mRZr5mGgEw0wqS0B4T3aUq0bM0Rl0F2dJv1s root@${host}`,
    ],
    work: () => {
      delete guest.config.lock;
      if (start) startGuest(core, guest);
    },
    onError: () => state.removeGuest(vmid),
  });
}

function clone(ctx: Ctx): unknown {
  const { core } = ctx;
  const { state } = core;
  const node = str(ctx, 'node')!;
  const vmid = int(ctx, 'vmid')!;
  const newid = int(ctx, 'newid')!;
  const src = state.guest(node, vmid, 'lxc');
  checkVmidFree(state, newid);
  checkLock(src);
  const isTemplate = Number(src.config.template) === 1;
  const full = isTemplate ? (flag(ctx, 'full') ?? false) : true;
  if (!full && str(ctx, 'storage')) throw die("parameter 'storage' not allowed for linked clones");
  const target = str(ctx, 'target') ?? node;
  state.node(target);
  const srcVol = parsePropertyString(String(src.config.rootfs), { defaultKey: 'volume' });
  const size = (srcVol.size ?? '8G').replace(/G$/, '');
  const storage = str(ctx, 'storage') ?? srcVol.volume.split(':')[0];
  const config: Record<string, ConfigValue> = { ...src.config };
  delete config.template;
  for (const k of Object.keys(config)) if (/^net\d+$/.test(k)) config[k] = state.normalizeLxcNet(String(config[k]), true);
  config.rootfs = allocateRootfs(state, target, newid, `${storage}:${size}`, undefined);
  if (str(ctx, 'hostname')) config.hostname = str(ctx, 'hostname')!;
  if (str(ctx, 'description')) config.description = str(ctx, 'description')!;
  config.lock = 'create';
  const guest: Guest = { vmid: newid, node: target, type: 'lxc', status: 'stopped', config, agentRunning: false };
  state.guests.set(newid, guest);
  return core.tasks.start({
    node, type: 'vzclone', id: vmid, principal: who(ctx),
    lines: [`create ${full ? 'full' : 'linked'} clone of mountpoint rootfs (${srcVol.volume})`, `Logical volume "vm-${newid}-disk-0" created.`],
    work: () => { delete guest.config.lock; },
    onError: () => state.removeGuest(newid),
  });
}

function destroy(ctx: Ctx): unknown {
  const { core } = ctx;
  const node = str(ctx, 'node')!;
  const vmid = int(ctx, 'vmid')!;
  const g = core.state.guest(node, vmid, 'lxc');
  checkLock(g);
  if (Number(g.config.protection) === 1) throw die(`can't remove CT ${vmid} - protection mode enabled`);
  const force = flag(ctx, 'force') ?? false;
  if (g.status === 'running' && !force) throw die(`unable to destroy CT ${vmid} - container is running`);
  const vol = parsePropertyString(String(g.config.rootfs ?? ''), { defaultKey: 'volume' }).volume ?? '';
  return core.tasks.start({
    node, type: 'vzdestroy', id: vmid, principal: who(ctx),
    lines: [`Logical volume "${vol.split(':').pop()}" successfully removed.`],
    work: () => {
      stopGuest(g);
      core.state.removeGuest(vmid);
    },
  });
}

export const lxcHandlers: Record<string, Handler> = {
  'GET /nodes/{node}/lxc': list,
  'POST /nodes/{node}/lxc': create,
  'POST /nodes/{node}/lxc/{vmid}/clone': clone,
  'DELETE /nodes/{node}/lxc/{vmid}': destroy,
};
