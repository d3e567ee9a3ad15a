import type { Models, User } from '../../models/index.js';
import { verifyPassword } from '../lib/passwords.js';
import { accountUsable, LOCAL_REALM } from '../lib/current-user.js';

/** One message for every failed login, so it does not tell which usernames exist. */
export const LOGIN_FAILED = 'Invalid username or password.';
/** Shown only after the right password, so it reveals nothing to someone guessing. */
export const ACCOUNT_DISABLED = 'This account is disabled or has expired. Ask a Berth administrator.';

export type LocalAuthResult = { ok: true; user: User } | { ok: false; reason: 'invalid' | 'disabled' };

/**
 * Checks a local account's password. A wrong password and an unknown user are indistinguishable
 * (same answer, and one argon2 verification either way, so the same time); a disabled or expired
 * account is reported only when the password was right.
 */
export async function authenticateLocal(models: Models, username: string, password: string): Promise<LocalAuthResult> {
  const user = await models.User.findOne({ where: { username, realm: LOCAL_REALM } });
  const ok = await verifyPassword(user?.passwordHash, password);
  if (!user || !ok) return { ok: false, reason: 'invalid' };
  if (!accountUsable(user)) return { ok: false, reason: 'disabled' };
  return { ok: true, user };
}
