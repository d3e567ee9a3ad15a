import crypto from 'node:crypto';
import type { Role, User } from '../../models/index.js';
import { hashPassword } from '../../src/lib/passwords.js';
import { testContext } from '../support/context.js';

export interface BuiltUser {
  user: User;
  password: string;
}

/** Creates a local user with a known password; unique username unless one is given. */
export async function createUser(overrides: { username?: string; role?: Role; disabled?: boolean; password?: string } = {}): Promise<BuiltUser> {
  const password = overrides.password ?? `pw-${crypto.randomBytes(9).toString('base64url')}`;
  const user = await testContext().db.models.User.create({
    username: overrides.username ?? `user-${crypto.randomBytes(4).toString('hex')}`,
    realm: 'local',
    role: overrides.role ?? 'user',
    disabled: overrides.disabled ?? false,
    displayName: null,
    email: null,
    passwordHash: await hashPassword(password),
    lastLoginAt: null,
  });
  return { user, password };
}

export const createAdminUser = (overrides: { username?: string } = {}) => createUser({ ...overrides, role: 'admin' });
