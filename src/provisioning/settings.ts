// What an admin sets up for self-service containers: the templates offered per node, the IPv4 pools
// Berth hands addresses out of, and per-user quota overrides. Each write is audited in its transaction.
import { Op, UniqueConstraintError, type Transaction } from 'sequelize';
import type { ContainerTemplate, IpPool, Models, Node, User, UserQuota } from '../../models/index.js';
import { changedFields } from '../audit/index.js';
import { ConflictError, ValidationError } from '../lib/errors.js';
import { isProxmoxError } from '../lib/proxmox/index.js';
import { inTransaction, type CommandContext } from '../services/context.js';
import { clientForNode } from '../services/nodes.js';
import { inSubnet, intToIp, ipToInt, subnetBounds } from './addresses.js';
import { QUOTA_COLUMNS, overrideOf, type QuotaInput, type Resources } from './quota.js';

/* ------------------------------------------------------------------------------------------------
 * Templates
 * ---------------------------------------------------------------------------------------------- */

export interface TemplateInput {
  nodeId: number;
  /** `<storage>:vztmpl/<file>`, checked by the route's schema. */
  volid: string;
  /** The label users choose by (the seed's osRelease), e.g. "Debian 12". */
  osRelease: string;
}

const TEMPLATE_FIELDS = ['nodeId', 'volid', 'osRelease'] as const;

const auditTemplate = (cmd: CommandContext, verb: string, row: ContainerTemplate, before: Record<string, unknown> | null, after: Record<string, unknown> | null, t: Transaction) =>
  cmd.auditor.record(cmd.actor, { action: `containerTemplate.${verb}`, objectType: 'containerTemplate', objectId: row.id, objectLabel: `${row.osRelease} (${row.volid})`, changes: changedFields(before, after, TEMPLATE_FIELDS) }, t);

/** The node a setting is for; a missing one is a field error (the form's select may be stale). */
async function nodeOf(models: Models, nodeId: number, t: Transaction): Promise<Node> {
  const node = await models.Node.findByPk(nodeId, { transaction: t });
  if (!node) throw new ValidationError('Please correct the highlighted fields.', { nodeId: 'Choose a registered node.' });
  return node;
}

const templateClash = (volid: string, nodeName: string) =>
  new ConflictError(`${volid} is already offered on ${nodeName}.`, { volid: `Already offered on ${nodeName}.` });

/** Offers a template on a node (409 when that node already offers the volume). */
export async function addTemplate(cmd: CommandContext, input: TemplateInput): Promise<ContainerTemplate> {
  let nodeName = `node ${input.nodeId}`;
  try {
    return await inTransaction(cmd, async (t) => {
      const node = await nodeOf(cmd.models, input.nodeId, t);
      nodeName = node.name;
      if (await cmd.models.ContainerTemplate.count({ where: { nodeId: node.id, volid: input.volid }, transaction: t })) throw templateClash(input.volid, node.name);
      const row = await cmd.models.ContainerTemplate.create({ nodeId: node.id, volid: input.volid, osRelease: input.osRelease }, { transaction: t });
      await auditTemplate(cmd, 'create', row, null, row.get(), t);
      return row;
    });
  } catch (err) {
    // Two admins adding the same volume at once: the unique index decides, with the same answer.
    if (err instanceof UniqueConstraintError) throw templateClash(input.volid, nodeName);
    throw err;
  }
}

/**
 * Offers several templates at once (the ones an admin ticked after a discovery). Those already
 * offered are skipped, so submitting the same list twice adds nothing twice.
 */
