import type { IncrementResponse, Options, Store } from 'express-rate-limit';
import { Op } from 'sequelize';
import type { Models } from '../../models/index.js';

/**
 * An express-rate-limit store in the `RateLimits` table, so every Berth instance counts against the
 * same window. The increment is a single UPDATE … SET hits = hits + 1, which the database applies
 * atomically whatever the number of instances.
 */
export class DatabaseRateLimitStore implements Store {
  windowMs = 60_000;
  readonly localKeys = false;

  constructor(
    private readonly models: Models,
    readonly prefix: string,
  ) {}

  init(options: Options): void {
    this.windowMs = options.windowMs;
  }

  private key(key: string): string {
    return `${this.prefix}:${key}`.slice(0, 191);
  }

  async increment(rawKey: string): Promise<IncrementResponse> {
    const key = this.key(rawKey);
    const { RateLimit } = this.models;
    const now = new Date();
    const nextReset = new Date(now.getTime() + this.windowMs);
    // Start a new window if there is none (create) or it has ended (update where resetAt <= now).
    await RateLimit.findOrCreate({ where: { key }, defaults: { key, hits: 0, resetAt: nextReset } });
    await RateLimit.update({ hits: 0, resetAt: nextReset }, { where: { key, resetAt: { [Op.lte]: now } } });
    await RateLimit.increment('hits', { by: 1, where: { key } });
    const row = await RateLimit.findByPk(key);
    return { totalHits: row?.hits ?? 1, resetTime: row?.resetAt ?? nextReset };
  }

  async decrement(rawKey: string): Promise<void> {
    await this.models.RateLimit.increment('hits', { by: -1, where: { key: this.key(rawKey), hits: { [Op.gt]: 0 } } });
  }

  async resetKey(rawKey: string): Promise<void> {
    await this.models.RateLimit.destroy({ where: { key: this.key(rawKey) } });
  }

  /** Deletes windows that ended; called now and then so the table stays small. */
  async prune(): Promise<void> {
    await this.models.RateLimit.destroy({ where: { resetAt: { [Op.lt]: new Date() } } });
  }
}
