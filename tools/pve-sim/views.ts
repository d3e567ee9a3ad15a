// Renders state as the rows real endpoints return: guest lists and status/current, cluster
// resources, node and storage rows, and the interfaces a running guest reports.
import { parseSize } from './formats.js';
import { parsePropertyString } from './property-string.js';
import type { Guest, NodeRec, SimState, StorageRec } from './state.js';

const MiB = 1024 * 1024;

function num(v: unknown, dflt: number): number {
  const n = Number(v);
  return Number.isFinite(n) ? n : dflt;
}

/** Disk size in bytes from `rootfs` (LXC) or the first disk (QEMU). */
function maxdisk(g: Guest): number {
  const disk = g.type === 'lxc' ? g.config.rootfs : (g.config.scsi0 ?? g.config.virtio0 ?? g.config.sata0);
  const size = /(?:^|,)size=([^,]+)/.exec(String(disk ?? ''))?.[1];
  return (size && parseSize(size)) || 0;
}

function uptime(g: Guest, now: number): number {
  return g.status === 'running' && g.startedAt !== undefined ? Math.max(0, Math.floor((now - g.startedAt) / 1000)) : 0;
}

/**
 * The fields common to list rows, status/current and /cluster/resources. `hostCpus` is the node's
 * CPU count: a container without `cores` (or `cpulimit`) may use them all, and pve-container's
 * vmstatus reports that.
 */
export function guestStats(g: Guest, now: number, hostCpus = 1): Record<string, unknown> {
  const running = g.status === 'running';
  const maxmem = num(g.config.memory, g.type === 'lxc' ? 512 : 2048) * MiB;
  const cpus = g.type === 'qemu'
    ? num(g.config.cores, 1) * num(g.config.sockets, 1)
    : num(g.config.cores, 0) || num(g.config.cpulimit, 0) || hostCpus;
  const row: Record<string, unknown> = {
    vmid: g.vmid,
    name: String(g.type === 'lxc' ? (g.config.hostname ?? `CT${g.vmid}`) : (g.config.name ?? `VM${g.vmid}`)),
    status: g.status,
    maxmem,
    mem: running ? Math.floor(maxmem * 0.3) : 0,
    maxdisk: maxdisk(g),
    disk: running ? Math.floor(maxdisk(g) * 0.25) : 0,
    cpus,
    cpu: running ? 0.012 : 0,
    uptime: uptime(g, now),
    netin: running ? 123456 : 0,
    netout: running ? 65432 : 0,
    diskread: running ? 1048576 : 0,
    diskwrite: running ? 524288 : 0,
  };
  if (running) row.pid = 10000 + g.vmid;
  if (g.config.lock !== undefined) row.lock = g.config.lock;
  if (g.config.tags !== undefined) row.tags = g.config.tags;
  if (Number(g.config.template) === 1) row.template = 1;
  return row;
}

/** A row of `GET /nodes/{node}/lxc` or `/qemu`. */
export function guestListRow(g: Guest, now: number, hostCpus?: number): Record<string, unknown> {
  const row = guestStats(g, now, hostCpus);
  if (g.type === 'lxc') {
    row.type = 'lxc';
    row.maxswap = num(g.config.swap, 512) * MiB;
    row.swap = 0;
  }
  return row;
}

/** `GET .../status/current`. */
export function guestStatus(g: Guest, now: number, hostCpus?: number): Record<string, unknown> {
  const row = { ...guestListRow(g, now, hostCpus), ha: { managed: 0 } };
  if (g.type === 'qemu') {
    Object.assign(row, { qmpstatus: g.status, agent: Number(g.config.agent ?? 0) ? 1 : 0 });
  }
  return row;
}

/** Rows for `/cluster/resources` (guests, nodes, storages). */
export function resourceRows(state: SimState, now: number, type?: string): Record<string, unknown>[] {
  const rows: Record<string, unknown>[] = [];
  if (!type || type === 'node') {
    for (const n of state.nodes.values()) rows.push({ ...nodeRow(n, state, now, true), id: `node/${n.name}`, type: 'node' });
  }
  if (!type || type === 'vm') {
    for (const g of state.guests.values()) {
      const stats = guestStats(g, now, state.nodes.get(g.node)?.maxcpu);
      delete stats.pid;
      const maxcpu = stats.cpus;
      delete stats.cpus;
      rows.push({ id: `${g.type}/${g.vmid}`, type: g.type, node: g.node, ...stats, maxcpu, template: Number(g.config.template ?? 0) ? 1 : 0 });
    }
  }
  if (!type || type === 'storage') {
    for (const n of state.nodes.values()) {
      for (const s of state.storagesOn(n.name)) {
        rows.push({
          id: `storage/${n.name}/${s.id}`, type: 'storage', storage: s.id, node: n.name, plugintype: s.type,
          status: n.online ? 'available' : 'unknown', shared: s.shared ? 1 : 0, content: s.content.join(','),
          disk: s.used, maxdisk: s.total,
        });
      }
    }
  }
  return rows;
}

