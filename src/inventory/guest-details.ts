import { macFromNet, type ClusterResource, type GuestInterface, type ProxmoxClient } from '../lib/proxmox/index.js';
import { normaliseMac } from '../lib/validators.js';
import type { GuestSeen } from './drift.js';

/**
 * What a sync reads about one guest beyond /cluster/resources: the name, MAC and IPv4 from its
 * config (a static `ip=` in net0), and for a running container its /interfaces (the DHCP address).
 * A VM's address comes from its guest agent when one answers. A failed read leaves the fields
 * unknown (null, so never reported as drift) and is reported through `warn`.
 */
export async function readGuest(client: ProxmoxClient, r: ClusterResource, warn: (message: string) => void): Promise<GuestSeen> {
  const kind = r.type as GuestSeen['kind'];
  const node = String(r.node);
  const vmid = r.vmid!;
  const guest: GuestSeen = { kind, node, vmid, name: r.name ?? null, status: r.status ?? null, macAddress: null, ipv4Address: null, osName: null };
  const running = r.status === 'running';
  try {
    const cfg = kind === 'lxc' ? await client.containers.config(node, vmid) : await client.vms.config(node, vmid);
    const net0 = typeof cfg.net0 === 'string' ? cfg.net0 : undefined;
    const mac = macFromNet(net0);
    const configName = kind === 'lxc' ? cfg.hostname : cfg.name;
    if (typeof configName === 'string' && configName) guest.name = configName;
    guest.macAddress = mac ? normaliseMac(mac) : null;
    guest.osName = typeof cfg.ostype === 'string' ? cfg.ostype : null;
    guest.ipv4Address = /(?:^|,)ip=(\d+\.\d+\.\d+\.\d+)\/\d+/.exec(net0 ?? '')?.[1] ?? null;
    if (!guest.ipv4Address && running) {
      if (kind === 'lxc') guest.ipv4Address = pickIpv4((await client.containers.interfaces(node, vmid)) ?? [], guest.macAddress);
      else if (/^(1|enabled=1)/.test(String(cfg.agent ?? ''))) {
        // No agent running inside the VM is normal: the address simply stays unknown.
        guest.ipv4Address = pickIpv4(await client.vms.interfaces(node, vmid).catch(() => []), guest.macAddress);
      }
    }
  } catch (e) {
    warn(`${kind === 'lxc' ? 'container' : 'VM'} ${vmid} on ${node}: ${(e as Error).message}`);
  }
  return guest;
}

/** The first usable IPv4, preferring the interface with the guest's net0 MAC. */
function pickIpv4(ifaces: GuestInterface[], mac: string | null): string | null {
  const usable = ifaces.filter((i) => i.name !== 'lo');
  const ordered = [...usable.filter((i) => mac && i.hwaddr === mac), ...usable];
  for (const i of ordered) {
    const ip = i.ipv4.find((a) => !a.startsWith('127.') && !a.startsWith('169.254.'));
    if (ip) return ip;
  }
  return null;
}
