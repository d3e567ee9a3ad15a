// Cluster-wide reads: version, nodes, /cluster/resources and the next free VMID.
import type { Proxmox } from 'proxmox-api';
import { coerceNumbers, requireNumber } from './numbers.js';
import type { ClusterResource, PveNode, PveVersion } from './types.js';

const NODE_NUMBERS = ['cpu', 'maxcpu', 'mem', 'maxmem', 'disk', 'maxdisk', 'uptime'] as const;
const RESOURCE_NUMBERS = [
  'vmid', 'template', 'maxmem', 'mem', 'maxcpu', 'cpu', 'maxdisk', 'disk', 'uptime', 'netin', 'netout',
  'diskread', 'diskwrite', 'shared', 'memhost',
] as const;

/** Reads that are not about one machine. Reached as `client.cluster`. */
export class ClusterApi {
  constructor(private readonly api: Proxmox.Api) {}

  /** `GET /version`: `{version: "9.1.3", release: "9.1", repoid}`. */
  async version(): Promise<PveVersion> {
    return (await this.api.version.$get()) as PveVersion;
  }

  /** `GET /nodes`: the cluster's nodes with status and load. */
  async nodes(): Promise<PveNode[]> {
    const rows = (await this.api.nodes.$get()) as Record<string, unknown>[];
    return rows.map((r) => coerceNumbers(r, NODE_NUMBERS) as PveNode);
  }

  /** `GET /nodes/{node}/status`: CPU, memory, uptime, pveversion of one node. */
  async nodeStatus(node: string): Promise<Record<string, unknown>> {
    return coerceNumbers((await this.api.nodes.$(node).status.$get()) as Record<string, unknown>, ['cpu', 'uptime']);
  }

  /**
   * `GET /cluster/resources`: one flat list of machines, nodes and storages across the cluster;
   * `type` narrows it (`vm` gives both containers and VMs).
   */
  async resources(type?: 'vm' | 'storage' | 'node' | 'sdn'): Promise<ClusterResource[]> {
    const rows = (await this.api.cluster.resources.$get(type ? { type } : undefined)) as Record<string, unknown>[];
    return rows.map((r) => coerceNumbers(r, RESOURCE_NUMBERS) as ClusterResource);
  }

  /**
   * `GET /cluster/nextid`: the first free VMID (Proxmox sends it as a string). With `vmid`, returns
   * it if free and throws a 400 ProxmoxError (`code` "already-exists") if taken. Not a reservation.
   */
  async nextId(vmid?: number): Promise<number> {
    const v = await this.api.cluster.nextid.$get(vmid === undefined ? undefined : { vmid });
    return requireNumber(v, 'nextid');
  }
}