export async function addTemplates(cmd: CommandContext, inputs: TemplateInput[]): Promise<{ added: ContainerTemplate[]; skipped: TemplateInput[] }> {
  return inTransaction(cmd, async (t) => {
    const added: ContainerTemplate[] = [];
    const skipped: TemplateInput[] = [];
    for (const input of inputs) {
      const node = await nodeOf(cmd.models, input.nodeId, t);
      const offered = await cmd.models.ContainerTemplate.count({ where: { nodeId: node.id, volid: input.volid }, transaction: t });
      if (offered || added.some((a) => a.nodeId === node.id && a.volid === input.volid)) {
        skipped.push(input);
        continue;
      }
      const row = await cmd.models.ContainerTemplate.create({ nodeId: node.id, volid: input.volid, osRelease: input.osRelease }, { transaction: t });
      await auditTemplate(cmd, 'create', row, null, row.get(), t);
      added.push(row);
    }
    return { added, skipped };
  });
}

/** Stops offering a template. Containers made from it are not affected (they keep their own copy). */
export async function deleteTemplate(cmd: CommandContext, row: ContainerTemplate): Promise<void> {
  await inTransaction(cmd, async (t) => {
    const before = { ...row.get() };
    await row.destroy({ transaction: t });
    await auditTemplate(cmd, 'delete', row, before, null, t);
  });
}

const DISTRO_NAMES: Record<string, string> = {
  almalinux: 'AlmaLinux',
  alpine: 'Alpine',
  archlinux: 'Arch Linux',
  centos: 'CentOS',
  debian: 'Debian',
  devuan: 'Devuan',
  fedora: 'Fedora',
  gentoo: 'Gentoo',
  opensuse: 'openSUSE',
  oracle: 'Oracle Linux',
  oraclelinux: 'Oracle Linux',
  rockylinux: 'Rocky Linux',
  turnkey: 'TurnKey',
  ubuntu: 'Ubuntu',
};

/**
 * A label for a template file as `pveam` names them: `debian-12-standard_12.7-1_amd64.tar.zst` →
 * "Debian 12", `ubuntu-24.04-standard_…` → "Ubuntu 24.04", `centos-9-stream-default_…` → "CentOS 9
 * Stream", `turnkey-wordpress_…` → "TurnKey wordpress". Only a suggestion: the admin may change it.
 */
export function suggestTemplateLabel(file: string): string {
  const parts = file.split('_')[0].split('-').filter(Boolean);
  const head = (parts[0] ?? file).toLowerCase();
  const distro = DISTRO_NAMES[head] ?? head.charAt(0).toUpperCase() + head.slice(1);
  if (head === 'turnkey') return [distro, ...parts.slice(1)].join(' ').slice(0, 191);
  const version = parts[1] && /^\d+(\.\d+)*$/.test(parts[1]) ? parts[1] : null;
  if (!version) return distro.slice(0, 191);
  return [distro, version, ...(parts[2] === 'stream' ? ['Stream'] : [])].join(' ').slice(0, 191);
}

/** A template found on a node's storage that the node does not offer yet. */
export interface DiscoveredTemplate {
  nodeId: number;
  nodeName: string;
  volid: string;
  storage: string;
  size: number | null;
  suggestedLabel: string;
}

/** A node that could not be asked: unreachable, offline, refused, or without an API token. */
export interface DiscoveryProblem {
  nodeId: number;
  nodeName: string;
  message: string;
}

/**
 * How long discovery waits for one node: a storage listing answers in well under a second, and an
 * admin waits for the slowest node, so one that takes longer is reported rather than waited for.
 */
const DISCOVERY_TIMEOUT_MS = 5000;

/** Why a node could not list its templates, naming the node (the client's errors may not). */
function discoveryProblem(node: Node, err: unknown): DiscoveryProblem {
  const why = isProxmoxError(err) ? err.proxmoxMessage || err.message : (err as Error)?.message ?? String(err);
  return { nodeId: node.id, nodeName: node.name, message: `${node.name} could not be asked for its templates: ${why}` };
}

/**
 * Asks every node with an API token, in parallel, for the container templates on its storages, and
 * returns those the node does not offer yet. A node that cannot be asked is reported by name; the
 * others are still listed. Reads only: nothing is written.
 */
