import { Op, type Sequelize, type Transaction } from 'sequelize';
import { Vault, VaultError } from '../lib/vault.js';
import { inTransaction, type CommandContext } from './context.js';
import { SECRET_PURPOSE, SSH_KEY_PURPOSE } from './credentials.js';
import { NODE_TOKEN_PURPOSE } from './nodes.js';

/**
 * Re-seals every vault value that an old key sealed with the current key (bin/rotate-key). Rows are
 * read in id order, 200 at a time, each batch re-read and written in its own transaction, so a
 * large vault does not hold one long lock and an interrupted run can simply be started again.
 * A value whose key is not configured at all (or that does not authenticate) is left untouched and
 * reported: destroying it would lose the secret for good.
 */

export interface Unreadable {
  table: 'Credentials' | 'Nodes';
  id: number;
  keyId: string | undefined;
  reason: string;
}

export interface RotationResult {
  /** The key everything is sealed with afterwards. */
  keyId: string;
  /** Credentials re-sealed (or that would be, with `check`). */
  credentials: number;
  /** Node API token secrets re-sealed (or that would be). */
  nodeTokens: number;
  /** Values left on another key: sealed with a key that is not configured, or damaged. */
  unreadable: Unreadable[];
}

export const BATCH_SIZE = 200;

/** Opens `sealed` with its old key and seals it again with the current one; null when it cannot be opened. */
function reseal(vault: Vault, sealed: string, purpose: string, onFail: (reason: string) => void): string | null {
  try {
    return vault.seal(vault.open(sealed, purpose), purpose);
  } catch (err) {
    if (!(err instanceof VaultError)) throw err;
    onFail(err.message);
    return null;
  }
}

/**
 * Rotates (or, with `check`, only counts) every Credentials.secret/sshKey and Nodes.apiTokenSecret
 * not sealed with the current key. A real run records one `vault.rotate` audit event with the counts.
 */
export async function rotateKeys(cmd: CommandContext, options: { check?: boolean } = {}): Promise<RotationResult> {
  const { models, sequelize, vault } = cmd;
  const result: RotationResult = { keyId: vault.keyId, credentials: 0, nodeTokens: 0, unreadable: [] };
  const old = (sealed: string | null): sealed is string => sealed !== null && vault.needsRotation(sealed);

  // Credentials: the secret and the optional SSH key rotate together (they share the row's keyId).
  await inBatches(cmd, async (afterId, t) => {
    const rows = await models.Credential.findAll({ where: { id: { [Op.gt]: afterId } }, order: [['id', 'ASC']], limit: BATCH_SIZE, transaction: t, lock: lockRows(sequelize, options) });
    for (const row of rows) {
      if (!old(row.secret) && !old(row.sshKey)) continue;
      let failure: Unreadable | undefined;
      const fail = (sealed: string) => (reason: string) => (failure ??= { table: 'Credentials', id: row.id, keyId: Vault.keyIdOfSealed(sealed), reason });
      const secret = old(row.secret) ? reseal(vault, row.secret, SECRET_PURPOSE, fail(row.secret)) : row.secret;
      const sshKey = old(row.sshKey) ? reseal(vault, row.sshKey, SSH_KEY_PURPOSE, fail(row.sshKey)) : row.sshKey;
      if (failure || secret === null) {
        if (failure) result.unreadable.push(failure);
        continue;
      }
      result.credentials++;
      if (!options.check) await row.update({ secret, sshKey, keyId: vault.keyId }, { transaction: t });
    }
    return rows.at(-1)?.id;
  });

  await inBatches(cmd, async (afterId, t) => {
    const rows = await models.Node.findAll({ where: { id: { [Op.gt]: afterId } }, order: [['id', 'ASC']], limit: BATCH_SIZE, transaction: t, lock: lockRows(sequelize, options) });
    for (const row of rows) {
      if (!old(row.apiTokenSecret)) continue;
      const sealed = row.apiTokenSecret;
      const secret = reseal(vault, sealed, NODE_TOKEN_PURPOSE, (reason) => result.unreadable.push({ table: 'Nodes', id: row.id, keyId: Vault.keyIdOfSealed(sealed), reason }));
      if (secret === null) continue;
      result.nodeTokens++;
      if (!options.check) await row.update({ apiTokenSecret: secret }, { transaction: t });
    }
    return rows.at(-1)?.id;
  });

  if (!options.check) {
    await inTransaction(cmd, (t) =>
      cmd.auditor.record(
        cmd.actor,
        {
          action: 'vault.rotate',
          objectType: 'vault',
          objectId: vault.keyId,
          objectLabel: `key ${vault.keyId}`,
          changes: { credentials: { after: result.credentials }, nodeTokens: { after: result.nodeTokens }, leftOnOldKeys: { after: result.unreadable.length } },
        },
        t,
      ),
    );
  }
  return result;
}

/** Runs `batch(afterId)` in one transaction per batch until it returns no last id. */
async function inBatches(cmd: CommandContext, batch: (afterId: number, t: Transaction) => Promise<number | undefined>): Promise<void> {
  let afterId = 0;
  for (;;) {
    const last = await inTransaction(cmd, (t) => batch(afterId, t));
    if (last === undefined) return;
    afterId = last;
  }
}

/** MariaDB: lock the batch's rows so an edit from the app between read and write is not lost (SQLite locks the whole database). */
function lockRows(sequelize: Sequelize, options: { check?: boolean }): boolean {
  return !options.check && sequelize.getDialect() !== 'sqlite';
}
