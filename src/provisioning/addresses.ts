import crypto from 'node:crypto';
import { Op, type Transaction } from 'sequelize';
import type { IpPool, Models } from '../../models/index.js';
import { ValidationError } from '../lib/errors.js';

/** Proxmox's own MAC prefix (datacenter `mac_prefix` default); the locally administered bit is set in it. */
export const MAC_PREFIX = 'bc:24:11';

export function ipToInt(ip: string): number {
  return ip.split('.').reduce((n, part) => n * 256 + Number(part), 0);
}

export function intToIp(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

/** The prefix length of a pool's subnet (`10.20.0.0/24` → 24), for net0's `ip=ADDRESS/PREFIX`. */
export function prefixLength(cidr: string): number {
  return Number(cidr.split('/')[1]);
}

/** Whether `ip` lies in the subnet `cidr`. */
export function inSubnet(ip: string, cidr: string): boolean {
  const [base, bits] = cidr.split('/');
  const size = 2 ** (32 - Number(bits));
  const start = Math.floor(ipToInt(base) / size) * size;
  const n = ipToInt(ip);
  return n >= start && n < start + size;
}

/** A random MAC under Proxmox's prefix; uniqueness comes from Containers.macAddress. */
export function randomMac(): string {
  return [MAC_PREFIX, ...crypto.randomBytes(3).toString('hex').match(/../g)!].join(':');
}

/** Every IPv4 address a container record holds, on any node: what a pool may not hand out again. */
export async function heldAddresses(models: Models, transaction?: Transaction): Promise<string[]> {
  // Records are thousands at most; a pool's range may be a /16, so the range is not listed in SQL.
  const rows = await models.Container.findAll({ attributes: ['ipv4Address'], where: { ipv4Address: { [Op.ne]: null } }, raw: true, transaction });
  return rows.map((r) => r.ipv4Address!).filter(Boolean);
}

export interface Allocation {
  ipv4Address: string;
  macAddress: string;
  /** `name=eth0,bridge=…,hwaddr=…,ip=…/…,gw=…` for POST /nodes/{node}/lxc. */
  net0: string;
}

/**
 * The first address of the pool that no container record holds, and a MAC no record holds. Run in
 * the transaction that inserts the record: the unique indexes on ipv4Address and macAddress make a
 * concurrent request that picked the same one fail (and be retried), so no two get the same.
 */
export async function allocateAddress(models: Models, pool: IpPool, transaction: Transaction): Promise<Allocation> {
  const first = ipToInt(pool.rangeStart);
  const last = ipToInt(pool.rangeEnd);
  const taken = new Set((await heldAddresses(models, transaction)).filter((ip) => /^\d+\.\d+\.\d+\.\d+$/.test(ip) && ipToInt(ip) >= first && ipToInt(ip) <= last));
  let ip: string | undefined;
  for (let n = first; n <= last; n++) {
    const candidate = intToIp(n);
    if (!taken.has(candidate) && candidate !== pool.gateway) {
      ip = candidate;
      break;
    }
  }
  if (!ip) throw new ValidationError(`The IP pool of this node (${pool.rangeStart}–${pool.rangeEnd}) has no free address left; ask an administrator.`, { nodeId: 'no free address in this node\'s IP pool' });
  let mac = randomMac();
  for (let i = 0; i < 5 && (await models.Container.count({ where: { macAddress: mac }, transaction })); i++) mac = randomMac();
  return {
    ipv4Address: ip,
    macAddress: mac,
    net0: `name=eth0,bridge=${pool.bridge},hwaddr=${mac.toUpperCase()},ip=${ip}/${prefixLength(pool.cidr)},gw=${pool.gateway}`,
  };
}

/** The first and last address of the subnet `cidr` (its network and broadcast addresses), as numbers. */
export function subnetBounds(cidr: string): { network: number; broadcast: number } {
  const [base, bits] = cidr.split('/');
  const size = 2 ** (32 - Number(bits));
  const network = Math.floor(ipToInt(base) / size) * size;
  return { network, broadcast: network + size - 1 };
}

/**
 * How many addresses of a pool's range container records hold, and how many are left to hand out
 * (the gateway, when it lies in the range, is never handed out). `held` is every address records
 * hold, on any node, as allocateAddress counts them.
 */
export function poolUsage(pool: Pick<IpPool, 'rangeStart' | 'rangeEnd' | 'gateway'>, held: Iterable<string>): { size: number; used: number; free: number } {
  const first = ipToInt(pool.rangeStart);
  const last = ipToInt(pool.rangeEnd);
  const gateway = ipToInt(pool.gateway);
  const size = Math.max(0, last - first + 1) - (gateway >= first && gateway <= last ? 1 : 0);
  let used = 0;
  for (const ip of new Set(held)) {
    if (!/^\d+\.\d+\.\d+\.\d+$/.test(ip)) continue;
    const n = ipToInt(ip);
    if (n >= first && n <= last && n !== gateway) used++;
  }
  return { size, used, free: Math.max(0, size - used) };
}
