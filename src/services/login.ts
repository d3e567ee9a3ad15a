import type { Config } from '../../config/index.js';
import type { Models, User } from '../../models/index.js';
import type { Logger } from '../lib/logger.js';
import { LoginThrottle } from './login-throttle.js';
import { LOCAL_LOGIN_NAME, PROXMOX_REALM, PROXMOX_USER_NAME, splitAccountName } from '../lib/validators.js';
import { accountUsable, isLocalAccount, LOCAL_REALM } from '../lib/current-user.js';
import { ACCOUNT_DISABLED, authenticateLocal, LOGIN_FAILED } from './authenticateLocal.js';
import { ProxmoxLogin } from './proxmoxLogin.js';

export type LoginOutcome =
  | { ok: true; user: User }
  | { ok: false; status: number; message: string; fields?: Record<string, string> };

export interface LoginAttempt {
  /** `name`, or `name@realm` (the realm in the name wins over `realm`). */
  username: string;
  realm?: string;
  password: string;
  ip: string;
}

/** "Tried: Berth (local) accounts." / "Tried: Proxmox realm pve." — the end of a failed login's message. */
export function realmTried(realm: string): string {
  return isLocalAccount({ realm }) ? 'Tried: Berth (local) accounts.' : `Tried: Proxmox realm ${realm}.`;
}

/** Splits the form's username and realm into the account's name and realm. */
export function parseAccount(username: string, realm?: string): { name: string; realm: string } {
  return splitAccountName(username, realm || LOCAL_REALM);
}

/**
 * Logs a user in with a local password or Proxmox credentials, behind the per-account and per-IP
 * failure throttle. A Proxmox login creates or updates the `Users` row (`name@realm`, no password)
 * and records whether the user is in PROXMOX_ADMIN_GROUP.
 */
export class LoginService {
  readonly proxmox: ProxmoxLogin;
  readonly throttle: LoginThrottle;

  constructor(
    private readonly models: Models,
    config: Config,
    logger: Logger,
  ) {
    this.proxmox = new ProxmoxLogin(config, logger);
    this.throttle = new LoginThrottle(models, config);
  }

  async logIn(attempt: LoginAttempt): Promise<LoginOutcome> {
    const { name, realm } = parseAccount(attempt.username, attempt.realm);
    const invalid = (field: string, message: string): LoginOutcome => ({ ok: false, status: 422, message, fields: { [field]: message } });
    const isLocal = isLocalAccount({ realm });
    if (!isLocal && !PROXMOX_REALM.test(realm)) return invalid('realm', 'Unknown realm.');
    if (!isLocal && !this.proxmox.configured) return invalid('realm', `Unknown realm '${realm}': this Berth has no Proxmox node configured.`);
    if (!(isLocal ? LOCAL_LOGIN_NAME : PROXMOX_USER_NAME).test(name)) {
      return invalid('username', 'Usernames are letters, digits, dots, dashes and underscores.');
    }
    if (!isLocal) {
      const realms = await this.proxmox.realms();
      if (realms && !realms.some((r) => r.realm === realm)) return invalid('realm', `Unknown realm '${realm}'.`);
    }

    const account = isLocal ? name : `${name}@${realm}`;
    const lock = await this.throttle.check(account, attempt.ip);
    if (lock.locked) {
      return {
        ok: false,
        status: 429,
        message: `Too many failed logins for this account or from your address. Try again in ${lock.retryAfterMinutes} minute${lock.retryAfterMinutes === 1 ? '' : 's'}.`,
      };
    }

    const outcome = isLocal ? await this.local(name, attempt.password) : await this.viaProxmox(name, realm, attempt.password);
    // Saying which realm was tried tells nothing about which accounts exist, and shows a local user
    // who picked a Proxmox realm (or the reverse) what went wrong.
    if (!outcome.ok && outcome.message === LOGIN_FAILED) outcome.message = `${LOGIN_FAILED} ${realmTried(realm)}`;
    if (outcome.ok) {
      await this.throttle.succeeded(account);
      await outcome.user.update({ lastLoginAt: new Date() });
    } else if (outcome.status === 401) {
      await this.throttle.failed(account, attempt.ip);
    }
    return outcome;
  }

  private async local(name: string, password: string): Promise<LoginOutcome> {
    const res = await authenticateLocal(this.models, name, password);
    if (res.ok) return res;
    return { ok: false, status: 401, message: res.reason === 'disabled' ? ACCOUNT_DISABLED : LOGIN_FAILED };
  }

  private async viaProxmox(name: string, realm: string, password: string): Promise<LoginOutcome> {
    const res = await this.proxmox.authenticate(name, realm, password);
    if (!res.ok && res.reason === 'unavailable') {
      return { ok: false, status: 502, message: 'The Proxmox node did not answer. Try again later, or log in with a Berth (local) account.' };
    }
    if (!res.ok && res.reason === 'tfa') {
      // 403, not 401: the password was right, so it is not a failed attempt for the throttle.
      return { ok: false, status: 403, message: 'This Proxmox account has two-factor authentication: two-factor login is required, and Berth cannot do it yet. Log in with a Berth (local) account, or ask an admin.' };
    }
    if (!res.ok) return { ok: false, status: 401, message: LOGIN_FAILED };
    const { User } = this.models;
    let user = await User.findOne({ where: { username: res.userid } });
    if (user && !accountUsable(user)) return { ok: false, status: 401, message: ACCOUNT_DISABLED };
    // The login read the groups: the rights are confirmed now (re-checked later, services/proxmoxRights.ts).
    const checkedAt = new Date();
    if (user) {
      await user.update({ proxmoxAdmin: res.isAdmin, realm: res.realm, proxmoxCheckedAt: checkedAt });
    } else {
      user = await User.create({
        username: res.userid,
        realm: res.realm,
        role: 'user',
        proxmoxAdmin: res.isAdmin,
        proxmoxCheckedAt: checkedAt,
        displayName: null,
        email: null,
        passwordHash: null,
        lastLoginAt: null,
      });
    }
    return { ok: true, user };
  }
}
