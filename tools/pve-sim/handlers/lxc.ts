// /nodes/{node}/lxc: list, create from a template, clone and destroy. Synchronous checks fail the
// request (400/403/500, no task); everything else happens in the returned task, as on a real node.
import { die, SimHttpError } from '../errors.js';
import { flag, int, str, who, type Ctx, type Handler } from '../core.js';
import {
  allocateRootfs, checkFeaturePerm, checkLock, checkSshPublicKeys, checkVmidFree, NOT_CONFIG, startGuest, stopGuest, storeKey,
} from '../guest-ops.js';
import type { ConfigValue, Guest } from '../state.js';
import { parsePropertyString } from '../property-string.js';
import { guestListRow } from '../views.js';

function list(ctx: Ctx): unknown {
  const { core } = ctx;
  const node = str(ctx, 'node')!;
  return [...core.state.guests.values()]
    .filter((g) => g.node === node && g.type === 'lxc' && core.perms.has(who(ctx), `/vms/${g.vmid}`, 'VM.Audit'))
    .map((g) => guestListRow(g, core.clock.now(), core.state.node(node).maxcpu));
}

/**
 * The template volume `storage:vztmpl/file`. A malformed id or an unknown storage is refused at
 * once (check_volume_access); a missing file is only noticed by the task, so it is undefined here.
 */
function findTemplate(ctx: Ctx, node: string, volid: string) {
  const m = /^([^:]+):vztmpl\/(.+)$/.exec(volid);
  if (!m) throw die(`unable to parse volume ID '${volid}'`);
  const storage = ctx.core.state.storage(node, m[1]);
  return storage.templates.find((t) => t.name === m[2]);
}

/**
 * Create from a template. Like pve-container, the request only runs the checks and writes a
 * config holding nothing but `lock: create`; the task writes the real config (with the generated
 * MACs) when it ends, or removes the container when it fails.
 */
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
  const sshKeys = str(ctx, 'ssh-public-keys');
  if (sshKeys !== undefined) checkSshPublicKeys(sshKeys);
  const unprivileged = flag(ctx, 'unprivileged') ?? true; // create's real default, unlike the schema's
  if (!unprivileged) core.perms.require(me, '/', 'Sys.Modify');
  const features = str(ctx, 'features');
  if (features !== undefined) checkFeaturePerm(core, me, vmid, unprivileged, undefined, features);
  const ostemplate = str(ctx, 'ostemplate')!;
  const tpl = findTemplate(ctx, node, ostemplate);
  const config: Record<string, ConfigValue> = {
    arch: 'amd64', hostname: `CT${vmid}`, memory: 512, swap: 512,
    ostype: /ubuntu/.test(ostemplate) ? 'ubuntu' : /alpine/.test(ostemplate) ? 'alpine' : 'debian',
    rootfs: allocateRootfs(state, node, vmid, str(ctx, 'rootfs'), str(ctx, 'storage')),
  };
  // NICs are kept as given: their MACs are generated when the task writes the config.
  const nics: Record<string, string> = {};
  for (const key of Object.keys(ctx.params)) {
    if (NOT_CONFIG.has(key)) continue;
    if (/^net\d+$/.test(key)) nics[key] = str(ctx, key)!;
    else storeKey(state, config, key, str(ctx, key)!);
  }
  config.unprivileged = unprivileged ? 1 : 0;
  const guest: Guest = { vmid, node, type: 'lxc', status: 'stopped', config: { lock: 'create' }, agentRunning: false };
  state.guests.set(vmid, guest);
  const start = flag(ctx, 'start') ?? false;
  const host = String(config.hostname);
  return core.tasks.start({
    node, type: 'vzcreate', id: vmid, principal: me,
    lines: tpl ? [
      `extracting archive '/var/lib/vz/template/cache/${tpl.name}'`,
      `Total bytes read: ${tpl.size * 4} (${Math.round((tpl.size * 4) / 1024 ** 2)}MiB, 512MiB/s)`,
      `Detected container architecture: ${config.arch}`,
      "Creating SSH host key 'ssh_host_rsa_key' - this may take some time ...",
      `done: SHA256:3JFuQOe8Jr8QEk0kE1sWl3Q9uJ0OaN2bDtXh3u+UyDw root@${host}`,
      "Creating SSH host key 'ssh_host_ed25519_key' - this may take some time ...",
      `done: SHA256:V1Lb8v3mRZr5mGgEw0wqS0B4T3aUq0bM0Rl0F2dJv1s root@${host}`,
    ] : [],
    work: () => {
      if (!tpl) throw new Error(`unable to create CT ${vmid} - volume '${ostemplate}' does not exist`);
      for (const [key, value] of Object.entries(nics)) config[key] = state.normalizeLxcNet(value);
      guest.config = config;
      if (start) startGuest(core, guest);
    },
    onError: () => state.removeGuest(vmid),
  });
}

