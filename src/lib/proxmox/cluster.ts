// Cluster-wide reads: version, nodes, /cluster/resources (and each node's free memory from it) and
// the next free VMID.
import type { Proxmox } from 'proxmox-api';
import { coerceNumbers, requireNumber, toNumber } from './numbers.js';
import type { ClusterResource, NodeResources, PveNode, PveVersion } from './types.js';

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
   * Each node's memory, CPU and disk from `GET /cluster/resources?type=node`, with `free` memory
   * (`maxmem - mem`) for choosing where a container goes. Numbers a node did not report are 0.
   */
  async nodeResources(): Promise<NodeResources[]> {
    const rows = await this.resources('node');
    return rows.filter((r) => r.type === 'node' && typeof r.node === 'string').map((r) => {
      const num = (k: string) => toNumber(r[k]) ?? 0;
      const maxmem = num('maxmem');
      const mem = num('mem');
      return {
        node: r.node as string,
        status: typeof r.status === 'string' ? r.status : 'unknown',
        maxmem, mem, free: Math.max(0, maxmem - mem),
        maxcpu: num('maxcpu'), cpu: num('cpu'), maxdisk: num('maxdisk'), disk: num('disk'),
      };
    });
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