/** A `GET /nodes` row; without Sys.Audit only the name and status are shown. */
export function nodeRow(n: NodeRec, state: SimState, now: number, audit: boolean): Record<string, unknown> {
  const row: Record<string, unknown> = { node: n.name, status: n.online ? 'online' : 'offline', id: `node/${n.name}`, type: 'node' };
  if (!audit || !n.online) return row;
  const used = [...state.guests.values()].filter((g) => g.node === n.name && g.status === 'running')
    .reduce((sum, g) => sum + Number(guestStats(g, now).mem), 0);
  return {
    ...row, cpu: 0.031, maxcpu: n.maxcpu, mem: 2 * 1024 ** 3 + used, maxmem: n.maxmem, disk: Math.floor(n.maxdisk * 0.2),
    maxdisk: n.maxdisk, uptime: 864000, level: '', 'cgroup-mode': 2,
    ssl_fingerprint: 'AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99',
  };
}

/** A `GET /nodes/{node}/storage` row. */
export function storageRow(s: StorageRec): Record<string, unknown> {
  return {
    storage: s.id, type: s.type, content: s.content.join(','), active: 1, enabled: 1, shared: s.shared ? 1 : 0,
    total: s.total, used: s.used, avail: s.total - s.used, used_fraction: s.used / s.total,
  };
}

/** Link-local IPv6 from a MAC (EUI-64), as a guest would configure it. */
function linkLocal(mac: string): string {
  const b = mac.split(':').map((h) => parseInt(h, 16));
  b[0] ^= 2;
  const words = [(b[0] << 8) | b[1], (b[2] << 8) | 0xff, 0xfe00 | b[3], (b[4] << 8) | b[5]];
  return `fe80::${words.map((w) => w.toString(16)).join(':')}`;
}

/** One NIC per `netN`: MAC, and the IPv4 once static config or the DHCP lease applies. */
function nics(g: Guest, now: number): Array<{ name: string; mac: string; ipv4?: string }> {
  const out: Array<{ name: string; mac: string; ipv4?: string }> = [];
  for (const key of Object.keys(g.config).filter((k) => /^net\d+$/.test(k)).sort()) {
    const raw = String(g.config[key]);
    const kv = g.type === 'lxc' ? parsePropertyString(raw) : {};
    const mac = g.type === 'lxc' ? kv.hwaddr : /=([0-9A-F:]{17})/i.exec(raw)?.[1];
    if (!mac) continue;
    const name = g.type === 'lxc' ? (kv.name ?? key) : `eth${key.slice(3)}`;
    let ipv4: string | undefined;
    if (kv.ip && /\//.test(kv.ip)) ipv4 = kv.ip;
    else if ((g.type === 'qemu' || kv.ip === 'dhcp') && key === 'net0' && g.dhcpIp && now >= (g.ipReadyAt ?? Infinity)) {
      ipv4 = `${g.dhcpIp}/24`;
    }
    out.push({ name, mac: mac.toLowerCase(), ...(ipv4 ? { ipv4 } : {}) });
  }
  return out;
}

const addr = (ip: string, type: string, prefix: number) => ({ 'ip-address': ip, 'ip-address-type': type, prefix });

/** `GET /nodes/{node}/lxc/{vmid}/interfaces` for a running container. */
export function lxcInterfaces(g: Guest, now: number): Record<string, unknown>[] {
  const lo = {
    name: 'lo', hwaddr: '00:00:00:00:00:00', 'hardware-address': '00:00:00:00:00:00', inet: '127.0.0.1/8', inet6: '::1/128',
    'ip-addresses': [addr('127.0.0.1', 'inet', 8), addr('::1', 'inet6', 128)],
  };
  return [lo, ...nics(g, now).map((n) => {
    const ll = linkLocal(n.mac);
    const list = [addr(ll, 'inet6', 64)];
    const row: Record<string, unknown> = { name: n.name, hwaddr: n.mac, 'hardware-address': n.mac, inet6: `${ll}/64` };
    if (n.ipv4) {
      row.inet = n.ipv4;
      list.unshift(addr(n.ipv4.split('/')[0], 'inet', Number(n.ipv4.split('/')[1])));
    }
    row['ip-addresses'] = list;
    return row;
  })];
}

/** The guest agent's `network-get-interfaces` result for a running VM. */
export function agentInterfaces(g: Guest, now: number): Record<string, unknown>[] {
  const stats = { 'rx-bytes': 1000, 'rx-packets': 10, 'rx-errs': 0, 'rx-dropped': 0, 'tx-bytes': 1000, 'tx-packets': 10, 'tx-errs': 0, 'tx-dropped': 0 };
  const lo = { name: 'lo', 'hardware-address': '00:00:00:00:00:00', 'ip-addresses': [addr('127.0.0.1', 'ipv4', 8), addr('::1', 'ipv6', 128)], statistics: stats };
  return [lo, ...nics(g, now).map((n) => ({
    name: n.name,
    'hardware-address': n.mac,
    'ip-addresses': [
      ...(n.ipv4 ? [addr(n.ipv4.split('/')[0], 'ipv4', Number(n.ipv4.split('/')[1]))] : []),
      addr(linkLocal(n.mac), 'ipv6', 64),
    ],
    statistics: stats,
  }))];
}
