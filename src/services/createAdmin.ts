import { z } from 'zod';
import type { Models, User } from '../../models/index.js';
import { ConflictError } from '../lib/errors.js';
import { hashPassword, MIN_PASSWORD_LENGTH } from '../lib/passwords.js';
import { localUsername } from '../lib/validators.js';
import { LOCAL_REALM } from '../lib/current-user.js';
import { parseInput } from '../lib/parse-input.js';

export const createAdminInput = z.object({
  username: localUsername,
  password: z.string().min(MIN_PASSWORD_LENGTH, `must be at least ${MIN_PASSWORD_LENGTH} characters`).max(1024),
  email: z.email('must be an email address').optional(),
  displayName: z.string().trim().min(1).max(191).optional(),
});

/** Creates a local administrator account (argon2id). Refuses an existing username. */
export async function createAdmin(models: Models, raw: unknown): Promise<User> {
  const input = parseInput(createAdminInput, raw);
  if (await models.User.findOne({ where: { username: input.username } })) {
    throw new ConflictError(`A user named '${input.username}' already exists.`, { username: 'already exists' });
  }
  return models.User.create({
    username: input.username,
    realm: LOCAL_REALM,
    role: 'admin',
    email: input.email ?? null,
    displayName: input.displayName ?? null,
    passwordHash: await hashPassword(input.password),
    lastLoginAt: null,
  });
}
