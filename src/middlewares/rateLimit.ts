import { rateLimit } from 'express-rate-limit';
import type { Config } from '../../config/index.js';
import type { Models } from '../../models/index.js';
import { TooManyRequestsError } from '../lib/errors.js';
import { DatabaseRateLimitStore } from '../services/rate-limit-store.js';

/**
 * The seed's limit for the public routes (login, registration, first-run): RATE_LIMIT_MAX requests per
 * RATE_LIMIT_WINDOW_MINUTES per client IP. The IP is Express's req.ip, which honours X-Forwarded-For
 * only from the proxies listed in TRUST_PROXY.
 */
export function publicRateLimit(config: Config, models: Models) {
  return rateLimit({
    windowMs: config.RATE_LIMIT_WINDOW_MINUTES * 60 * 1000,
    limit: config.RATE_LIMIT_MAX,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    // X-Forwarded-For is ignored on purpose unless TRUST_PROXY names the proxy: no warning needed.
    validate: { xForwardedForHeader: false },
    store: new DatabaseRateLimitStore(models, 'public'),
    handler: (_req, _res, next, options) =>
      next(new TooManyRequestsError(`Too many requests: at most ${options.limit} per ${config.RATE_LIMIT_WINDOW_MINUTES} minutes. Try again later.`)),
  });
}
