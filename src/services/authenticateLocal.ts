import type { Models, User } from '../../models/index.js';
import { verifyPassword } from '../lib/passwords.js';

/** One message for every failed login, so it does not tell which usernames exist. */
export const LOGIN_FAILED = 'Invalid username or password.';

/**
 * Checks a local account's password. Returns the user, or null for a wrong password, an unknown or
 * disabled user (all indistinguishable to the caller, and to a stopwatch).
 */
export async function authenticateLocal(models: Models, username: string, password: string): Promise<User | null> {
  const user = await models.User.findOne({ where: { username, realm: 'local' } });
  const ok = await verifyPassword(user?.passwordHash, password);
  if (!user || !ok || user.disabled) return null;
  return user;
}
