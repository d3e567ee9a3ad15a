import type { Sequelize, Transaction } from 'sequelize';
import type { Config } from '../../config/index.js';
import type { Models } from '../../models/index.js';
import type { AuditActor, Auditor } from '../audit/index.js';
import type { Logger } from '../lib/logger.js';
import type { Vault } from '../lib/vault.js';

/**
 * What every command gets: one object, built once per request (`commandContext(ctx, req)` in
 * src/routes/command.ts) or once per job/CLI run. A command opens its own transaction
 * (`inTransaction`), so the record change, its audit event and any job it enqueues commit together.
 */
export interface CommandContext {
  models: Models;
  sequelize: Sequelize;
  auditor: Auditor;
  vault: Vault;
  config: Config;
  logger: Logger;
  /** Who acts: written into the audit event (username null: Berth itself, a schedule or the CLI). */
  actor: AuditActor;
  /** The signed-in user, when the command's rules depend on who asks (owner or admin). */
  user?: Requester;
  /**
   * Set when a command runs as part of a larger change (the expiry action's stop job commits with
   * its notice and mail): `inTransaction` joins it instead of opening a transaction of its own.
   */
  transaction?: Transaction;
}

/**
 * Who a request acts for, as rules need it: the signed-in user or an API token's owner (a
 * `CurrentUser` is one). Policies decide by it; the audit trail records an `AuditActor`.
 */
export interface Requester {
  id: number;
  username: string;
  isAdmin: boolean;
}

/** Runs `work` in one transaction of the command's database (the caller's, when `cmd.transaction` is set). */
export function inTransaction<T>(cmd: Pick<CommandContext, 'sequelize' | 'transaction'>, work: (transaction: Transaction) => Promise<T>): Promise<T> {
  return cmd.transaction ? work(cmd.transaction) : cmd.sequelize.transaction(work);
}
