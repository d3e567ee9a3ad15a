import type { Transaction } from 'sequelize';
import type { Config } from '../../config/index.js';
import type { ApiToken, Models } from '../../models/index.js';
import type { ApiTokenScope } from '../../models/ApiToken.js';
import { generateApiToken, tokenKeys } from '../lib/tokens.js';

/** Creates a named API token for `userId`; returns the row and the token, which is never shown again. */
export async function createApiToken(
  models: Models,
  config: Config,
  userId: number,
  input: { name: string; scope: ApiTokenScope; expiresInDays?: number },
  transaction?: Transaction,
): Promise<{ token: string; row: ApiToken }> {
  const { token, tokenHash, hint } = generateApiToken(tokenKeys(config));
  const expiresAt = input.expiresInDays ? new Date(Date.now() + input.expiresInDays * 86_400_000) : null;
  const row = await models.ApiToken.create({ userId, name: input.name, scope: input.scope, tokenHash, hint, expiresAt }, { transaction });
  return { token, row };
}
