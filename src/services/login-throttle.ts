import type { Options } from 'express-rate-limit';
import type { Config } from '../../config/index.js';
import type { Models } from '../../models/index.js';
import { DatabaseRateLimitStore } from './rate-limit-store.js';

export interface ThrottleState {
  locked: boolean;
  /** Whole minutes until the lock lifts (at least 1 when locked). */
  retryAfterMinutes: number;
}

/**
 * Failed-login counters per account and per client IP, in the shared `RateLimits` table so every
 * instance counts the same failures. An account (or IP) with LOGIN_MAX_FAILURES (per IP:
 * LOGIN_MAX_FAILURES_PER_IP) failures in LOGIN_LOCKOUT_MINUTES is refused until its window ends,
 * even with the right password. A successful login clears the account's counter, not the IP's
 * (one valid account must not reset an IP that is guessing at others).
 */
export class LoginThrottle {
  private readonly accounts: DatabaseRateLimitStore;
  private readonly ips: DatabaseRateLimitStore;
  private readonly windowMs: number;

  constructor(
    private readonly models: Models,
    private readonly config: Config,
  ) {
    this.windowMs = config.LOGIN_LOCKOUT_MINUTES * 60_000;
    this.accounts = new DatabaseRateLimitStore(models, 'login-account');
    this.ips = new DatabaseRateLimitStore(models, 'login-ip');
    for (const store of [this.accounts, this.ips]) store.init({ windowMs: this.windowMs } as Options);
  }

  private static accountKey(account: string): string {
    return account.trim().toLowerCase();
  }

  private async hits(prefix: string, key: string): Promise<{ hits: number; resetAt: Date } | null> {
    const row = await this.models.RateLimit.findByPk(`${prefix}:${key}`.slice(0, 191));
    if (!row || row.resetAt.getTime() <= Date.now()) return null;
    return { hits: row.hits, resetAt: row.resetAt };
  }

  /** Whether a login for `account` from `ip` must be refused right now. */
  async check(account: string, ip: string): Promise<ThrottleState> {
    const [a, i] = await Promise.all([this.hits('login-account', LoginThrottle.accountKey(account)), this.hits('login-ip', ip)]);
    const locks = [
      a && a.hits >= this.config.LOGIN_MAX_FAILURES ? a.resetAt : null,
      i && i.hits >= this.config.LOGIN_MAX_FAILURES_PER_IP ? i.resetAt : null,
    ].filter((d): d is Date => d !== null);
    if (!locks.length) return { locked: false, retryAfterMinutes: 0 };
    const until = Math.max(...locks.map((d) => d.getTime()));
    return { locked: true, retryAfterMinutes: Math.max(1, Math.ceil((until - Date.now()) / 60_000)) };
  }

  /** Counts one failed login against the account and the IP. */
  async failed(account: string, ip: string): Promise<void> {
    await this.accounts.increment(LoginThrottle.accountKey(account));
    await this.ips.increment(ip);
  }

  /** Clears the account's failures after a successful login. */
  async succeeded(account: string): Promise<void> {
    await this.accounts.resetKey(LoginThrottle.accountKey(account));
  }
}
