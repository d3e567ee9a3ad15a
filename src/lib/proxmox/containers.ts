// LXC containers: list, create/clone, power, resize, snapshots, delete, config, and reading
// MAC/IPv4 back. Every write returns the UPID of the worker task; wait for it with
// `client.tasks.wait()` or `client.tasks.follow()`.
import type { Proxmox } from 'proxmox-api';
import { normalizeInterfaces, primaryIpv4 } from './interfaces.js';
import { coerceNumbers } from './numbers.js';
import { formatPropertyString, macFromNet, staticIpv4FromNet } from './property-string.js';
import { parseSize } from './sizes.js';
import type { MachineConfig, MachineInterface, MachineStatus, MachineSummary, Snapshot } from './types.js';

export const MACHINE_NUMBERS = [
  'vmid', 'maxmem', 'maxdisk', 'maxswap', 'mem', 'swap', 'disk', 'cpu', 'cpus', 'uptime', 'template',
  'netin', 'netout', 'diskread', 'diskwrite', 'pid',
] as const;
export const CONFIG_NUMBERS = [
  'cores', 'memory', 'swap', 'cpulimit', 'cpuunits', 'unprivileged', 'onboot', 'template', 'protection',
  'tty', 'console', 'sockets', 'balloon', 'agent',
] as const;

/** `net0` either as Proxmox's text or as keys (`name` defaults to eth0, `bridge` to vmbr0). */
export interface NetSpec {
  name?: string;
  bridge?: string;
  /** `dhcp`, `manual` or `10.0.0.5/24`. */
  ip?: string;
  gw?: string;
  ip6?: string;
  hwaddr?: string;
  firewall?: boolean;
  tag?: number;
  mtu?: number;
}

export interface CreateContainerSpec {
  vmid: number;
  /** Volume id, e.g. `local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst`. */
  ostemplate: string;
  hostname?: string;
  /** MB. */
  memory?: number;
  swap?: number;
  cores?: number;
  /** `local-lvm:8` allocates 8 GiB on local-lvm. */
  rootfs?: string;
  storage?: string;
  net0?: string | NetSpec;
  password?: string;
  /** OpenSSH public keys, one per line. */
  sshPublicKeys?: string;
  /** Proxmox's create defaults to unprivileged; privileged needs Sys.Modify on `/`. */
  unprivileged?: boolean;
  features?: string | Record<string, boolean | string>;
  start?: boolean;
  onboot?: boolean;
  tags?: string[] | string;
  description?: string;
  pool?: string;
  nameserver?: string;
  searchdomain?: string;
  /** Any other parameter of `POST /nodes/{node}/lxc`, sent as is. */
  extra?: Record<string, string | number | boolean>;
}

export interface CloneContainerSpec {
  newid: number;
  hostname?: string;
  full?: boolean;
  storage?: string;
  target?: string;
  pool?: string;
  description?: string;
}

export interface ResizeSpec {
  /** `rootfs` or a mount point `mp0`..`mp255`. */
  disk: string;
  /**
   * `+2G` grows by 2 GiB, `10G` sets the size to 10 GiB (units K, M, G, T are binary). Shrinking is
   * refused by Proxmox. A unit is required here: Proxmox reads a bare number as bytes.
   */
  size: string;
}

/** Format a {@link NetSpec} as a `netN` property string. */
export function formatNet(net: string | NetSpec): string {
  if (typeof net === 'string') return net;
  const { name = 'eth0', bridge = 'vmbr0', firewall, ...rest } = net;
  return formatPropertyString({ name, bridge, ...rest, firewall: firewall === undefined ? undefined : firewall ? 1 : 0 }, ['name']);
}

