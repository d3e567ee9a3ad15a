import crypto from 'node:crypto';
import type { Container, Node, VirtualMachine } from '../../models/index.js';
import { Vault } from '../../src/lib/vault.js';
import { testContext } from '../support/context.js';

const hex = (n: number) => crypto.randomBytes(n).toString('hex');
let counter = 0;
const next = () => ++counter + Math.floor(Math.random() * 1_000_000);

/** A random unused-looking MAC (locally administered prefix) and IPv4 address. */
export const randomMac = () => ['02', ...crypto.randomBytes(5).toString('hex').match(/../g)!].join(':');
export const randomIp = () => `10.${crypto.randomInt(0, 255)}.${crypto.randomInt(0, 255)}.${crypto.randomInt(1, 254)}`;

/** A Proxmox node row (no API token unless given; the secret is sealed with the test config's vault). */
export async function createNode(overrides: Partial<{ name: string; apiUrl: string; apiTokenId: string | null; apiTokenSecret: string | null; tlsVerify: boolean; tlsFingerprint: string | null }> = {}): Promise<Node> {
  const { db, config } = testContext();
  const secret = overrides.apiTokenSecret ?? null;
  return db.models.Node.create({
    name: overrides.name ?? `pve-${hex(3)}`,
    apiUrl: overrides.apiUrl ?? 'https://127.0.0.1:8006',
    tlsVerify: overrides.tlsVerify ?? true,
    tlsFingerprint: overrides.tlsFingerprint ?? null,
    apiTokenId: overrides.apiTokenId ?? null,
    apiTokenSecret: secret === null ? null : Vault.fromConfig(config).seal(secret, 'node-token'),
  });
}

/** A container record; unique hostname, MAC and IP unless given. */
export async function createContainer(overrides: Partial<Record<string, unknown>> = {}): Promise<Container> {
  return testContext().db.models.Container.create({
    hostname: `ct-${hex(4)}.example.org`,
    username: null,
    osRelease: 'debian-12',
    nodeId: null,
    containerId: null,
    macAddress: randomMac(),
    ipv4Address: randomIp(),
    expiresAt: null,
    purpose: null,
    notes: null,
    tags: null,
    ...overrides,
  } as never);
}

/** A VM record; unique name, MAC and IP unless given. */
export async function createVm(overrides: Partial<Record<string, unknown>> = {}): Promise<VirtualMachine> {
  return testContext().db.models.VirtualMachine.create({
    name: `vm-${hex(4)}.example.org`,
    username: null,
    osName: 'Windows Server 2022',
    nodeId: null,
    vmid: null,
    macAddress: randomMac(),
    ipv4Address: randomIp(),
    environment: null,
    expiresAt: null,
    purpose: null,
    notes: null,
    tags: null,
    ...overrides,
  } as never);
}

/** A VMID not used by the other factories' records in this run. */
export const uniqueVmid = () => 100 + (next() % 900_000_000);
