// Credentials for one node. Tickets live 2 hours and the only refresh is a new login with the
// ticket as password; the proxmox-api package does not renew on PVE >= 9.1.5, so the session
// renews on its own clock before expiry and falls back to the password when the ticket is gone.
import { ProxmoxAuthError, ProxmoxError, ProxmoxTfaRequiredError } from './errors.js';
import { API_PREFIX, type AuthProvider, type Transport } from './transport.js';
import type { LoginResult, ProxmoxLogger, TicketAuth, TokenAuth } from './types.js';

/** Proxmox accepts a ticket for 7200 s after it was issued. */
export const TICKET_LIFETIME_MS = 2 * 60 * 60 * 1000;
/** Below this remaining lifetime a ticket is treated as expired (clock skew, slow calls). */
const EXPIRY_MARGIN_MS = 5 * 60 * 1000;

const TOKEN_ID_RE = /^[^\s@!]+@[^\s@!]+![A-Za-z][A-Za-z0-9.\-_]+$/;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface Ticket {
  ticket: string;
  csrf: string;
  username: string;
  issuedAt: number;
  login: LoginResult;
}

/** API-token auth: a static header, no CSRF token, nothing to renew. */
export class TokenSession implements AuthProvider {
  private readonly header: string;
  readonly tokenId: string;

  constructor(auth: TokenAuth) {
    if (!TOKEN_ID_RE.test(auth.tokenId)) throw new TypeError('Proxmox token id must look like USER@REALM!TOKENID');
    if (!UUID_RE.test(auth.secret)) throw new TypeError('Proxmox token secret must be a UUID');
    this.tokenId = auth.tokenId;
    this.header = `PVEAPIToken=${auth.tokenId}=${auth.secret.toLowerCase()}`;
  }

  async headers(): Promise<Record<string, string>> {
    return { Authorization: this.header };
  }

  async recover(): Promise<boolean> {
    return false; // a rejected token stays rejected
  }
}

/** Ticket auth with proactive renewal; concurrent callers share one login. */
export class TicketSession implements AuthProvider {
  private current?: Ticket;
  private pending?: Promise<Ticket>;

  constructor(
    private readonly transport: Transport,
    private readonly auth: TicketAuth,
    private readonly clock: () => number,
    private readonly renewAfterMs: number,
    private readonly logger?: ProxmoxLogger,
  ) {
    if (!auth.username.includes('@')) throw new TypeError('Proxmox username must include the realm (user@realm)');
    if (!auth.password) throw new TypeError('Proxmox password is empty');
  }

  /** Log in with the password now, replacing any ticket. */
  async login(): Promise<LoginResult> {
    return (await this.shared(() => this.obtain(this.auth.password, 'password'))).login;
  }

  async headers(method: string): Promise<Record<string, string>> {
    const t = await this.fresh();
    const h: Record<string, string> = { Cookie: `PVEAuthCookie=${encodeURIComponent(t.ticket)}` };
    if (method !== 'GET') h.CSRFPreventionToken = t.csrf;
    return h;
  }

  async recover(): Promise<boolean> {
    // The node refused a ticket we believed valid (restart with new keys, clock skew): log in again.
    this.logger?.warn({ username: this.auth.username }, 'proxmox ticket rejected, logging in again');
    this.current = undefined;
    await this.login();
    return true;
  }

  private async fresh(): Promise<Ticket> {
    const t = this.current;
    if (!t) return this.shared(() => this.obtain(this.auth.password, 'password'));
    const age = this.clock() - t.issuedAt;
    if (age >= TICKET_LIFETIME_MS - EXPIRY_MARGIN_MS) {
      return this.shared(() => this.obtain(this.auth.password, 'password'));
    }
    if (age >= this.renewAfterMs) {
      return this.shared(async () => {
        try {
          return await this.obtain(t.ticket, 'ticket');
        } catch (e) {
          if (!(e instanceof ProxmoxAuthError)) throw e;
          return this.obtain(this.auth.password, 'password');
        }
      });
    }
    return t;
  }

  private shared(fn: () => Promise<Ticket>): Promise<Ticket> {
    if (!this.pending) {
      this.pending = fn().finally(() => { this.pending = undefined; });
    }
    return this.pending;
  }

  /** POST /access/ticket with the password or, to renew, the current ticket. */
  private async obtain(secret: string, via: 'password' | 'ticket'): Promise<Ticket> {
    const path = `${API_PREFIX}/access/ticket`;
    const res = await this.transport.send('POST', path, { username: this.auth.username, password: secret }, {});
    if (res.status === 401) {
      throw new ProxmoxAuthError(`Proxmox login failed for ${this.auth.username}: authentication failure`, {
        status: 401, reason: res.reason, method: 'POST', path: '/access/ticket',
      });
    }
    const data = res.body?.data as Record<string, unknown> | null | undefined;
    // A user with a second factor gets a ticket and CSRF token too, but a half ticket
    // (`PVE:!tfa!<challenge>:...`) that the node refuses for every call: never take it as a login.
    if (res.status === 200 && data && (data.NeedTFA || (typeof data.ticket === 'string' && data.ticket.startsWith('PVE:!tfa!')))) {
      throw new ProxmoxTfaRequiredError(`Proxmox login for ${this.auth.username} needs a second factor (two-factor login is required)`, {
        status: 200, method: 'POST', path: '/access/ticket',
      });
    }
    if (res.status !== 200 || !data || typeof data.ticket !== 'string' || typeof data.CSRFPreventionToken !== 'string') {
      const msg = res.body?.message?.trim() || res.reason || `HTTP ${res.status}`;
      throw new ProxmoxError(`Proxmox login failed for ${this.auth.username}: ${msg}`, {
        kind: 'http', status: res.status, reason: res.reason, method: 'POST', path: '/access/ticket',
      });
    }
    const username = typeof data.username === 'string' ? data.username : this.auth.username;
    this.logger?.debug({ username, via }, 'proxmox ticket obtained');
    const login: LoginResult = {
      username,
      ...(typeof data.clustername === 'string' ? { clustername: data.clustername } : {}),
      ...(data.cap && typeof data.cap === 'object' ? { cap: data.cap as LoginResult['cap'] } : {}),
    };
    this.current = { ticket: data.ticket, csrf: data.CSRFPreventionToken, username, issuedAt: this.clock(), login };
    return this.current;
  }
}