export async function discoverTemplates(cmd: Pick<CommandContext, 'models' | 'vault' | 'config'>): Promise<{ found: DiscoveredTemplate[]; problems: DiscoveryProblem[]; asked: number }> {
  const nodes = await cmd.models.Node.findAll({ order: [['name', 'ASC']], limit: 1000 });
  const offered = new Set((await cmd.models.ContainerTemplate.findAll({ attributes: ['nodeId', 'volid'] })).map((r) => `${r.nodeId} ${r.volid}`));
  const withToken = nodes.filter((n) => n.apiTokenId && n.apiTokenSecret);
  const problems: DiscoveryProblem[] = nodes
    .filter((n) => !withToken.includes(n))
    .map((n) => ({ nodeId: n.id, nodeName: n.name, message: `${n.name} has no API token, so it was not asked.` }));
  const perNode = await Promise.all(
    withToken.map(async (node): Promise<DiscoveredTemplate[]> => {
      let client;
      try {
        client = clientForNode(node, cmd.vault, { PROXMOX_TIMEOUT_MS: Math.min(cmd.config.PROXMOX_TIMEOUT_MS, DISCOVERY_TIMEOUT_MS) });
        const templates = await client.storage.templates(node.name);
        return templates
          .filter((tpl) => !offered.has(`${node.id} ${tpl.volid}`))
          .map((tpl) => ({ nodeId: node.id, nodeName: node.name, volid: tpl.volid, storage: tpl.storage, size: tpl.size ?? null, suggestedLabel: suggestTemplateLabel(tpl.file) }));
      } catch (err) {
        problems.push(discoveryProblem(node, err));
        return [];
      } finally {
        await client?.close();
      }
    }),
  );
  problems.sort((a, b) => a.nodeName.localeCompare(b.nodeName));
  return { found: perNode.flat(), problems, asked: withToken.length };
}

/* ------------------------------------------------------------------------------------------------
 * IP pools
 * ---------------------------------------------------------------------------------------------- */

export interface PoolInput {
  nodeId: number;
  bridge: string;
  /** `10.20.0.0/24`: checked as an IPv4 network (no host bits), prefix 8 to 30. */
  cidr: string;
  gateway: string;
  rangeStart: string;
  rangeEnd: string;
}

const POOL_FIELDS = ['nodeId', 'bridge', 'cidr', 'gateway', 'rangeStart', 'rangeEnd'] as const;
const POOL_SHAPE = 'Please correct the highlighted fields.';

/**
 * What is wrong with a pool as a whole (the schema has checked each field's format): field → message.
 * The range must lie inside the subnet, without its network and broadcast addresses, and start
 * before it ends; the gateway must lie in the subnet. A gateway inside the range is allowed: it is
 * never handed out (`poolNotes` says so).
 */
export function poolProblems(input: Pick<PoolInput, 'cidr' | 'gateway' | 'rangeStart' | 'rangeEnd'>): Record<string, string> {
  const out: Record<string, string> = {};
  const [base, bitsText] = input.cidr.split('/');
  const bits = Number(bitsText);
  if (!Number.isInteger(bits) || bits < 8 || bits > 30) {
    out.cidr = 'The prefix length is from /8 to /30 (a /31 or /32 leaves no address to hand out).';
    return out;
  }
  const { network, broadcast } = subnetBounds(input.cidr);
  if (ipToInt(base) !== network) {
    out.cidr = `${input.cidr} is not a network address: with /${bits} the network is ${intToIp(network)}/${bits}.`;
    return out;
  }
  const usable = (field: 'gateway' | 'rangeStart' | 'rangeEnd', label: string) => {
    const n = ipToInt(input[field]);
    if (!inSubnet(input[field], input.cidr)) out[field] = `${label} ${input[field]} is outside ${input.cidr}.`;
    else if (n === network) out[field] = `${input[field]} is the network address of ${input.cidr}, not a host address.`;
    else if (n === broadcast) out[field] = `${input[field]} is the broadcast address of ${input.cidr}, not a host address.`;
  };
  usable('gateway', 'The gateway');
  usable('rangeStart', 'The range start');
  usable('rangeEnd', 'The range end');
  if (!out.rangeStart && !out.rangeEnd && ipToInt(input.rangeStart) > ipToInt(input.rangeEnd)) {
    out.rangeEnd = `The range ends (${input.rangeEnd}) before it starts (${input.rangeStart}).`;
  }
  return out;
}

