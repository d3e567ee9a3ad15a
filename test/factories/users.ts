import crypto from 'node:crypto';
import type { CreationAttributes } from 'sequelize';
import type { User } from '../../models/index.js';
import { hashPassword } from '../../src/lib/passwords.js';
import { testContext } from '../support/context.js';
import { withoutUndefined } from './overrides.js';

export interface BuiltUser {
  user: User;
  password: string;
}

/** User attributes a test may set; `password` is plain, hashed here. */
export type UserOverrides = Partial<Omit<CreationAttributes<User>, 'passwordHash'>> & { password?: string };

/** Creates a local user with a known password; unique username unless one is given. */
export async function createUser(overrides: UserOverrides = {}): Promise<BuiltUser> {
  const { password: chosen, ...attributes } = withoutUndefined(overrides);
  const password = chosen ?? `pw-${crypto.randomBytes(9).toString('base64url')}`;
  const user = await testContext().db.models.User.create({
    username: `user-${crypto.randomBytes(4).toString('hex')}`,
    realm: 'local',
    role: 'user',
    disabled: false,
    displayName: null,
    email: null,
    lastLoginAt: null,
    ...attributes,
    passwordHash: await hashPassword(password),
  });
  return { user, password };
}

/** Creates a local admin; see createUser. */
export const createAdminUser = (overrides: UserOverrides = {}) => createUser({ ...overrides, role: 'admin' });
