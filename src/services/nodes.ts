import { UniqueConstraintError, type Transaction } from 'sequelize';
import type { Config } from '../../config/index.js';
import type { Models, Node } from '../../models/index.js';
import { changedFields } from '../audit/index.js';
import { ConflictError, ValidationError } from '../lib/errors.js';
import { createProxmoxClient, isProxmoxError, type ProxmoxClient } from '../lib/proxmox/index.js';
import type { Vault } from '../lib/vault.js';
import { inTransaction, type CommandContext } from './context.js';

/**
 * A node's fields as the commands take them (src/routes/nodes.schema.ts parses them): absent keeps
 * the stored value, null clears an optional one.
 */
export interface NodeInput {
  name?: string;
  apiUrl?: string;
  tlsVerify?: boolean;
  tlsFingerprint?: string | null;
  apiTokenId?: string | null;
  /** The plaintext secret, sealed before it is stored. */
  apiTokenSecret?: string;
}

/** The audited columns; the token secret is masked (the trail says it changed, never what it is). */
const AUDITED = ['name', 'apiUrl', 'tlsVerify', 'tlsFingerprint', 'apiTokenId', 'apiTokenSecret'] as const;
const SECRETS = ['apiTokenSecret'];
/** The columns that decide where the token is sent and whom TLS lets answer: changing one needs the secret again. */
const WHERE_THE_TOKEN_GOES = ['apiUrl', 'tlsVerify', 'tlsFingerprint'] as const;
/** The vault purpose bound to node token secrets. */
export const NODE_TOKEN_PURPOSE = 'node-token';

const audit = (cmd: CommandContext, verb: string, node: Node, before: Node['_attributes'] | null, after: Node['_attributes'] | null, t: Transaction) =>
  cmd.auditor.record(cmd.actor, { action: `node.${verb}`, objectType: 'node', objectId: node.id, objectLabel: node.name, changes: changedFields(before, after, AUDITED, SECRETS) }, t);

async function assertNameFree(models: Models, name: string | undefined, excludeId: number | null, t: Transaction): Promise<void> {
  if (name === undefined) return;
  const other = await models.Node.findOne({ where: { name }, transaction: t });
  if (other && other.id !== excludeId) throw new ConflictError('That node is already registered.', { name: `A node called ${other.name} is already registered.` });
}

/** Runs `work` in a transaction; a unique clash that slipped past the check becomes the same 409. */
async function write<T>(cmd: CommandContext, work: (t: Transaction) => Promise<T>): Promise<T> {
  try {
    return await inTransaction(cmd, work);
  } catch (err) {
    if (err instanceof UniqueConstraintError) throw new ConflictError('That node is already registered.', { name: 'A node with this name is already registered.' });
    throw err;
  }
}

/** The columns to write for `input`: the secret sealed, a cleared token id taking its secret along. */
function columns(vault: Vault, input: NodeInput, current: Node | null): Partial<Node['_attributes']> {
  const out: Partial<Node['_attributes']> = {};
  for (const key of ['name', 'apiUrl', 'tlsVerify', 'tlsFingerprint', 'apiTokenId'] as const) {
    if (input[key] !== undefined) (out as Record<string, unknown>)[key] = input[key];
  }
  if (input.apiTokenSecret !== undefined) out.apiTokenSecret = vault.seal(input.apiTokenSecret, NODE_TOKEN_PURPOSE);
  const tokenId = out.apiTokenId !== undefined ? out.apiTokenId : current?.apiTokenId ?? null;
  const secret = out.apiTokenSecret !== undefined ? out.apiTokenSecret : current?.apiTokenSecret ?? null;
  if (tokenId === null && secret !== null) {
    // Without its id the secret is useless; clearing the id forgets the secret too.
    if (out.apiTokenId === null) out.apiTokenSecret = null;
    else throw new ValidationError('Please correct the highlighted fields.', { apiTokenId: 'Enter the token id the secret belongs to.' });
  }
  if (tokenId !== null && secret === null) throw new ValidationError('Please correct the highlighted fields.', { apiTokenSecret: 'Enter the token secret.' });
  if (current?.apiTokenSecret && out.apiTokenSecret === undefined && WHERE_THE_TOKEN_GOES.some((k) => out[k] !== undefined && out[k] !== current[k])) {
    // The stored token was entered for one host and TLS policy; kept across a change, an admin
    // session could send it anywhere with "Test connection". Whoever moves it must know it.
    throw new ValidationError('The API URL or TLS settings changed: enter the token secret again.', { apiTokenSecret: 'Enter the token secret again: the API URL or TLS settings changed.' });
  }
  return out;
}

