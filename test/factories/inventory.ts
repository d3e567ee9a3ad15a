import crypto from 'node:crypto';
import type { CreationAttributes } from 'sequelize';
import type { Container, Node, VirtualMachine } from '../../models/index.js';
import { Vault } from '../../src/lib/vault.js';
import { testContext } from '../support/context.js';
import { withoutUndefined } from './overrides.js';

const hex = (n: number) => crypto.randomBytes(n).toString('hex');
let counter = 0;
const next = () => ++counter + Math.floor(Math.random() * 1_000_000);

/** A random unused-looking MAC (locally administered prefix) and IPv4 address. */
export const randomMac = () => ['02', ...crypto.randomBytes(5).toString('hex').match(/../g)!].join(':');
export const randomIp = () => `10.${crypto.randomInt(0, 255)}.${crypto.randomInt(0, 255)}.${crypto.randomInt(1, 254)}`;

/** Node attributes a test may set; `apiTokenSecret` is the plain secret, sealed here. */
export type NodeOverrides = Partial<CreationAttributes<Node>>;

/** A Proxmox node row (no API token unless given; the secret is sealed with the test config's vault). */
export async function createNode(overrides: NodeOverrides = {}): Promise<Node> {
  overrides = withoutUndefined(overrides);
  const { db, config } = testContext();
  const secret = overrides.apiTokenSecret ?? null;
  return db.models.Node.create({
    name: `pve-${hex(3)}`,
    apiUrl: 'https://127.0.0.1:8006',
    tlsVerify: true,
    tlsFingerprint: null,
    apiTokenId: null,
    ...overrides,
    apiTokenSecret: secret === null ? null : Vault.fromConfig(config).seal(secret, 'node-token'),
  });
}

/**
 * The node a record sits on: the one given (or null when given as null); otherwise a new Node when
 * the record has a VMID (a VMID only means something on a node), else none.
 */
async function nodeFor(overrides: { nodeId?: number | null; vmid?: number | null }): Promise<number | null> {
  if (overrides.nodeId !== undefined) return overrides.nodeId;
  return overrides.vmid == null ? null : (await createNode()).id;
}

/** What containers and VMs share: nobody's, no VMID, a unique MAC and IP, no dates or notes. */
const recordDefaults = () => ({ username: null, vmid: null, macAddress: randomMac(), ipv4Address: randomIp(), expiresAt: null, purpose: null, notes: null, tags: null });

/** A container record; unique hostname, MAC and IP unless given; on a new Node when given a VMID alone. */
export async function createContainer(overrides: Partial<CreationAttributes<Container>> = {}): Promise<Container> {
  overrides = withoutUndefined(overrides);
  return testContext().db.models.Container.create({
    ...recordDefaults(),
    hostname: `ct-${hex(4)}.example.org`,
    osRelease: 'debian-12',
    ...overrides,
    nodeId: await nodeFor(overrides),
  });
}

/** A VM record; unique name, MAC and IP unless given; on a new Node when given a VMID alone. */
export async function createVm(overrides: Partial<CreationAttributes<VirtualMachine>> = {}): Promise<VirtualMachine> {
  overrides = withoutUndefined(overrides);
  return testContext().db.models.VirtualMachine.create({
    ...recordDefaults(),
    name: `vm-${hex(4)}.example.org`,
    osName: 'Windows Server 2022',
    environment: null,
    ...overrides,
    nodeId: await nodeFor(overrides),
  });
}

/** A VMID not used by the other factories' records in this run. */
export const uniqueVmid = () => 100 + (next() % 900_000_000);