/** Remarks on a valid pool an admin should read: a gateway inside the range is skipped. */
export function poolNotes(pool: Pick<PoolInput, 'gateway' | 'rangeStart' | 'rangeEnd'>): string[] {
  const g = ipToInt(pool.gateway);
  return g >= ipToInt(pool.rangeStart) && g <= ipToInt(pool.rangeEnd) ? [`The gateway ${pool.gateway} lies inside the range; it is never handed out to a container.`] : [];
}

const poolLabel = (pool: Pick<IpPool, 'bridge' | 'cidr'>, nodeName: string) => `${nodeName} ${pool.bridge} ${pool.cidr}`;

const auditPool = (cmd: CommandContext, verb: string, pool: IpPool, nodeName: string, before: Record<string, unknown> | null, after: Record<string, unknown> | null, t: Transaction) =>
  cmd.auditor.record(cmd.actor, { action: `ipPool.${verb}`, objectType: 'ipPool', objectId: pool.id, objectLabel: poolLabel(pool, nodeName), changes: changedFields(before, after, POOL_FIELDS) }, t);

const poolClash = (bridge: string, nodeName: string) =>
  new ConflictError(`${nodeName} already has an IP pool on ${bridge}; edit that one instead.`, { bridge: `${nodeName} already has a pool on ${bridge}.` });

function assertPoolValid(input: PoolInput): void {
  const problems = poolProblems(input);
  if (Object.keys(problems).length) throw new ValidationError(POOL_SHAPE, problems);
}

/** Runs a pool write; the unique (node, bridge) index catching a concurrent twin gives the same 409. */
async function writePool<T>(cmd: CommandContext, input: Pick<PoolInput, 'bridge'>, work: (t: Transaction, named: (n: string) => void) => Promise<T>): Promise<T> {
  let nodeName = 'this node';
  try {
    return await inTransaction(cmd, (t) => work(t, (n) => (nodeName = n)));
  } catch (err) {
    if (err instanceof UniqueConstraintError) throw poolClash(input.bridge, nodeName);
    throw err;
  }
}

/** Creates a pool for a node's bridge (one per node and bridge). */
export async function createPool(cmd: CommandContext, input: PoolInput): Promise<IpPool> {
  assertPoolValid(input);
  return writePool(cmd, input, async (t, named) => {
    const node = await nodeOf(cmd.models, input.nodeId, t);
    named(node.name);
    if (await cmd.models.IpPool.count({ where: { nodeId: node.id, bridge: input.bridge }, transaction: t })) throw poolClash(input.bridge, node.name);
    const pool = await cmd.models.IpPool.create({ ...pick(input) }, { transaction: t });
    await auditPool(cmd, 'create', pool, node.name, null, pool.get(), t);
    return pool;
  });
}

/**
 * Changes a pool. Addresses already held by containers stay theirs even when the new range leaves
 * them out: the range only decides what is handed out next.
 */
export async function updatePool(cmd: CommandContext, pool: IpPool, input: PoolInput): Promise<IpPool> {
  assertPoolValid(input);
  return writePool(cmd, input, async (t, named) => {
    const node = await nodeOf(cmd.models, input.nodeId, t);
    named(node.name);
    const twin = await cmd.models.IpPool.findOne({ where: { nodeId: node.id, bridge: input.bridge, id: { [Op.ne]: pool.id } }, transaction: t });
    if (twin) throw poolClash(input.bridge, node.name);
    const before = { ...pool.get() };
    await pool.update(pick(input), { transaction: t });
    if (Object.keys(changedFields(before, pool.get(), POOL_FIELDS)).length) await auditPool(cmd, 'update', pool, node.name, before, pool.get(), t);
    return pool;
  });
}

