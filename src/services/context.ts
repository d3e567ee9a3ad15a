import type { Sequelize, Transaction } from 'sequelize';
import type { Config } from '../../config/index.js';
import type { Models } from '../../models/index.js';
import type { AuditActor, Auditor } from '../audit/index.js';
import type { Logger } from '../lib/logger.js';
import { mailerFor, type Mailer } from '../lib/mail/index.js';
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
  /** The app's mailer; absent (jobs, CLI), `mailerOf` uses the configuration's shared one. */
  mailer?: Mailer;
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

/** Runs `work` in one transaction of the command's database. */
export function inTransaction<T>(cmd: Pick<CommandContext, 'sequelize'>, work: (transaction: Transaction) => Promise<T>): Promise<T> {
  return cmd.sequelize.transaction(work);
}

/**
 * The mailer a command sends with. Commands send only after their transaction commits, so a mail
 * failure never undoes the change (the mailer reports failures instead of throwing).
 */
export function mailerOf(cmd: Pick<CommandContext, 'mailer' | 'config' | 'logger'>): Mailer {
  return cmd.mailer ?? mailerFor(cmd.config, cmd.logger);
}
