// The expiry action (helper D fills this in): stop, then delete after the grace period.
import type { Sequelize } from 'sequelize';
import type { Config } from '../../config/index.js';
import type { Models } from '../../models/index.js';
import type { ExpiryItemType } from '../../models/NotificationLog.js';
import type { Auditor } from '../audit/index.js';
import type { Logger } from '../lib/logger.js';

export interface ExpiryDeps {
  models: Models;
  sequelize: Sequelize;
  config: Config;
  logger: Logger;
  auditor: Auditor;
}

export interface ActionSummary {
  itemType: ExpiryItemType;
  itemId: number;
  label: string;
  action: 'stop' | 'delete';
  jobId: number | null;
  /** Why nothing was done (already stopped, dry run, …). */
  skipped?: string;
}

/** Stops expired items and deletes them after the grace period, as the kind's ExpiryPolicy says. */
export async function runExpiryActions(_deps: ExpiryDeps, _opts: { scanDay: string; at: Date; dryRun?: boolean; print?: (line: string) => void }): Promise<ActionSummary[]> {
  return [];
}
