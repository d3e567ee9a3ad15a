import fs from 'node:fs';
import type { Config } from '../../config/index.js';
import { authenticateUser, isProxmoxError, listRealms, ProxmoxAuthError, ProxmoxTfaRequiredError, type ProxmoxClientOptions } from '../lib/proxmox/index.js';
import type { Logger } from '../lib/logger.js';
import { PROXMOX_REALM } from '../lib/validators.js';

/** Used for the login form when the node's realm list cannot be read. */
const FALLBACK_REALMS = [{ realm: 'pam', comment: 'Linux PAM standard authentication' }, { realm: 'pve', comment: 'Proxmox VE authentication server' }];
const REALMS_TTL_MS = 5 * 60_000;

export interface RealmChoice {
  realm: string;
  comment: string;
  default: boolean;
}

export type ProxmoxLoginResult =
  | { ok: true; userid: string; realm: string; groups: string[]; isAdmin: boolean }
  | { ok: false; reason: 'invalid' | 'unavailable' | 'tfa'; detail?: string };

/**
 * Berth's only door to Proxmox for accounts: the realm list for the login form and the password
 * check (`POST /access/ticket`) with the user's groups. The ticket is not kept: Berth acts on
 * Proxmox with its own credentials, so no user ticket (or password) is ever stored.
 */
export class ProxmoxLogin {
  private cache?: { at: number; realms: RealmChoice[] | null };

  constructor(
    private readonly config: Config,
    private readonly logger: Logger,
  ) {}

  /** True when PROXMOX_URL is set: Proxmox realms are offered on the login form. */
  get configured(): boolean {
    return Boolean(this.config.PROXMOX_URL);
  }

  private nodeOptions(): Omit<ProxmoxClientOptions, 'auth'> {
    const c = this.config;
    return {
      baseUrl: c.PROXMOX_URL!,
      timeoutMs: c.PROXMOX_TIMEOUT_MS,
      connectTimeoutMs: c.PROXMOX_CONNECT_TIMEOUT_MS,
      tls: {
        verify: c.PROXMOX_TLS_VERIFY,
        ...(c.PROXMOX_CA_FILE ? { ca: fs.readFileSync(c.PROXMOX_CA_FILE) } : {}),
        ...(c.PROXMOX_FINGERPRINT ? { fingerprint: c.PROXMOX_FINGERPRINT } : {}),
      },
    };
  }

  /**
   * The node's realms (`GET /access/domains`, which needs no login), cached for 5 minutes; null
   * when the node could not be read (the form then offers pam and pve).
   */
  async realms(): Promise<RealmChoice[] | null> {
    if (!this.configured) return [];
    if (this.cache && Date.now() - this.cache.at < REALMS_TTL_MS) return this.cache.realms;
    let realms: RealmChoice[] | null = null;
    try {
      // The client's realm read needs no login and uses the same TLS trust (CA, fingerprint pin) as logins.
      const list = await listRealms({ ...this.nodeOptions(), timeoutMs: Math.min(this.config.PROXMOX_TIMEOUT_MS, 5000) });
      realms = list
        .filter((r) => typeof r.realm === 'string' && PROXMOX_REALM.test(r.realm))
        .map((r) => ({ realm: r.realm, comment: typeof r.comment === 'string' ? r.comment : r.realm, default: Number(r.default) === 1 }));
    } catch (err) {
      this.logger.warn({ reason: (err as Error).message }, 'could not read the Proxmox realm list');
    }
    this.cache = { at: Date.now(), realms };
    return realms;
  }

  /** Realms to show on the form: the node's, or pam/pve when it cannot be read. */
  async realmChoices(): Promise<RealmChoice[]> {
    const realms = await this.realms();
    return realms ?? FALLBACK_REALMS.map((r) => ({ ...r, default: false }));
  }

  /** Checks `user@realm`'s password on the node and reads the user's groups. */
  async authenticate(user: string, realm: string, password: string): Promise<ProxmoxLoginResult> {
    if (!this.configured) return { ok: false, reason: 'invalid' };
    try {
      const res = await authenticateUser(this.nodeOptions(), { username: `${user}@${realm}`, password });
      const [, resultRealm = realm] = res.username.split('@');
      return {
        ok: true,
        userid: res.username,
        realm: resultRealm,
        groups: res.groups,
        isAdmin: res.groups.includes(this.config.PROXMOX_ADMIN_GROUP),
      };
    } catch (err) {
      // The password was right, but the user has a second factor, which Berth cannot ask for yet.
      if (err instanceof ProxmoxTfaRequiredError) return { ok: false, reason: 'tfa' };
      if (err instanceof ProxmoxAuthError) return { ok: false, reason: 'invalid' };
      if (isProxmoxError(err) && (err as { status?: number }).status === 401) return { ok: false, reason: 'invalid' };
      this.logger.error({ reason: (err as Error).message }, 'Proxmox login failed: node unavailable');
      return { ok: false, reason: 'unavailable', detail: (err as Error).message };
    }
  }
}
