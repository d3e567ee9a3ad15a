// State transitions shared by container handlers: locks, power changes, config edits and volume
// naming, with the messages pve-container uses.
import { die, paramError, permError } from './errors.js';
import type { SimCore } from './core.js';
import type { Principal } from './perms.js';
import type { Guest, SimState, ConfigValue } from './state.js';
import { splitList } from './formats.js';
import { formatPropertyString, parsePropertyString } from './property-string.js';

/** `CT 101` or `VM 101`, as in "already exists" messages. */
export function label(g: Guest): string {
  return `${g.type === 'lxc' ? 'CT' : 'VM'} ${g.vmid}`;
}

/** Refuse while a lock (e.g. `create`) is set: "CT is locked (create)". */
export function checkLock(g: Guest): void {
  if (g.config.lock !== undefined) throw die(`${g.type === 'lxc' ? 'CT' : 'VM'} is locked (${g.config.lock})`);
}

/** Refuse an id that is taken anywhere in the cluster. */
export function checkVmidFree(state: SimState, vmid: number): void {
  const g = state.guests.get(vmid);
  if (g) throw die(`${label(g)} already exists on node '${g.node}'`);
}

/**
 * Mark running; a DHCP NIC gets its lease (kept across restarts) visible after ipDelayMs, or never
 * while the no-DHCP switch covers this container.
 */
export function startGuest(core: SimCore, g: Guest): void {
  if (Number(g.config.template) === 1) throw die(`you can't start a CT if it's a template`);
  const now = core.clock.now();
  g.status = 'running';
  g.startedAt = now;
  g.ipReadyAt = core.faults.dhcpWithheld(g.vmid) ? Infinity : now + core.ipDelayMs;
  if (!g.dhcpIp) g.dhcpIp = core.state.allocIp();
}

export function stopGuest(g: Guest): void {
  g.status = 'stopped';
  g.startedAt = undefined;
  g.ipReadyAt = undefined;
}

/** Storage-type dependent volume name of a new container disk. */
function volumeName(state: SimState, node: string, storageId: string, vmid: number): string {
  const s = state.storage(node, storageId);
  // pve-container raises this as a parameter error on `storage`, whichever parameter named the storage.
  if (!s.content.includes('rootdir')) throw paramError({ storage: `storage '${storageId}' does not support container directories` });
  return ['dir', 'nfs', 'cifs', 'cephfs'].includes(s.type)
    ? `${storageId}:${vmid}/vm-${vmid}-disk-0.raw`
    : `${storageId}:vm-${vmid}-disk-0`;
}

/**
 * Turn a create/clone `rootfs` (`local-lvm:8`, a bare `8`, or nothing) into the stored value
 * `local-lvm:vm-101-disk-0,size=8G`.
 */
export function allocateRootfs(state: SimState, node: string, vmid: number, rootfs: string | undefined, storage: string | undefined): string {
  const { volume, ...opts } = parsePropertyString(rootfs ?? `${storage ?? 'local'}:4`, { defaultKey: 'volume' });
  const sized = /^(?:([^:]+):)?(\d+(?:\.\d+)?)$/.exec(volume ?? '');
  if (!sized) return formatPropertyString({ volume, ...opts }, { defaultKey: 'volume' }); // an existing volume
  const storeId = sized[1] ?? storage ?? 'local';
  return formatPropertyString({ ...opts, volume: volumeName(state, node, storeId, vmid), size: `${sized[2]}G` }, { defaultKey: 'volume' });
}

const NUMERIC = new Set(['cores', 'memory', 'swap', 'cpuunits', 'tty', 'cpulimit']);
const BOOLEAN = new Set(['onboot', 'protection', 'template', 'unprivileged', 'console', 'debug']);

/** Store one config key as Proxmox would (numbers, 1/0 flags, normalised `netN`, `;` tags). */
export function storeKey(state: SimState, config: Record<string, ConfigValue>, key: string, value: string): void {
  if (/^net\d+$/.test(key)) config[key] = state.normalizeLxcNet(value);
  else if (NUMERIC.has(key)) config[key] = Number(value);
  else if (BOOLEAN.has(key)) config[key] = value === '1' ? 1 : 0;
  else if (key === 'tags') config[key] = splitList(value).join(';');
  else config[key] = value;
}

/** Keys of a create/PUT request that are not config (path, control and secret parameters). */
export const NOT_CONFIG = new Set([
  'node', 'vmid', 'digest', 'delete', 'revert', 'ostemplate', 'password', 'ssh-public-keys', 'storage', 'start',
  'restore', 'force', 'unique', 'pool', 'bwlimit', 'ignore-unpack-errors', 'ha-managed', 'rootfs',
]);

/**
 * PVE::Tools::validate_ssh_public_keys runs `ssh-keygen -l` on each non-blank line; a line it cannot
 * read fails the whole request, synchronously and without saying which line.
 */
const SSH_KEY = /^\s*(ssh-(rsa|ed25519|dss)|ecdsa-sha2-nistp(256|384|521)|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com)\s+[A-Za-z0-9+/]+={0,3}(\s+.*)?$/;

export function checkSshPublicKeys(keys: string): void {
  for (const line of keys.split('\n')) {
    if (/^\s*$/.test(line)) continue;
    if (!SSH_KEY.test(line.replace(/\r$/, ''))) throw die('SSH public key validation error');
  }
}

/** `features` as parse_features reads it: booleans become `1`/`0`, other values stay text. */
function parseFeatures(value: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(parsePropertyString(value ?? ''))) {
    out[k] = /^(1|on|yes|true)$/i.test(v) ? '1' : /^(0|off|no|false)$/i.test(v) ? '0' : v;
  }
  return out;
}

/**
 * The `features` rule of pve-container's check_ct_modify_config_perm: only root@pam itself (not
 * one of its tokens) may set a flag other than `nesting`, and nobody else may touch the flags of a
 * privileged container. `oldValue` is the stored value (undefined on create); `newValue` undefined
 * means the key is being deleted. Changing `nesting` needs VM.Allocate.
 */
export function checkFeaturePerm(core: SimCore, who: Principal, vmid: number, unprivileged: boolean, oldValue: string | undefined, newValue: string | undefined): void {
  if (who.userid === 'root@pam' && !who.tokenid) return;
  if (!unprivileged) throw permError('changing feature flags for privileged container is only allowed for root@pam');
  let nestingChanged = false;
  let otherChanged = false;
  const onlyNesting = (f: Record<string, string>) => Object.keys(f).length === 1 && f.nesting === '1';
  if (newValue !== undefined && oldValue) {
    const [before, after] = [parseFeatures(oldValue), parseFeatures(newValue)];
    for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
      if ((before[key] ?? '') === (after[key] ?? '')) continue;
      if (key === 'nesting') nestingChanged = true;
      else otherChanged = true;
    }
  } else {
    // A new value on a container without features, or a delete of the stored value: Perl looks at
    // that one value, and anything but exactly `nesting=1` counts as "other" (even `nesting=0`).
    const f = parseFeatures(newValue ?? oldValue);
    if (onlyNesting(f)) nestingChanged = true;
    else if (Object.keys(f).length) otherChanged = true;
  }
  if (otherChanged) throw permError('changing feature flags (except nesting) is only allowed for root@pam');
  if (nestingChanged) core.perms.require(who, `/vms/${vmid}`, 'VM.Allocate');
}