function createParams(spec: CreateContainerSpec): Record<string, unknown> {
  const features = typeof spec.features === 'object'
    ? Object.entries(spec.features).map(([k, v]) => `${k}=${v === true ? 1 : v === false ? 0 : v}`).join(',')
    : spec.features;
  return {
    ...spec.extra,
    vmid: spec.vmid,
    ostemplate: spec.ostemplate,
    hostname: spec.hostname,
    memory: spec.memory,
    swap: spec.swap,
    cores: spec.cores,
    rootfs: spec.rootfs,
    storage: spec.storage,
    net0: spec.net0 === undefined ? undefined : formatNet(spec.net0),
    password: spec.password,
    'ssh-public-keys': spec.sshPublicKeys,
    unprivileged: spec.unprivileged,
    features,
    start: spec.start,
    onboot: spec.onboot,
    tags: Array.isArray(spec.tags) ? spec.tags.join(';') : spec.tags,
    description: spec.description,
    pool: spec.pool,
    nameserver: spec.nameserver,
    searchdomain: spec.searchdomain,
  };
}

/** Container operations on a node. Reached as `client.containers`. */
export class ContainerApi {
  constructor(private readonly api: Proxmox.Api) {}

  private ct(node: string, vmid: number) {
    return this.api.nodes.$(node).lxc.$(vmid);
  }

  /** `GET /nodes/{node}/lxc`. */
  async list(node: string): Promise<MachineSummary[]> {
    const rows = (await this.api.nodes.$(node).lxc.$get()) as Record<string, unknown>[];
    return rows.map((r) => coerceNumbers(r, MACHINE_NUMBERS) as MachineSummary);
  }

  /**
   * `POST /nodes/{node}/lxc`: create from a template. Returns the `vzcreate` UPID. Sent once and
   * never retried: after a timeout, look the VMID up instead of sending again.
   */
  async create(node: string, spec: CreateContainerSpec): Promise<string> {
    return (await this.api.nodes.$(node).lxc.$post(createParams(spec) as any)) as string;
  }

  /** `POST .../clone`: returns the `vzclone` UPID (its id field is the source VMID). */
  async clone(node: string, vmid: number, spec: CloneContainerSpec): Promise<string> {
    return (await this.ct(node, vmid).clone.$post(spec as any)) as string;
  }

  /** `POST .../status/start`: returns the `vzstart` UPID. */
  async start(node: string, vmid: number): Promise<string> {
    return (await this.ct(node, vmid).status.start.$post()) as string;
  }

  /** `POST .../status/stop` (hard stop): returns the `vzstop` UPID. */
  async stop(node: string, vmid: number, opts: { overruleShutdown?: boolean } = {}): Promise<string> {
    const params = opts.overruleShutdown ? { 'overrule-shutdown': true } : undefined;
    return (await this.ct(node, vmid).status.stop.$post(params as any)) as string;
  }

  /** `POST .../status/shutdown` (clean): returns the `vzshutdown` UPID. */
  async shutdown(node: string, vmid: number, opts: { timeout?: number; forceStop?: boolean } = {}): Promise<string> {
    return (await this.ct(node, vmid).status.shutdown.$post(opts)) as string;
  }

  /**
   * `POST .../status/reboot`: stop (killing after `timeout` seconds) and start again, applying
   * pending config changes. Returns the `vzreboot` UPID. A stopped container is refused at once
   * (500 `VM 101 not running`, code `not-running`).
   */
  async reboot(node: string, vmid: number, opts: { timeout?: number } = {}): Promise<string> {
    const params = opts.timeout === undefined ? undefined : { timeout: opts.timeout };
    return (await this.ct(node, vmid).status.reboot.$post(params)) as string;
  }

  /**
   * `PUT .../resize`: grow a disk, running or stopped. Returns the UPID of a `resize` task; the
   * config's `size=` changes when it ends. A shrink, an equal size, a `lock:` or a stale `digest`
   * are refused at once (500). Throws TypeError for a size Proxmox would not read as meant.
   */
  async resize(node: string, vmid: number, spec: ResizeSpec, opts: { digest?: string } = {}): Promise<string> {
    const parsed = parseSize(spec.size);
    if (!parsed) throw new TypeError(`disk size must look like 10G or +2G, not ${JSON.stringify(spec.size)}`);
    if (!/[KMGT]$/.test(spec.size)) {
      throw new TypeError(`disk size ${JSON.stringify(spec.size)} needs a unit (K, M, G, T): Proxmox reads a bare number as bytes`);
    }
    return (await this.ct(node, vmid).resize.$put({ disk: spec.disk, size: spec.size, digest: opts.digest } as any)) as string;
  }

