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
    // One node down is a partial result, not a failed sync: the others were read and written, and the
    // output's last line ("partial: node pve2 not read (…)") and each node's stored result
    // (Nodes.syncError, on the drift and node pages) say which failed and why. Only a sync that read
    // no node at all fails.
    if (report.tried.length && report.failed.length === report.tried.length) throw new Error(`No node could be read: ${report.failed.map((f) => `${f.node} (${f.error})`).join('; ')}`);
  },
});
