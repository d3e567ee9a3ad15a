import type { RequestHandler } from 'express';
import 'express-session';
import type { Config } from '../../config/index.js';
import type { Models } from '../../models/index.js';
import { actorOf } from '../audit/index.js';
import { accountUsable, presentUser } from '../lib/current-user.js';
import type { ProxmoxRights } from '../services/proxmoxRights.js';
import { rotateSession } from '../services/sessionLogin.js';

declare module 'express-session' {
  interface SessionData {
    /** Whether the user was an admin when the session id was last issued (a change rotates the id). */
    isAdmin?: boolean;
    /** The session's last request (ms since epoch), written at most every LAST_SEEN_RESOLUTION. */
    lastSeenAt?: number;
  }
}

/**
 * Loads the session's user on every request, so disabling or demoting a user takes effect at their
 * next request. A session past its idle timeout (lastSeenAt) or absolute lifetime (loggedInAt), or
 * of a disabled, expired or deleted user, is destroyed: the server decides, not the cookie's expiry
 * (the store also refuses expired rows, middlewares/session.ts). A Proxmox account's rights are
 * re-read when older than PROXMOX_RECHECK_MINUTES. When the user's admin status changed since the
 * session id was issued, the id is rotated. Bearer-token requests were authenticated earlier
 * (middlewares/bearerToken.ts).
 */
export function currentUser(models: Models, config: Config, rights?: ProxmoxRights): RequestHandler {
  const absoluteMs = config.SESSION_ABSOLUTE_HOURS * 3600 * 1000;
  const idleMs = config.SESSION_IDLE_MINUTES * 60 * 1000;
  // Writing lastSeenAt on every request would rewrite the session row each time; a tenth of the
  // idle timeout (at most a minute) keeps the check within 10% of the setting.
  const lastSeenResolutionMs = Math.min(60_000, idleMs / 10);
  return async (req, res, next) => {
    const userId = req.apiToken ? undefined : req.session?.userId;
    if (userId !== undefined) {
      const now = Date.now();
      const { loggedInAt } = req.session;
      const lastSeenAt = req.session.lastSeenAt ?? loggedInAt ?? 0;
      const expired = !loggedInAt || now - loggedInAt > absoluteMs || now - lastSeenAt > idleMs;
      const user = expired ? null : await models.User.findByPk(userId);
      if (user) await rights?.refreshIfDue(user, actorOf(req));
      if (!user || !accountUsable(user)) {
        await new Promise<void>((resolve) => req.session.destroy(() => resolve()));
      } else {
        req.user = presentUser(user);
        if (now - lastSeenAt >= lastSeenResolutionMs) req.session.lastSeenAt = now;
        if (req.session.isAdmin !== req.user.isAdmin) await rotateSession(req, req.user.isAdmin);
      }
    }
    res.locals.currentUser = req.user ?? null;
    next();
  };
}
