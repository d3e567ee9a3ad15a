// The inventory at size, shared by the benchmarks that need it (bench/inventory.ts, bench/memory.ts):
// `containers` containers and `vms` VMs spread over 3 nodes and 50 owners (user00…user49; every 17th
// container has no owner), with a mix of tags, statuses, environments and expiry dates so that every
// list filter matches some rows. Inserted in batches of 1,000 rows.
import type { Models } from '../models/index.js';
import { hashPassword } from '../src/lib/passwords.js';

export interface SeededInventory {
  nodes: { id: number; name: string }[];
  /** The 50 owners' usernames (user00…user49). */
  owners: string[];
  seconds: number;
}

/** Sizes from BENCH_CONTAINERS / BENCH_VMS, defaulting to the 10,000 containers and 2,000 VMs. */
export function inventorySize(): { containers: number; vms: number } {
  return { containers: Number(process.env.BENCH_CONTAINERS ?? 10_000), vms: Number(process.env.BENCH_VMS ?? 2_000) };
}

/** Empties the inventory tables, then inserts the nodes, containers and VMs. */
export async function seedInventory(models: Models, size: { containers: number; vms: number }): Promise<SeededInventory> {
  const t0 = Date.now();
  for (const m of [models.Credential, models.Service, models.Container, models.VirtualMachine, models.MachineSnapshot, models.Node]) await (m as typeof models.Node).destroy({ where: {} });
  const nodes = await models.Node.bulkCreate(['pve1', 'pve2', 'pve3'].map((name) => ({ name, apiUrl: `https://${name}.example.org:8006`, tlsVerify: true, tlsFingerprint: null, apiTokenId: null, apiTokenSecret: null })));
  const owners = Array.from({ length: 50 }, (_, i) => `user${String(i).padStart(2, '0')}`);
  const tagsets = ['web,prod', 'db,prod', 'ci', 'lab,test', null, 'gpu,ai', 'web,staging'];
  const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');
  const mac = (prefix: string, n: number) => `${prefix}:${hex((n >> 16) & 255, 2)}:${hex((n >> 8) & 255, 2)}:${hex(n & 255, 2)}`;
  const day = (n: number) => new Date(Date.UTC(2026, 10, 21) + (n % 400) * 86_400_000).toISOString().slice(0, 10);
  for (let start = 0; start < size.containers; start += 1000) {
    await models.Container.bulkCreate(
      Array.from({ length: Math.min(1000, size.containers - start) }, (_, k) => {
        const i = start + k;
        return {
          hostname: `ct-${String(i).padStart(5, '0')}.lab.example.org`,
          username: i % 17 === 0 ? null : owners[i % owners.length]!,
          osRelease: i % 2 ? 'debian-12' : 'ubuntu-24.04',
          nodeId: nodes[i % 3]!.id,
          containerId: 1000 + i,
          macAddress: mac('bc:24:11', i),
          ipv4Address: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
          status: i % 5 ? 'running' : 'stopped',
          environment: i % 3 ? 'production' : 'staging',
          expiresAt: i % 4 ? day(i) : null,
          purpose: `service ${i}`,
          notes: null,
          tags: tagsets[i % tagsets.length]!,
        } as never;
      }),
    );
  }
  for (let start = 0; start < size.vms; start += 1000) {
    await models.VirtualMachine.bulkCreate(
      Array.from({ length: Math.min(1000, size.vms - start) }, (_, k) => {
        const i = start + k;
        return {
          name: `vm-${String(i).padStart(5, '0')}.lab.example.org`,
          username: owners[i % owners.length]!,
          osName: 'Windows Server 2022',
          nodeId: nodes[i % 3]!.id,
          vmid: 50_000 + i,
          macAddress: mac('bc:24:12', i),
          ipv4Address: `10.200.${(i >> 8) & 255}.${i & 255}`,
          environment: 'production',
          expiresAt: day(i),
          purpose: `vm ${i}`,
          notes: null,
          tags: tagsets[i % tagsets.length]!,
        } as never;
      }),
    );
  }
  return { nodes: nodes.map((n) => ({ id: n.id, name: n.name })), owners, seconds: (Date.now() - t0) / 1000 };
}

/** A local account that can log in through the form (an existing one with that name is left as it is). */
export async function createBenchUser(models: Models, username: string, role: 'admin' | 'user', password: string): Promise<void> {
  if (await models.User.findOne({ where: { username } })) return;
  await models.User.create({ username, realm: 'local', role, disabled: false, displayName: null, email: null, passwordHash: await hashPassword(password), lastLoginAt: null });
}
