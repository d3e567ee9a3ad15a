// State transitions shared by container handlers: locks, power changes, config edits and volume
// naming, with the messages pve-container uses.
import { die } from './errors.js';
import type { SimCore } from './core.js';
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

/** Mark running; a DHCP NIC gets its lease (kept across restarts) visible after ipDelayMs. */
export function startGuest(core: SimCore, g: Guest): void {
  if (Number(g.config.template) === 1) throw die(`you can't start a CT if it's a template`);
  const now = core.clock.now();
  g.status = 'running';
  g.startedAt = now;
  g.ipReadyAt = now + core.ipDelayMs;
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
  if (!s.content.includes('rootdir')) throw die(`storage '${storageId}' does not support container directories`);
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