/** Removes a pool: new containers on that node get their address by DHCP again. */
export async function deletePool(cmd: CommandContext, pool: IpPool): Promise<void> {
  await inTransaction(cmd, async (t) => {
    const node = await cmd.models.Node.findByPk(pool.nodeId, { attributes: ['name'], transaction: t });
    const before = { ...pool.get() };
    await pool.destroy({ transaction: t });
    await auditPool(cmd, 'delete', pool, node?.name ?? `node ${pool.nodeId}`, before, null, t);
  });
}

/** Only the pool's own columns from an input (never mass assignment). */
function pick(input: PoolInput): PoolInput {
  return { nodeId: input.nodeId, bridge: input.bridge, cidr: input.cidr, gateway: input.gateway, rangeStart: input.rangeStart, rangeEnd: input.rangeEnd };
}


/* ------------------------------------------------------------------------------------------------
 * Quotas
 * ---------------------------------------------------------------------------------------------- */

const QUOTA_FIELDS = Object.values(QUOTA_COLUMNS);

/**
 * Sets a user's quota override. A null value means "the default"; when every value is null the
 * override row goes away, so the user follows later changes of the defaults.
 */
export async function setUserQuota(cmd: CommandContext, user: User, input: QuotaInput): Promise<UserQuota | null> {
  const columns = Object.fromEntries((Object.keys(QUOTA_COLUMNS) as (keyof Resources)[]).map((k) => [QUOTA_COLUMNS[k], input[k]])) as Pick<UserQuota, (typeof QUOTA_FIELDS)[number]>;
  const clear = Object.values(columns).every((v) => v === null);
  try {
    return await inTransaction(cmd, async (t) => {
      const row = await cmd.models.UserQuota.findOne({ where: { userId: user.id }, transaction: t });
      const before = row ? { ...row.get() } : null;
      let after: UserQuota | null = null;
      if (clear) await row?.destroy({ transaction: t });
      else if (row) after = await row.update(columns, { transaction: t });
      else after = await cmd.models.UserQuota.create({ userId: user.id, ...columns }, { transaction: t });
      const changes = changedFields(before, after?.get() ?? null, QUOTA_FIELDS);
      if (Object.keys(changes).length) {
        await cmd.auditor.record(cmd.actor, { action: 'user.quota', objectType: 'user', objectId: user.id, objectLabel: user.username, changes }, t);
      }
      return after;
    });
  } catch (err) {
    // Two admins giving the same user a first override at once: the second finds the row next time.
    if (err instanceof UniqueConstraintError) throw new ConflictError(`${user.username}'s quota was changed at the same moment; please try again.`);
    throw err;
  }
}

/** The user a quota form names by username (422 on the field when there is none). */
export async function userNamed(models: Models, username: string): Promise<User> {
  const user = await models.User.findOne({ where: { username } });
  if (!user) throw new ValidationError('Please correct the highlighted fields.', { username: `There is no user called ${username}.` });
  return user;
}

/** Users with an override, with it, ordered by username. */
export async function quotaOverrides(models: Models): Promise<Array<{ user: User; override: QuotaInput }>> {
  const rows = await models.UserQuota.findAll({ limit: 10_000 });
  const users = rows.length ? await models.User.findAll({ where: { id: rows.map((r) => r.userId) } }) : [];
  const byId = new Map(users.map((u) => [u.id, u]));
  return rows
    .filter((r) => byId.has(r.userId))
    .map((r) => ({ user: byId.get(r.userId)!, override: overrideOf(r) }))
    .sort((a, b) => a.user.username.localeCompare(b.user.username));
}
