import type { RequestHandler } from 'express';
import type { Config } from '../../config/index.js';
import type { Models } from '../../models/index.js';
import { presentUser } from '../presenters/user.js';

/**
 * Loads the session's user on every request, so disabling or demoting a user takes effect at their
 * next request. A session past its absolute lifetime, or of a disabled/deleted user, is destroyed.
 */
export function currentUser(models: Models, config: Config): RequestHandler {
  const absoluteMs = config.SESSION_ABSOLUTE_HOURS * 3600 * 1000;
  return async (req, res, next) => {
    const userId = req.session?.userId;
    if (userId !== undefined) {
      const expired = !req.session.loggedInAt || Date.now() - req.session.loggedInAt > absoluteMs;
      const user = expired ? null : await models.User.findByPk(userId);
      if (!user || user.disabled) {
        await new Promise<void>((resolve) => req.session.destroy(() => resolve()));
      } else {
        req.user = presentUser(user);
      }
    }
    res.locals.currentUser = req.user ?? null;
    next();
  };
}
