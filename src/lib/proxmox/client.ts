// One ProxmoxClient per node endpoint: it owns that node's TLS policy (an undici Agent), its
// timeout and its credentials. The proxmox-api package supplies the typed path builder; requests
// go through our Transport (see transport.ts for why the package's engine is not used).
import proxmoxApi, { type Proxmox } from 'proxmox-api';
import { AccessApi } from './access.js';
import { TicketSession, TokenSession } from './auth.js';
import { ClusterApi } from './cluster.js';
import { ContainerApi } from './containers.js';
import { StorageApi } from './storage.js';
import { TaskApi } from './tasks.js';
import { createDispatcher } from './tls.js';
import { API_PREFIX, Transport } from './transport.js';
import type { LoginResult, ProxmoxClientOptions, Realm } from './types.js';
import { VmApi } from './vms.js';
import type { Agent } from 'undici';

export const DEFAULT_TIMEOUT_MS = 15_000;
export const DEFAULT_RENEW_AFTER_MS = 60 * 60 * 1000;

/** The connect timeout: `connectTimeoutMs` when given, never longer than the request's own timeout. */
function connectTimeout(opts: Pick<ProxmoxClientOptions, 'timeoutMs' | 'connectTimeoutMs'>): number {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return Math.min(opts.connectTimeoutMs ?? timeoutMs, timeoutMs);
}

/** A client bound to one Proxmox node (or cluster entry point). Create with {@link createProxmoxClient}. */
export class ProxmoxClient {
  /** The package's typed API for calls without a helper; errors are still typed ProxmoxErrors. */
  readonly api: Proxmox.Api;
  /** Origin of the node, e.g. `https://pve1.example.org:8006`. */
  readonly baseUrl: string;
  readonly cluster: ClusterApi;
  readonly containers: ContainerApi;
  readonly vms: VmApi;
  readonly tasks: TaskApi;
  readonly storage: StorageApi;
  readonly access: AccessApi;
  private readonly transport: Transport;
  private readonly dispatcher: Agent;
  private readonly session: TicketSession | TokenSession;

  constructor(opts: ProxmoxClientOptions) {
    const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const connectTimeoutMs = connectTimeout(opts);
    this.dispatcher = createDispatcher(opts.tls, connectTimeoutMs);
    this.transport = new Transport({ baseUrl: opts.baseUrl, dispatcher: this.dispatcher, timeoutMs, connectTimeoutMs, logger: opts.logger });
    this.baseUrl = this.transport.origin;
    this.transport.signal = opts.signal;
    this.session = opts.auth.type === 'token'
      ? new TokenSession(opts.auth)
      : new TicketSession(this.transport, opts.auth, opts.clock ?? Date.now, opts.renewAfterMs ?? DEFAULT_RENEW_AFTER_MS, opts.logger);
    this.transport.auth = this.session;
    this.api = proxmoxApi(this.transport);
    this.cluster = new ClusterApi(this.api);
    this.containers = new ContainerApi(this.api);
    this.vms = new VmApi(this.api);
    this.tasks = new TaskApi(this.api, this.transport);
    this.storage = new StorageApi(this.api);
    this.access = new AccessApi(this.api);
  }

  /**
   * Check the credentials now. Ticket auth logs in with the password (ProxmoxAuthError on a bad
   * password or realm); token auth makes one cheap authenticated call and reports the token's user.
   */
  async login(): Promise<LoginResult> {
    if (this.session instanceof TicketSession) return this.session.login();
    await this.transport.request('GET', `${API_PREFIX}/version`);
    return { username: this.session.tokenId.split('!')[0] };
  }

  /**
   * Cancel every call when `signal` aborts (e.g. a cancelled job), for a client made elsewhere
   * (options.signal does the same at creation). A call in flight stops at once.
   */
  abortOn(signal: AbortSignal | undefined): this {
    this.transport.signal = signal;
    return this;
  }

  /** Close the node's connections. The client must not be used afterwards. */
  async close(): Promise<void> {
    await this.dispatcher.close();
  }
}

/**
 * Create a client for one node. Nothing is sent until the first call (or {@link ProxmoxClient.login}).
 * Throws TypeError for malformed options (bad URL, token id, secret or fingerprint).
 */
export function createProxmoxClient(opts: ProxmoxClientOptions): ProxmoxClient {
  return new ProxmoxClient(opts);
}

/**
 * Check a user's Proxmox credentials and read their groups, for Berth's login form.
 * `username` may carry the realm (`alice@pve`) or take it from `realm`. Throws ProxmoxAuthError
 * for a wrong password, user or realm (Proxmox does not say which).
 */
export async function authenticateUser(
  node: Omit<ProxmoxClientOptions, 'auth'>,
  creds: { username: string; password: string; realm?: string },
): Promise<{ username: string; groups: string[] }> {
  const username = creds.username.includes('@') || !creds.realm ? creds.username : `${creds.username}@${creds.realm}`;
  const client = createProxmoxClient({ ...node, auth: { type: 'ticket', username, password: creds.password } });
  try {
    const res = await client.login();
    const groups = (await client.access.userGroups(res.username)) ?? [];
    return { username: res.username, groups };
  } finally {
    await client.close();
  }
}

/**
 * The node's realms for a login form, without credentials (`GET /access/domains` needs none),
 * under the same TLS policy and timeout as a client.
 */
export async function listRealms(node: Omit<ProxmoxClientOptions, 'auth'>): Promise<Realm[]> {
  const timeoutMs = node.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const connectTimeoutMs = connectTimeout(node);
  const dispatcher = createDispatcher(node.tls, connectTimeoutMs);
  const transport = new Transport({ baseUrl: node.baseUrl, dispatcher, timeoutMs, connectTimeoutMs, logger: node.logger });
  try {
    return await new AccessApi(proxmoxApi(transport)).realms();
  } finally {
    await dispatcher.close();
  }
}
