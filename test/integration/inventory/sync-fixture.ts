/**
 * A Proxmox world of its own for each sync test: the sample seed with unique node names, hostnames,
 * MACs and addresses (the run's database is shared by every test file, and those columns are
 * unique), served by a simulator, with both of its nodes registered in Berth with the seed's API
 * token. `cleanup()` removes what the test created and closes the simulator.
 */
import crypto from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Op } from 'sequelize';
import type { Node } from '../../../models/index.js';
import { createProxmoxClient, type ProxmoxClient } from '../../../src/lib/proxmox/index.js';
import type { SeedInput } from '../../../tools/pve-sim/index.js';
import { createNode } from '../../factories/inventory.js';
import { testContext } from '../../support/context.js';
import { ADMIN_TOKEN, SEED_FILE, startSim, type StartedSim } from '../../support/pve-sim.js';

export interface SyncWorld {
  s: StartedSim;
  /** Berth nodes for the seed's pve1 and pve2. */
  n1: Node;
  n2: Node;
  /** The seed's machine names with this world's suffix: web01 → web01-<suffix>. */
  name(seedName: string): string;
  /** The seed's address 10.20.0.x in this world's subnet. */
  ip(seedIp: string): string;
  cleanup(): Promise<void>;
}

const hexMac = () => `BC:24:11:${crypto.randomBytes(3).toString('hex').toUpperCase().match(/../g)!.join(':')}`;

export async function startSyncWorld(opts: { https?: boolean } = {}): Promise<SyncWorld> {
  const suffix = crypto.randomBytes(3).toString('hex');
  const subnet = `10.${crypto.randomInt(100, 250)}.${crypto.randomInt(0, 255)}.`;
  const ip = (seedIp: string) => seedIp.replace(/^10\.20\.0\./, subnet);
  const name = (seedName: string) => `${seedName}-${suffix}`;
  const nodeName = { pve1: `pa${suffix}`, pve2: `pb${suffix}` } as Record<string, string>;
  const seed = JSON.parse(readFileSync(SEED_FILE, 'utf8')) as SeedInput & Record<string, any>;
  seed.nodes = seed.nodes.map((n: { name: string }) => ({ ...n, name: nodeName[n.name] }));
  seed.dhcpSubnet = `${subnet}0/24`;
  seed.guests = (seed.guests ?? []).map((g: any) => {
    const config = { ...g.config };
    if (config.hostname) config.hostname = name(config.hostname);
    if (config.name) config.name = name(config.name);
    if (typeof config.net0 === 'string') {
      config.net0 = config.net0.replace(/(hwaddr|virtio)=[0-9A-F:]{17}/, (_m: string, k: string) => `${k}=${hexMac()}`).replace(/10\.20\.0\./g, subnet);
    }
    return { ...g, node: nodeName[g.node], config, ...(g.ipv4 ? { ipv4: ip(g.ipv4) } : {}) };
  });
  const s = await startSim({ seed, https: opts.https });
  const register = (n: string) => createNode({ name: n, apiUrl: s.url, apiTokenId: ADMIN_TOKEN.tokenId, apiTokenSecret: ADMIN_TOKEN.secret, tlsVerify: false });
  const n1 = await register(nodeName.pve1);
  const n2 = await register(nodeName.pve2);
  return {
    s,
    n1,
    n2,
    name,
    ip,
    async cleanup() {
      const { models } = testContext().db;
      const ids = [n1.id, n2.id];
      await models.Container.destroy({ where: { nodeId: ids } });
      await models.VirtualMachine.destroy({ where: { nodeId: ids } });
      await models.MachineSnapshot.destroy({ where: { node: { [Op.in]: Object.values(nodeName) } } });
      await models.Node.destroy({ where: { id: ids } });
      await s.close();
    },
  };
}

/** A world plus a Proxmox client on its simulator (to change machines behind Berth's back). */
export type SyncWorldWithClient = SyncWorld & { pve: ProxmoxClient };

/**
 * For a describe(): a fresh world and client before each test, closed and cleaned up after it. The
 * returned object is filled in place, so tests read `w.n1`, `w.pve`, … inside their bodies.
 */
export function useSyncWorld(): SyncWorldWithClient {
  const w = {} as SyncWorldWithClient;
  beforeEach(async () => {
    const world = await startSyncWorld();
    Object.assign(w, world, { pve: createProxmoxClient(world.s.clientOptions()) });
  });
  afterEach(async () => {
    await w.pve.close();
    await w.cleanup();
  });
  return w;
}
