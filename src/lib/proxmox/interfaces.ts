// Machine network interfaces come in two shapes: LXC `/interfaces` (from `ip --json a`, with the
// deprecated `inet`/`inet6` CIDR strings) and the QEMU guest agent's `network-get-interfaces`.
// Both carry `ip-addresses`; this module reads either into one shape.
import type { MachineInterface } from './types.js';

interface RawAddress {
  'ip-address'?: string;
  'ip-address-type'?: string;
}

interface RawInterface {
  name?: string;
  hwaddr?: string;
  'hardware-address'?: string;
  inet?: string;
  inet6?: string;
  'ip-addresses'?: RawAddress[];
}

function stripPrefix(cidr: string): string {
  return cidr.split('/')[0];
}

/**
 * Normalise interface rows from LXC `/interfaces` or the QEMU agent into {@link MachineInterface}.
 */
export function normalizeInterfaces(rows: unknown): MachineInterface[] {
  if (!Array.isArray(rows)) return [];
  return (rows as RawInterface[]).map((r) => {
    const ipv4 = new Set<string>();
    const ipv6 = new Set<string>();
    for (const a of r['ip-addresses'] ?? []) {
      if (!a['ip-address']) continue;
      const t = (a['ip-address-type'] ?? '').toLowerCase();
      if (t === 'inet' || t === 'ipv4') ipv4.add(a['ip-address']);
      else if (t === 'inet6' || t === 'ipv6') ipv6.add(a['ip-address']);
    }
    if (r.inet) for (const c of r.inet.split(/\s+/)) if (c) ipv4.add(stripPrefix(c));
    if (r.inet6) for (const c of r.inet6.split(/\s+/)) if (c) ipv6.add(stripPrefix(c));
    const hw = r.hwaddr ?? r['hardware-address'];
    return {
      name: r.name ?? '',
      ...(hw ? { hwaddr: hw.toLowerCase() } : {}),
      ipv4: [...ipv4],
      ipv6: [...ipv6],
    };
  });
}

/**
 * The machine's primary IPv4: the first non-loopback address, preferring the interface whose MAC
 * matches `mac` (case-insensitive) when given. Null until DHCP has finished.
 */
export function primaryIpv4(ifaces: MachineInterface[], mac?: string | null): string | null {
  const usable = ifaces.filter((i) => i.name !== 'lo');
  const byMac = mac ? usable.filter((i) => i.hwaddr === mac.toLowerCase()) : [];
  for (const i of [...byMac, ...usable]) {
    const ip = i.ipv4.find((a) => !a.startsWith('127.') && !a.startsWith('169.254.'));
    if (ip) return ip;
  }
  return null;
}
