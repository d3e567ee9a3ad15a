/**
 * Unknown machines for the drift page's bulk tests: MachineSnapshot rows (what a sync leaves) on a
 * node of their own, with unique names, VMIDs, MACs and addresses (the run's database is shared).
 */
import crypto from 'node:crypto';
import type { MachineSnapshot, Node } from '../../../models/index.js';
import { createNode, randomMac, uniqueVmid } from '../../factories/inventory.js';
import { testContext } from '../../support/context.js';

export const hex = (n = 4) => crypto.randomBytes(n).toString('hex');

let ipsHandedOut = 0;
/** The next address of 198.18.0.0/15 (x.y.z.1 to .254: 130,048 of them), never the same twice in a test process. */
function nextIp(): string {
  const n = ipsHandedOut++;
  const block = Math.floor(n / 254); // the /24 (0…511)
  if (block >= 512) throw new Error('drift-bulk-fixture: out of test addresses');
  return `198.${18 + (block >> 8)}.${block & 255}.${(n % 254) + 1}`;
}

/** `count` unknown containers (or VMs) on `node` (a new registered node unless given a name). */
export async function unknownMachines(count: number, opts: { node?: Node | string; kind?: 'lxc' | 'qemu'; names?: (i: number) => string } = {}): Promise<{ node: string; snaps: MachineSnapshot[] }> {
  const node = typeof opts.node === 'string' ? opts.node : (opts.node ?? (await createNode({ name: `pb${hex(3)}` }))).name;
  const kind = opts.kind ?? 'lxc';
  const tag = hex();
  // uniqueVmid is random: with many machines on one node, draw again until each is distinct.
  const vmids = new Set<number>();
  while (vmids.size < count) vmids.add(uniqueVmid());
  const vmidList = [...vmids];
  // Addresses too: an imported record's address must not be any record's, and the factories draw
  // theirs at random from 10/8, so these come one after another from 198.18.0.0/15 (no other test's).
  const ipList = Array.from({ length: count }, () => nextIp());
  const rows = Array.from({ length: count }, (_, i) => ({
    kind,
    node,
    vmid: vmidList[i],
    name: opts.names?.(i) ?? `bulk-${tag}-${i}`,
    status: kind === 'lxc' ? 'running' : 'stopped',
    macAddress: randomMac(),
    ipv4Address: ipList[i],
    osName: kind === 'lxc' ? 'debian' : 'l26',
    syncJobId: null,
    seenAt: new Date(),
  }));
  // In batches: one INSERT of a thousand rows passes SQLite's limit on bound variables.
  const snaps: MachineSnapshot[] = [];
  for (let i = 0; i < rows.length; i += 200) snaps.push(...(await testContext().db.models.MachineSnapshot.bulkCreate(rows.slice(i, i + 200))));
  return { node, snaps };
}

export const refOf = (s: { kind: string; node: string; vmid: number }) => `${s.kind}/${s.node}/${s.vmid}`;

/** `count` VM records whose fields drifted (not gone), created at once: they fill the drift page's window of records with drift. */
export async function driftedVms(count: number): Promise<void> {
  const tag = hex();
  const drift = JSON.stringify({ fields: { status: { berth: 'running', proxmox: 'stopped' } } });
  const rows = Array.from({ length: count }, (_, i) => ({ name: `drifted-${tag}-${i}.example.org`, osName: 'l26', nodeId: null, vmid: null, macAddress: null, ipv4Address: null, username: null, environment: null, expiresAt: null, purpose: null, notes: null, tags: null, drift }));
  for (let i = 0; i < rows.length; i += 200) await testContext().db.models.VirtualMachine.bulkCreate(rows.slice(i, i + 200));
}
