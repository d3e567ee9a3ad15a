import { Auditor } from '../../src/audit/index.js';
import { createLogger } from '../../src/lib/logger.js';
import { Vault } from '../../src/lib/vault.js';
import type { CommandContext } from '../../src/services/context.js';
import { testContext } from './context.js';

/**
 * A command context on the run's database, as a job or the CLI builds one: Berth itself acts
 * (actor null) unless `overrides` says who; audit events go to AuditEvents only (no file).
 */
export function testCommand(overrides: Partial<CommandContext> = {}): CommandContext {
  const { db, config } = testContext();
  return {
    models: db.models,
    sequelize: db.sequelize,
    auditor: new Auditor(db.models, null),
    vault: Vault.fromConfig(config),
    config,
    logger: createLogger('silent'),
    actor: { username: null },
    ...overrides,
  };
}