/** Registers a node; the token secret is sealed, and the event audited, in one transaction. */
export async function createNode(cmd: CommandContext, input: NodeInput): Promise<Node> {
  const values = columns(cmd.vault, input, null);
  return write(cmd, async (t) => {
    await assertNameFree(cmd.models, values.name, null, t);
    const node = await cmd.models.Node.create(values as Node['_creationAttributes'], { transaction: t });
    await audit(cmd, 'create', node, null, node.get(), t);
    return node;
  });
}

/**
 * Applies `input` (absent or blank secret: kept, except across a change of API URL or TLS settings,
 * which needs the secret again) and audits the changed fields.
 */
export async function updateNode(cmd: CommandContext, node: Node, input: NodeInput): Promise<Node> {
  const values = columns(cmd.vault, input, node);
  return write(cmd, async (t) => {
    await assertNameFree(cmd.models, values.name, node.id, t);
    const before = { ...node.get() };
    await node.update(values, { transaction: t });
    const changes = changedFields(before, node.get(), AUDITED, SECRETS);
    if (Object.keys(changes).length) await audit(cmd, 'update', node, before, node.get(), t);
    return node;
  });
}

/** How many containers and VMs name the node. */
export async function nodeReferences(models: Models, nodeId: number, transaction?: Transaction): Promise<{ containers: number; vms: number }> {
  const [containers, vms] = await Promise.all([
    models.Container.count({ where: { nodeId }, transaction }),
    models.VirtualMachine.count({ where: { nodeId }, transaction }),
  ]);
  return { containers, vms };
}

/** Deletes a node that no container or VM references (409 naming the count otherwise). */
export async function deleteNode(cmd: CommandContext, node: Node): Promise<void> {
  await write(cmd, async (t) => {
    const refs = await nodeReferences(cmd.models, node.id, t);
    if (refs.containers || refs.vms) {
      const parts = [refs.containers && `${refs.containers} container${refs.containers === 1 ? '' : 's'}`, refs.vms && `${refs.vms} VM${refs.vms === 1 ? '' : 's'}`].filter(Boolean);
      throw new ConflictError(`${node.name} is still used by ${parts.join(' and ')}; move or delete them first.`);
    }
    const before = { ...node.get() };
    await node.destroy({ transaction: t });
    await audit(cmd, 'delete', node, before, null, t);
  });
}

/** Thrown when a node cannot be called at all (no token, a secret the vault cannot open). */
export class NodeNotUsableError extends Error {
  override name = 'NodeNotUsableError';
}

/**
 * The timeouts a node's client takes: PROXMOX_TIMEOUT_MS for a call, PROXMOX_CONNECT_TIMEOUT_MS
 * (when given; otherwise the call's) for opening the connection.
 */
export type NodeClientConfig = Pick<Config, 'PROXMOX_TIMEOUT_MS'> & Partial<Pick<Config, 'PROXMOX_CONNECT_TIMEOUT_MS'>>;

/**
 * A Proxmox client for a Node row: its API token (secret opened from the vault), its TLS policy
 * (verify, or a pinned fingerprint) and the timeouts. The caller closes it.
 */
