import type { Request, RequestHandler } from 'express';
import { csrfSync } from 'csrf-sync';

const { isRequestValid, generateToken, invalidCsrfTokenError } = csrfSync({
  // Forms send _csrf; fetch() calls send the X-CSRF-Token header (read from the page's meta tag).
  getTokenFromRequest: (req) => (req.body && typeof req.body._csrf === 'string' ? req.body._csrf : req.headers['x-csrf-token']),
  size: 32,
  errorConfig: { statusCode: 403, message: 'Invalid or missing CSRF token: reload the page and try again.', code: 'EBADCSRFTOKEN' },
});

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Synchronizer-token CSRF protection on every state-changing request (POST, PUT, PATCH, DELETE),
 * except those `skip` exempts (requests no route answers, which get their 404/405 instead).
 */
export function csrfProtection(skip: (req: Request) => boolean): RequestHandler {
  return (req, _res, next) => {
    if (SAFE_METHODS.has(req.method) || skip(req) || isRequestValid(req)) return next();
    next(invalidCsrfTokenError);
  };
}

/** Exposes the session's CSRF token to templates as `csrfToken`, creating it on first use. */
export const csrfLocals: RequestHandler = (req, res, next) => {
  Object.defineProperty(res.locals, 'csrfToken', { get: () => generateToken(req), enumerable: true, configurable: true });
  next();
};
