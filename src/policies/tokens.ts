import type { RequestHandler } from 'express';
import { ForbiddenError } from '../lib/errors.js';

/**
 * For account-management routes (passwords, API tokens): refused to API-token callers, so a
 * leaked token cannot mint more tokens or take over the account.
 */
export const sessionOnly: RequestHandler = (req, _res, next) => {
  next(req.apiToken ? new ForbiddenError('API tokens cannot manage accounts or tokens: log in with a browser.') : undefined);
};
