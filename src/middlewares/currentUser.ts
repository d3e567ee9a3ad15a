import type { RequestHandler } from 'express';
import 'express-session';
import type { Config } from '../../config/index.js';
import type { Models } from '../../models/index.js';
import { accountUsable } from '../policies/users.js';
import { presentUser } from '../presenters/user.js';
import { rotateSession } from '../services/sessionLogin.js';

declare module 'express-session' {
  interface SessionData {
    /** Whether the user was an admin when the session id was last issued (a change rotates the id). */
    isAdmin?: boolean;
  }
}

/**
 * Loads the session's user on every request, so disabling or demoting a user takes effect at their
 * next request. A session past its absolute lifetime, or of a disabled, expired or deleted user, is
 * destroyed. When the user's admin status changed since the session id was issued, the id is
 * rotated. Bearer-token requests were authenticated earlier (middlewares/bearerToken.ts).
 */
export function currentUser(models: Models, config: Config): RequestHandler {
  const absoluteMs = config.SESSION_ABSOLUTE_HOURS * 3600 * 1000;
  return async (req, res, next) => {
    const userId = req.apiToken ? undefined : req.session?.userId;
    if (userId !== undefined) {
      const expired = !req.session.loggedInAt || Date.now() - req.session.loggedInAt > absoluteMs;
      const user = expired ? null : await models.User.findByPk(userId);
      if (!user || !accountUsable(user)) {
        await new Promise<void>((resolve) => req.session.destroy(() => resolve()));
      } else {
        req.user = presentUser(user);
        if (req.session.isAdmin !== req.user.isAdmin) await rotateSession(req, req.user.isAdmin);
      }
    }
    res.locals.currentUser = req.user ?? null;
    next();
  };
}
