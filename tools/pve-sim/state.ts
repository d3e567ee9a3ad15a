// In-memory cluster state built from the seed: nodes, users, tokens, storages and guests, plus
// the allocators that keep MACs and DHCP addresses unique. Handlers mutate it; views.ts renders it.
import { createHash, randomInt } from 'node:crypto';
import { die, noConfig } from './errors.js';
import type { SimClock } from './clock.js';
import { formatPropertyString, parsePropertyString } from './property-string.js';
import type { Seed, SeedGuest } from './seed.js';

export type GuestType = 'lxc' | 'qemu';
export type ConfigValue = string | number;

export interface Guest {
  vmid: number;
  node: string;
  type: GuestType;
  status: 'running' | 'stopped';
  config: Record<string, ConfigValue>;
  /** Simulated ms when it was started. */
  startedAt?: number;
  /** Simulated ms from which its DHCP address is visible. */
  ipReadyAt?: number;
  dhcpIp?: string;
  agentRunning: boolean;
  /** Snapshots in the order they were taken (the config file's `[name]` sections). */
  snapshots?: SnapshotRec[];
  /** The guest OS ignores shutdown requests (ACPI, agent), so a shutdown runs into its timeout. */
  ignoresShutdown?: boolean;
}

/** One container snapshot; `snapstate` is `prepare` while its vzsnapshot task runs. */
export interface SnapshotRec {
  name: string;
  snaptime: number;
  description: string;
  parent?: string;
  snapstate?: 'prepare' | 'delete';
}

export type NodeRec = Seed['nodes'][number];
export type UserRec = Seed['users'][number];
export type TokenRec = Seed['tokens'][number];
export type StorageRec = Seed['storages'][number];
export type PoolRec = Seed['pools'][number];

const QEMU_NIC = /^(virtio|e1000e?|rtl8139|vmxnet3)(=([0-9A-Fa-f:]{17}))?$/;

/** SHA-1 digest of a config, as `GET .../config` reports and `PUT ... digest=` checks. */
export function configDigest(config: Record<string, ConfigValue>): string {
  const text = Object.keys(config).filter((k) => k !== 'digest').sort().map((k) => `${k}: ${config[k]}`).join('\n');
  return createHash('sha1').update(text).digest('hex');
}

export class SimState {
  readonly nodes = new Map<string, NodeRec>();
  readonly users = new Map<string, UserRec>();
  readonly tokens = new Map<string, TokenRec>();
  readonly guests = new Map<number, Guest>();
  readonly realms: Seed['realms'];
  readonly acl: Seed['acl'];
  readonly storages: StorageRec[];
  /** Resource pools (user.cfg `pool:` lines): guests and storages grouped under a name. */
  readonly pools: PoolRec[];
  /** Config file locks held by running workers (config-lock.ts): the task and when it should end. */
  readonly configFileLocks = new Map<number, { upid: string; releaseAt: number }>();
  private readonly macs = new Set<string>();
  private readonly ips = new Set<string>();
  private readonly subnetBase: string;

  constructor(readonly seed: Seed, private readonly clock: SimClock) {
    for (const n of seed.nodes) this.nodes.set(n.name, { ...n });
    for (const u of seed.users) this.users.set(u.userid, { ...u, groups: [...u.groups] });
    for (const t of seed.tokens) this.tokens.set(t.id, { ...t });
    this.realms = seed.realms.map((r) => ({ ...r }));
    this.acl = seed.acl.map((a) => ({ ...a }));
    this.storages = seed.storages.map((s) => ({ ...s, templates: s.templates.map((t) => ({ ...t })) }));
    this.pools = seed.pools.map((p) => ({ ...p, vms: [...p.vms], storage: [...p.storage] }));
    this.subnetBase = seed.dhcpSubnet.replace(/0\/24$/, '');
    for (const g of seed.guests) this.addSeedGuest(g);
  }

  private addSeedGuest(g: SeedGuest): void {
    if (!this.nodes.has(g.node)) throw new Error(`seed guest ${g.vmid}: unknown node '${g.node}'`);
    if (this.guests.has(g.vmid)) throw new Error(`seed guest ${g.vmid}: duplicate vmid`);
    const config = g.type === 'lxc' ? this.lxcDefaults(g) : this.qemuDefaults(g);
    const guest: Guest = { vmid: g.vmid, node: g.node, type: g.type, status: g.status, config, agentRunning: g.agentRunning };
    if (g.status === 'running') {
      const now = this.clock.now();
      guest.startedAt = now - 3_600_000;
      guest.ipReadyAt = now;
      guest.dhcpIp = g.ipv4 ?? this.allocIp();
      this.ips.add(guest.dhcpIp);
    }
    this.guests.set(g.vmid, guest);
  }

