import type { RequestHandler } from 'express';
import { ForbiddenError, UnauthorizedError } from '../lib/errors.js';

/**
 * Who may reach a route at all. Every route declares one of these as its first handler; a test walks
 * the router and fails for a route without one. Object-level rules (owner or admin) live beside
 * them in src/policies/ and are applied after the record is loaded.
 */
export type AccessLevel = 'public' | 'user' | 'admin';

export type AccessMiddleware = RequestHandler & { accessLevel: AccessLevel };

function declare(level: AccessLevel, handler: RequestHandler): AccessMiddleware {
  return Object.assign(handler, { accessLevel: level });
}

export const access = {
  /** Anyone, logged in or not. */
  public: declare('public', (_req, _res, next) => next()),
  /** Any logged-in user. */
  user: declare('user', (req, _res, next) => next(req.user ? undefined : new UnauthorizedError())),
  /** Administrators only; a logged-in non-admin gets 403, an anonymous visitor 401. */
  admin: declare('admin', (req, _res, next) => {
    if (!req.user) return next(new UnauthorizedError());
    next(req.user.isAdmin ? undefined : new ForbiddenError('Administrators only.'));
  }),
};

/**
 * For account-management routes (passwords, API tokens), after `access.user`: refused to API-token
 * callers, so a leaked token cannot mint more tokens or take over the account.
 */
export const sessionOnly: RequestHandler = (req, _res, next) => {
  next(req.apiToken ? new ForbiddenError('API tokens cannot manage accounts or tokens: log in with a browser.') : undefined);
};