  /**
   * `GET .../snapshot`: the container's snapshots in no particular order, then the pseudo-entry
   * `current` ("You are here!", with `running` and the config `digest`) last.
   */
  async snapshots(node: string, vmid: number): Promise<Snapshot[]> {
    const rows = (await this.ct(node, vmid).snapshot.$get()) as Record<string, unknown>[];
    return rows.map((r) => coerceNumbers(r, ['snaptime', 'running']) as Snapshot);
  }

  /**
   * `POST .../snapshot`: returns the `vzsnapshot` UPID. Only a reserved name (`current`, `vzdump`)
   * or a malformed one fails at once; a duplicate name, a lock or a storage without snapshots
   * fail the task.
   */
  async createSnapshot(node: string, vmid: number, snapname: string, opts: { description?: string } = {}): Promise<string> {
    return (await this.ct(node, vmid).snapshot.$post({ snapname, description: opts.description } as any)) as string;
  }

  /** `DELETE /nodes/{node}/lxc/{vmid}`: returns the `vzdestroy` UPID. Refuses a running CT unless `force`. */
  async delete(node: string, vmid: number, opts: { purge?: boolean; force?: boolean; destroyUnreferencedDisks?: boolean } = {}): Promise<string> {
    const params = { purge: opts.purge, force: opts.force, 'destroy-unreferenced-disks': opts.destroyUnreferencedDisks };
    return (await this.ct(node, vmid).$delete(params as any)) as string;
  }

  /** `GET .../config`: keys plus `digest`; `lock: "create"` while the create task runs. */
  async config(node: string, vmid: number): Promise<MachineConfig> {
    const cfg = (await this.ct(node, vmid).config.$get()) as Record<string, unknown>;
    return coerceNumbers(cfg, CONFIG_NUMBERS) as MachineConfig;
  }

  /** `PUT .../config`: set keys, `delete` removes keys, `digest` guards against concurrent edits. */
  async updateConfig(node: string, vmid: number, changes: Record<string, string | number | boolean>, opts: { delete?: string[]; digest?: string } = {}): Promise<void> {
    await this.ct(node, vmid).config.$put({ ...changes, delete: opts.delete?.join(','), digest: opts.digest } as any);
  }

  /** `GET .../status/current`. */
  async status(node: string, vmid: number): Promise<MachineStatus> {
    const s = (await this.ct(node, vmid).status.current.$get()) as Record<string, unknown>;
    return coerceNumbers(s, MACHINE_NUMBERS) as MachineStatus;
  }

  /** The MAC of `net0` (upper-case), known as soon as the create task has written the config. */
  async mac(node: string, vmid: number, net = 'net0'): Promise<string | null> {
    const cfg = await this.config(node, vmid);
    return macFromNet(typeof cfg[net] === 'string' ? (cfg[net] as string) : undefined);
  }

  /** `GET .../interfaces`: null while the container is stopped. */
  async interfaces(node: string, vmid: number): Promise<MachineInterface[] | null> {
    const rows: unknown = await this.ct(node, vmid).interfaces.$get();
    return rows == null ? null : normalizeInterfaces(rows);
  }

  /**
   * The container's IPv4: a static `ip=` from `net0`, else what the running container reports.
   * Null while stopped or before DHCP has finished (poll).
   */
  async ipv4(node: string, vmid: number): Promise<string | null> {
    const cfg = await this.config(node, vmid);
    const net0 = typeof cfg.net0 === 'string' ? cfg.net0 : '';
    const stat = staticIpv4FromNet(net0);
    if (stat) return stat;
    const ifaces = await this.interfaces(node, vmid);
    return ifaces ? primaryIpv4(ifaces, macFromNet(net0)) : null;
  }
}
