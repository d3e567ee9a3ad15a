/**
 * A Proxmox world for provisioning tests: the sync world (a simulator with the sample seed, both
 * nodes registered in Berth with the seed's API token), plus the templates an admin would curate
 * (Debian 12 on both nodes, Ubuntu 24.04 on the first), an optional IP pool on the first node, and
 * an in-process job runner whose provisioning polls are fast. `cleanup()` removes it all.
 */
import type { ContainerTemplate, IpPool } from '../../../models/index.js';
import type { RunnerOptions } from '../../../src/jobs/runner.js';
import { createProxmoxClient, type ProxmoxClient } from '../../../src/lib/proxmox/index.js';
import { testContext } from '../../support/context.js';
import { startRunner } from '../../support/runner.js';
import { startSyncWorld, type SyncWorld } from '../inventory/sync-fixture.js';

export const DEBIAN = 'local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst';
export const UBUNTU = 'local:vztmpl/ubuntu-24.04-standard_24.04-2_amd64.tar.zst';

export interface ProvisioningWorld extends SyncWorld {
  /** A client on the simulator as root's token (to look or change things behind Berth's back). */
  pve: ProxmoxClient;
  templates: ContainerTemplate[];
  pool: IpPool | null;
  runner: Awaited<ReturnType<typeof startRunner>> | null;
  /** The test config with fast provisioning polls and short waits (what the runner uses). */
  config: ReturnType<typeof testContext>['config'];
}

export interface WorldOptions {
  /** An IP pool on the first node: the last octet range [from, to] in a fresh subnet (default: none). */
  pool?: { from: number; to: number };
  /** Start an in-process runner (default true). */
  runner?: boolean;
  runnerOverrides?: Partial<RunnerOptions>;
  /** Config values for the runner (e.g. PROVISION_IP_WAIT_SECONDS). */
  config?: Record<string, unknown>;
}

export async function startProvisioningWorld(opts: WorldOptions = {}): Promise<ProvisioningWorld> {
  const world = await startSyncWorld();
  const { db, config: base } = testContext();
  const config = { ...base, PROVISION_POLL_MS: 20, PROVISION_IP_WAIT_SECONDS: 5, ...opts.config } as typeof base;
  const templates = [
    await db.models.ContainerTemplate.create({ nodeId: world.n1.id, volid: DEBIAN, osRelease: 'Debian 12' }),
    await db.models.ContainerTemplate.create({ nodeId: world.n2.id, volid: DEBIAN, osRelease: 'Debian 12' }),
    await db.models.ContainerTemplate.create({ nodeId: world.n1.id, volid: UBUNTU, osRelease: 'Ubuntu 24.04' }),
  ];
  let pool: IpPool | null = null;
  if (opts.pool) {
    const subnet = world.ip('10.20.0.0').replace(/\.0$/, '.');
    pool = await db.models.IpPool.create({
      nodeId: world.n1.id, bridge: 'vmbr0', cidr: `${subnet}0/24`, gateway: `${subnet}1`,
      rangeStart: `${subnet}${opts.pool.from}`, rangeEnd: `${subnet}${opts.pool.to}`,
    });
  }
  const runner = opts.runner === false ? null : await startRunner({ config, ...opts.runnerOverrides });
  const pve = createProxmoxClient(world.s.clientOptions());
  return {
    ...world,
    pve,
    templates,
    pool,
    runner,
    config,
    async cleanup() {
      await runner?.close();
      await pve.close();
      const { models } = testContext().db;
      const ids = [world.n1.id, world.n2.id];
      const containers = await models.Container.findAll({ where: { nodeId: ids }, attributes: ['id'] });
      await models.ContainerRequest.destroy({ where: { containerId: containers.map((c) => c.id) } });
      await models.ContainerTemplate.destroy({ where: { nodeId: ids } });
      await models.IpPool.destroy({ where: { nodeId: ids } });
      await world.cleanup();
    },
  };
}
