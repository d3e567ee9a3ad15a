import type { Request } from 'express';
import type { User } from '../../models/index.js';

/**
 * Starts an authenticated session: a new session id (the pre-login id, which an attacker may have
 * planted, is discarded), then the user id and login time, saved before the response goes out.
 */
export async function startSession(req: Request, user: User): Promise<void> {
  await new Promise<void>((resolve, reject) => req.session.regenerate((err) => (err ? reject(err) : resolve())));
  req.session.userId = user.id;
  req.session.loggedInAt = Date.now();
  await new Promise<void>((resolve, reject) => req.session.save((err) => (err ? reject(err) : resolve())));
}

/** Ends the session server-side (the row is deleted), so a copied cookie is worthless afterwards. */
export async function endSession(req: Request): Promise<void> {
  await new Promise<void>((resolve, reject) => req.session.destroy((err) => (err ? reject(err) : resolve())));
}
