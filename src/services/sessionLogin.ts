import type { Request } from 'express';
import type { User } from '../../models/index.js';
import { presentUser } from '../lib/current-user.js';
import type { CommandContext, Requester } from './context.js';

const regenerate = (req: Request) => new Promise<void>((resolve, reject) => req.session.regenerate((err) => (err ? reject(err) : resolve())));
const save = (req: Request) => new Promise<void>((resolve, reject) => req.session.save((err) => (err ? reject(err) : resolve())));

/**
 * Starts an authenticated session: a new session id (the pre-login id, which an attacker may have
 * planted, is discarded), then the user id and login time (also the first lastSeenAt), saved
 * before the response goes out.
 */
export async function startSession(req: Request, user: User): Promise<void> {
  await regenerate(req);
  req.session.userId = user.id;
  req.session.loggedInAt = Date.now();
  req.session.lastSeenAt = req.session.loggedInAt;
  req.session.isAdmin = presentUser(user).isAdmin;
  await save(req);
}

/**
 * Gives the session a new id and keeps who is logged in and since when: used when the user's
 * privileges change (promotion, demotion) or after a password change, so an id seen before is
 * worthless afterwards.
 */
export async function rotateSession(req: Request, isAdmin: boolean): Promise<void> {
  const { userId, loggedInAt, lastSeenAt } = req.session;
  await regenerate(req);
  req.session.userId = userId;
  req.session.loggedInAt = loggedInAt;
  req.session.lastSeenAt = lastSeenAt;
  req.session.isAdmin = isAdmin;
  await save(req);
}

/** Ends the session server-side (the row is deleted), so a copied cookie is worthless afterwards. */
export async function endSession(req: Request): Promise<void> {
  await new Promise<void>((resolve, reject) => req.session.destroy((err) => (err ? reject(err) : resolve())));
}

/**
 * The session.* audit events. Not in a transaction: the session row itself is written by the session
 * store. The password is never part of an event.
 */
export const sessionAudit = {
  /** A login that succeeded: the actor is the user who just logged in. */
  login(cmd: CommandContext, user: Pick<User, 'id' | 'username'>) {
    return cmd.auditor.record({ ...cmd.actor, username: user.username }, { action: 'session.login', objectType: 'session', objectId: user.id, objectLabel: user.username });
  },
  /**
   * A login the throttle counts (wrong password, unknown user): by nobody, naming the username tried.
   * Locked-out attempts (429) are not recorded, so a guesser cannot grow the table.
   */
  loginFailed(cmd: CommandContext, username: string) {
    return cmd.auditor.record({ ...cmd.actor, username: null }, { action: 'session.login-failed', objectType: 'session', objectLabel: username });
  },
  /** A signed-in user logging out. */
  logout(cmd: CommandContext, user: Requester) {
    return cmd.auditor.record(cmd.actor, { action: 'session.logout', objectType: 'session', objectId: user.id, objectLabel: user.username });
  },
};