export function clientForNode(node: Node, vault: Vault, config: NodeClientConfig): ProxmoxClient {
  if (!node.apiTokenId || !node.apiTokenSecret) throw new NodeNotUsableError(`${node.name} has no API token configured.`);
  let secret: string;
  try {
    secret = vault.open(node.apiTokenSecret, NODE_TOKEN_PURPOSE);
  } catch (err) {
    throw new NodeNotUsableError(`The API token secret of ${node.name} cannot be decrypted: ${(err as Error).message}.`);
  }
  try {
    return createProxmoxClient({
      baseUrl: node.apiUrl,
      auth: { type: 'token', tokenId: node.apiTokenId, secret },
      tls: node.tlsFingerprint ? { fingerprint: node.tlsFingerprint } : { verify: node.tlsVerify },
      timeoutMs: config.PROXMOX_TIMEOUT_MS,
      connectTimeoutMs: config.PROXMOX_CONNECT_TIMEOUT_MS,
    });
  } catch (err) {
    // createProxmoxClient refuses malformed options with a TypeError that names the field.
    throw new NodeNotUsableError(`${node.name} is misconfigured: ${(err as Error).message}.`);
  }
}

export interface ConnectionTest {
  ok: boolean;
  /** "Proxmox VE 9.1.3 (release 9.1, repoid 2d9ae8ef)". */
  version?: string;
  /**
   * The exact failure, prefixed by its kind (TLS, authentication, timeout, unreachable, …) and
   * saying what was tried: the URL, the token and the time allowed.
   */
  error?: string;
}

const KIND_WORDS: Record<string, string> = { auth: 'Authentication failed', permission: 'Permission denied', tls: 'TLS', timeout: 'Timeout', unreachable: 'Unreachable', 'node-offline': 'Node offline' };

/**
 * A node's failure as people read it: the client's words, prefixed by the kind, with the URL and
 * token that were tried when the client's words do not name them (a 401 or 403 says neither).
 */
export function describeNodeError(node: Pick<Node, 'apiUrl' | 'apiTokenId'>, err: unknown, opts: { prefix?: boolean } = {}): string {
  const message = (err as Error).message;
  if (!isProxmoxError(err)) return message;
  const what = opts.prefix === false ? undefined : KIND_WORDS[err.kind as string];
  const tried = err.kind === 'auth' || err.kind === 'permission'
    ? ` (token ${node.apiTokenId ?? '—'} at ${node.apiUrl})`
    : message.includes(node.apiUrl) ? '' : ` (at ${node.apiUrl})`;
  return `${what ? `${what}: ` : ''}${message}${tried}`;
}

/**
 * Calls GET /version on the node with its own token and TLS policy, within PROXMOX_TEST_TIMEOUT_MS
 * (a person waits for it; the connection gets at most PROXMOX_CONNECT_TIMEOUT_MS of it). Never
 * throws for the node's failures.
 */
export async function testNodeConnection(node: Node, vault: Vault, config: Pick<Config, 'PROXMOX_TEST_TIMEOUT_MS' | 'PROXMOX_CONNECT_TIMEOUT_MS'>): Promise<ConnectionTest> {
  let client: ProxmoxClient;
  try {
    client = clientForNode(node, vault, { PROXMOX_TIMEOUT_MS: config.PROXMOX_TEST_TIMEOUT_MS, PROXMOX_CONNECT_TIMEOUT_MS: config.PROXMOX_CONNECT_TIMEOUT_MS });
  } catch (err) {
    if (err instanceof NodeNotUsableError) return { ok: false, error: err.message };
    throw err;
  }
  try {
    const v = await client.cluster.version();
    return { ok: true, version: `Proxmox VE ${v.version} (release ${v.release}, repoid ${v.repoid})` };
  } catch (err) {
    if (!isProxmoxError(err)) throw err;
    return { ok: false, error: describeNodeError(node, err) };
  } finally {
    await client.close();
  }
}
