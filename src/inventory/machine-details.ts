import { macFromNet, primaryIpv4, staticIpv4FromNet, type ClusterResource, type ProxmoxClient } from '../lib/proxmox/index.js';
import { normaliseMac } from '../lib/validators.js';
import { markedContainerId } from '../provisioning/marker.js';
import type { MachineSeen } from './drift.js';

/**
 * What a sync reads about one machine beyond /cluster/resources: the name, MAC and IPv4 from its
 * config (a static `ip=` in net0), and for a running container its /interfaces (the DHCP address).
 * A VM's address comes from its guest agent when one answers. A failed read leaves the fields
 * unknown (null, so never reported as drift) and is reported through `warn`.
 */
export async function readMachine(client: ProxmoxClient, r: ClusterResource, warn: (message: string) => void): Promise<MachineSeen> {
  const kind = r.type as MachineSeen['kind'];
  const node = String(r.node);
  const vmid = r.vmid!;
  const machine: MachineSeen = { kind, node, vmid, name: r.name ?? null, status: r.status ?? null, macAddress: null, ipv4Address: null, osName: null };
  const running = r.status === 'running';
  try {
    const cfg = kind === 'lxc' ? await client.containers.config(node, vmid) : await client.vms.config(node, vmid);
    const net0 = typeof cfg.net0 === 'string' ? cfg.net0 : undefined;
    const mac = macFromNet(net0);
    const configName = kind === 'lxc' ? cfg.hostname : cfg.name;
    if (typeof configName === 'string' && configName) machine.name = configName;
    machine.macAddress = mac ? normaliseMac(mac) : null;
    machine.osName = typeof cfg.ostype === 'string' ? cfg.ostype : null;
    if (kind === 'lxc') machine.berthContainerId = markedContainerId(cfg.description);
    machine.ipv4Address = staticIpv4FromNet(net0);
    if (!machine.ipv4Address && running) {
      if (kind === 'lxc') machine.ipv4Address = primaryIpv4((await client.containers.interfaces(node, vmid)) ?? [], machine.macAddress);
      else if (/^(1|enabled=1)/.test(String(cfg.agent ?? ''))) {
        // No agent running inside the VM is normal: the address simply stays unknown.
        machine.ipv4Address = primaryIpv4(await client.vms.interfaces(node, vmid).catch(() => []), machine.macAddress);
      }
    }
  } catch (e) {
    warn(`${kind === 'lxc' ? 'container' : 'VM'} ${vmid} on ${node}: ${(e as Error).message}`);
  }
  return machine;
}