/**
 * Clone. As in pve-container, the source is locked with `disk` for the whole task, the new
 * config (new MACs, `lock: create`) is written at once, and its rootfs only when the copy is done.
 */
function clone(ctx: Ctx): unknown {
  const { core } = ctx;
  const { state } = core;
  const node = str(ctx, 'node')!;
  const vmid = int(ctx, 'vmid')!;
  const newid = int(ctx, 'newid')!;
  const src = state.guest(node, vmid, 'lxc');
  checkLock(src);
  checkVmidFree(state, newid);
  const isTemplate = Number(src.config.template) === 1;
  const full = isTemplate ? (flag(ctx, 'full') ?? false) : true;
  if (!full && str(ctx, 'storage')) throw die("parameter 'storage' not allowed for linked clones");
  if (full && src.status === 'running') throw die('Cannot do full clones on a running container without snapshots');
  const target = str(ctx, 'target') ?? node;
  state.node(target);
  const srcVol = parsePropertyString(String(src.config.rootfs), { defaultKey: 'volume' });
  const size = (srcVol.size ?? '8G').replace(/G$/, '');
  const storage = str(ctx, 'storage') ?? srcVol.volume.split(':')[0];
  if (target !== node && !state.storage(node, storage).shared) throw die(`can't clone CT to node '${target}' (CT uses local storage)`);
  const rootfs = allocateRootfs(state, target, newid, `${storage}:${size}`, undefined);
  const config: Record<string, ConfigValue> = { ...src.config };
  delete config.template;
  delete config.rootfs;
  for (const k of Object.keys(config)) if (/^net\d+$/.test(k)) config[k] = state.normalizeLxcNet(String(config[k]), true);
  if (str(ctx, 'hostname')) config.hostname = str(ctx, 'hostname')!;
  if (str(ctx, 'description')) config.description = str(ctx, 'description')!;
  config.lock = 'create';
  src.config.lock = 'disk';
  const guest: Guest = { vmid: newid, node, type: 'lxc', status: 'stopped', config, agentRunning: false };
  state.guests.set(newid, guest);
  return core.tasks.start({
    node, type: 'vzclone', id: vmid, principal: who(ctx),
    lines: [
      full ? `create full clone of mountpoint rootfs (${srcVol.volume})` : `create linked clone of mount point rootfs (${srcVol.volume})`,
      `Logical volume "vm-${newid}-disk-0" created.`,
    ],
    work: () => {
      guest.config.rootfs = rootfs;
      delete guest.config.lock;
      guest.node = target;
    },
    onError: () => state.removeGuest(newid),
    // The source is unlocked whatever the outcome.
    onEnd: () => { if (src.config.lock === 'disk') delete src.config.lock; },
  });
}

function destroy(ctx: Ctx): unknown {
  const { core } = ctx;
  const node = str(ctx, 'node')!;
  const vmid = int(ctx, 'vmid')!;
  const g = core.state.guest(node, vmid, 'lxc');
  const injected = core.faults.deleteFailures.shift();
  if (injected) throw new SimHttpError(injected.status, injected.message.replaceAll('{vmid}', String(vmid)).replaceAll('{node}', node));
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