  private lxcDefaults(g: SeedGuest): Record<string, ConfigValue> {
    const c: Record<string, ConfigValue> = {
      arch: 'amd64', cores: 1, hostname: `CT${g.vmid}`, memory: 512, swap: 512, ostype: 'debian',
      rootfs: `local-lvm:vm-${g.vmid}-disk-0,size=8G`, unprivileged: 1, net0: 'name=eth0,bridge=vmbr0,ip=dhcp',
      ...g.config,
    };
    for (const k of Object.keys(c)) if (/^net\d+$/.test(k)) c[k] = this.normalizeLxcNet(String(c[k]));
    return c;
  }

  private qemuDefaults(g: SeedGuest): Record<string, ConfigValue> {
    // memory as a string on purpose: real QEMU configs may send it that way.
    const c: Record<string, ConfigValue> = {
      name: `vm${g.vmid}`, memory: '2048', cores: 2, sockets: 1, ostype: 'l26', agent: '1', scsihw: 'virtio-scsi-single',
      scsi0: `local-lvm:vm-${g.vmid}-disk-0,size=32G`, net0: 'virtio,bridge=vmbr0', boot: 'order=scsi0;net0',
      ...g.config,
    };
    for (const k of Object.keys(c)) if (/^net\d+$/.test(k)) c[k] = this.normalizeQemuNet(String(c[k]));
    return c;
  }

  /** Store a container `netN` the way Proxmox does: `name` first, a MAC, `type=veth`. */
  normalizeLxcNet(value: string, freshMac = false): string {
    const kv = parsePropertyString(value);
    if (freshMac || !kv.hwaddr) kv.hwaddr = this.allocMac();
    kv.hwaddr = kv.hwaddr.toUpperCase();
    this.macs.add(kv.hwaddr);
    kv.type = 'veth';
    return formatPropertyString(kv, { first: ['name'] });
  }

  /** Give a QEMU NIC (`virtio,bridge=vmbr0`) a MAC when the seed left it out. */
  private normalizeQemuNet(value: string): string {
    const parts = value.split(',');
    const m = QEMU_NIC.exec(parts[0]);
    if (!m) return value;
    const mac = (m[3] ?? this.allocMac()).toUpperCase();
    this.macs.add(mac);
    return [`${m[1]}=${mac}`, ...parts.slice(1)].join(',');
  }

  /** A MAC with Proxmox's prefix `BC:24:11`, unique in this cluster. */
  allocMac(): string {
    for (;;) {
      const tail = Array.from({ length: 3 }, () => randomInt(256).toString(16).toUpperCase().padStart(2, '0'));
      const mac = `BC:24:11:${tail.join(':')}`;
      if (!this.macs.has(mac)) {
        this.macs.add(mac);
        return mac;
      }
    }
  }

  /** The next free DHCP address in the seed's /24 (from .100 up). */
  allocIp(): string {
    for (let host = 100; host < 255; host++) {
      const ip = `${this.subnetBase}${host}`;
      if (!this.ips.has(ip)) {
        this.ips.add(ip);
        return ip;
      }
    }
    throw die('DHCP pool exhausted');
  }

  releaseIp(ip: string | undefined): void {
    if (ip) this.ips.delete(ip);
  }

  /** The node, or Proxmox's answer for a name that does not resolve. */
  node(name: string): NodeRec {
    const n = this.nodes.get(name);
    if (!n) throw die(`hostname lookup '${name}' failed - failed to get address info for: ${name}: Name or service not known`);
    return n;
  }

  /** A guest of the given type on the node, or "Configuration file ... does not exist". */
  guest(node: string, vmid: number, type: GuestType): Guest {
    const g = this.guests.get(vmid);
    if (!g || g.node !== node || g.type !== type) throw noConfig(node, vmid, type);
    return g;
  }

  /** Storages present on a node. */
  storagesOn(node: string): StorageRec[] {
    return this.storages.filter((s) => !s.nodes || s.nodes.includes(node));
  }

  storage(node: string, id: string): StorageRec {
    const s = this.storagesOn(node).find((x) => x.id === id);
    if (!s) throw die(`storage '${id}' does not exist`);
    return s;
  }

  /** First unused VMID at or above 100. */
  nextFreeVmid(): number {
    let id = 100;
    while (this.guests.has(id)) id++;
    return id;
  }

  /** Remove a guest and free its address. */
  removeGuest(vmid: number): void {
    const g = this.guests.get(vmid);
    if (!g) return;
    this.releaseIp(g.dhcpIp);
    this.guests.delete(vmid);
  }
}
