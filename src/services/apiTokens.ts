import type { Transaction } from 'sequelize';
import type { ApiToken } from '../../models/index.js';
import type { ApiTokenScope } from '../../models/ApiToken.js';
import { changedFields, type Changes } from '../audit/index.js';
import { generateApiToken, tokenKeys } from '../lib/tokens.js';
import { inTransaction, type CommandContext } from './context.js';

/** What creating an API token asks for: whose it is, its name, scope and lifetime. */
export interface ApiTokenInput {
  userId: number;
  name: string;
  scope: ApiTokenScope;
  /** Days until it expires; none: it never does. */
  expiresInDays?: number;
}

/** A token.* event: name, scope, expiry and owner, never the token or its hash. */
function auditToken(cmd: CommandContext, row: ApiToken, action: string, changes: Changes, transaction: Transaction) {
  return cmd.auditor.record(cmd.actor, { action, objectType: 'token', objectId: row.id, objectLabel: row.name, changes }, transaction);
}

/**
 * Creates a named API token, audited as `token.create`. Returns the row and the token itself, which
 * is shown this once: only its hash is stored.
 */
export async function createApiToken(cmd: CommandContext, input: ApiTokenInput): Promise<{ token: string; row: ApiToken }> {
  const { token, tokenHash, hint } = generateApiToken(tokenKeys(cmd.config));
  const expiresAt = input.expiresInDays ? new Date(Date.now() + input.expiresInDays * 86_400_000) : null;
  return inTransaction(cmd, async (transaction) => {
    const row = await cmd.models.ApiToken.create({ userId: input.userId, name: input.name, scope: input.scope, tokenHash, hint, expiresAt }, { transaction });
    await auditToken(cmd, row, 'token.create', changedFields(null, row.get(), ['userId', 'name', 'scope', 'expiresAt']), transaction);
    return { token, row };
  });
}

/** Revokes `token` (already revoked: unchanged, still audited), so it stops working at once. */
export async function revokeApiToken(cmd: CommandContext, token: ApiToken): Promise<void> {
  await inTransaction(cmd, async (transaction) => {
    const before = token.revokedAt;
    if (!before) await token.update({ revokedAt: new Date() }, { transaction });
    await auditToken(cmd, token, 'token.revoke', changedFields({ revokedAt: before }, { revokedAt: token.revokedAt }, ['revokedAt']), transaction);
  });
}
