import { z } from 'zod';
import { syncInventory } from '../../inventory/sync.js';
import { Vault } from '../../lib/vault.js';
import { registerTask } from './registry.js';

/** Reads every node's machines and records the drift (docs/sync.md). */
export const SYNC_TASK = 'inventory-sync';

registerTask({
  name: SYNC_TASK,
  kind: 'function',
  adminOnly: true,
  schema: z.object({}).strict(),
  describe: () => 'Sync the inventory with Proxmox',
  run: async (_params, ctx) => {
    if (!ctx.config) throw new Error('inventory-sync needs the runner configuration (node tokens are opened with ENCRYPTION_KEY)');
    const report = await syncInventory(
      { models: ctx.models, sequelize: ctx.sequelize, vault: Vault.fromConfig(ctx.config), config: ctx.config },
      { stdout: ctx.stdout, stderr: ctx.stderr, signal: ctx.signal, jobId: ctx.jobId },
    );
    // The readable nodes were synced and written; the job still fails so the admin sees the others.
    if (report.failed.length) throw new Error(`${report.failed.length} node(s) could not be read: ${report.failed.map((f) => f.node).join(', ')}`);
  },
});
