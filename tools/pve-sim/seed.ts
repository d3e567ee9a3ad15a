// The seed file describes the simulated cluster: nodes, realms, users (with passwords and
// groups), API tokens, ACLs, storages with templates, and existing guests. Parsed with Zod so a
// typo in a fixture fails loudly at start-up instead of producing odd API answers.
import { readFileSync } from 'node:fs';
import { z } from 'zod';

const GiB = 1024 ** 3;

const node = z.object({
  name: z.string().regex(/^[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?$/),
  maxcpu: z.number().int().positive().default(8),
  maxmem: z.number().positive().default(32 * GiB),
  maxdisk: z.number().positive().default(100 * GiB),
  online: z.boolean().default(true),
});

const realm = z.object({
  realm: z.string(),
  type: z.string(),
  comment: z.string().optional(),
  default: z.union([z.literal(0), z.literal(1)]).optional(),
});

const user = z.object({
  userid: z.string().regex(/^[^\s@:]+@[A-Za-z][A-Za-z.\-_]+$/, 'userid must be user@realm'),
  /** Omit to make a user that cannot log in with a password (token-only). */
  password: z.string().optional(),
  groups: z.array(z.string()).default([]),
  /** Base32 TOTP secret: the user has a second factor, so a password login gives a half ticket. */
  totp: z.string().regex(/^[A-Za-z2-7]+=*$/).optional(),
  enable: z.boolean().default(true),
  expire: z.number().int().min(0).default(0),
  firstname: z.string().optional(),
  lastname: z.string().optional(),
  email: z.string().optional(),
  comment: z.string().optional(),
});

const token = z.object({
  /** `user@realm!name`. */
  id: z.string().regex(/^[^\s@!]+@[^\s@!]+![A-Za-z][A-Za-z0-9.\-_]+$/),
  /** UUID, as Proxmox generates (and as proxmox-api requires: lower case). */
  secret: z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/),
  /** Privilege separation (Proxmox default true): the token needs its own ACLs. */
  privsep: z.boolean().default(true),
  comment: z.string().optional(),
  expire: z.number().int().min(0).default(0),
});

const acl = z.object({
  path: z.string().startsWith('/'),
  role: z.string(),
  user: z.string().optional(),
  group: z.string().optional(),
  token: z.string().optional(),
  propagate: z.boolean().default(true),
});

const template = z.object({
  /** File name under `vztmpl/`, e.g. `debian-12-standard_12.7-1_amd64.tar.zst`. */
  name: z.string(),
  size: z.number().int().positive().default(120_000_000),
  ctime: z.number().int().optional(),
});

const storage = z.object({
  id: z.string().regex(/^[a-z][a-z0-9\-_.]*[a-z0-9]$/i),
  type: z.enum(['dir', 'lvmthin', 'lvm', 'zfspool', 'nfs', 'cifs', 'rbd', 'cephfs']),
  content: z.array(z.string()).min(1),
  shared: z.boolean().default(false),
  total: z.number().positive().default(100 * GiB),
  used: z.number().min(0).default(10 * GiB),
  /** Nodes that have this storage; default all. */
  nodes: z.array(z.string()).optional(),
  templates: z.array(template).default([]),
});

const guest = z.object({
  vmid: z.number().int().min(100).max(999_999_999),
  node: z.string(),
  type: z.enum(['lxc', 'qemu']),
  status: z.enum(['running', 'stopped']).default('stopped'),
  /** Config keys as Proxmox stores them (`net0`, `rootfs`, `memory`, ...). Missing MACs are generated. */
  config: z.record(z.string(), z.union([z.string(), z.number()])).default({}),
  /** IPv4 the guest reports while running (DHCP); default allocated from the seed's subnet. */
  ipv4: z.string().optional(),
  /** QEMU only: whether the guest agent answers (needs `agent: 1` in config). */
  agentRunning: z.boolean().default(true),
});

const pool = z.object({
  /** `dev`, or nested `dev/team` (up to 3 levels). */
  poolid: z.string().regex(/^[A-Za-z0-9.\-_]+(\/[A-Za-z0-9.\-_]+){0,2}$/),
  comment: z.string().optional(),
  /** Member guests by VMID. */
  vms: z.array(z.number().int()).default([]),
  /** Member storages by id. */
  storage: z.array(z.string()).default([]),
});

export const seedSchema = z.object({
  clusterName: z.string().optional(),
  version: z.object({ version: z.string(), release: z.string(), repoid: z.string() })
    .default({ version: '9.1.3', release: '9.1', repoid: '2d9ae8ef' }),
  nodes: z.array(node).min(1),
  realms: z.array(realm).default([
    { realm: 'pam', type: 'pam', comment: 'Linux PAM standard authentication' },
    { realm: 'pve', type: 'pve', comment: 'Proxmox VE authentication server' },
  ]),
  users: z.array(user).default([]),
  tokens: z.array(token).default([]),
  acl: z.array(acl).default([]),
  storages: z.array(storage).default([]),
  guests: z.array(guest).default([]),
  pools: z.array(pool).default([]),
  /** /24 that DHCP addresses are handed out from (hosts .100 and up). */
  dhcpSubnet: z.string().regex(/^\d+\.\d+\.\d+\.0\/24$/).default('10.20.0.0/24'),
});

export type Seed = z.infer<typeof seedSchema>;
export type SeedInput = z.input<typeof seedSchema>;
export type SeedGuest = Seed['guests'][number];

/**
 * Validate a seed object, filling defaults. Throws with every problem listed.
 */
export function parseSeed(input: unknown): Seed {
  const res = seedSchema.safeParse(input);
  if (!res.success) {
    const lines = res.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new Error(`invalid simulator seed:\n${lines.join('\n')}`);
  }
  return res.data;
}

/** Read and validate a seed JSON file. */
export function loadSeedFile(file: string): Seed {
  return parseSeed(JSON.parse(readFileSync(file, 'utf8')));
}
