import { EDGE_STATE_ID } from '../../models/EdgeState.js';
import { publishEdgeConfig } from '../../src/edge/publish.js';
import type { AuditEntry } from './audit-cases.js';
import { testCommand } from './command.js';
import { testContext } from './context.js';

/**
 * The version to pin: the registry as it is, published first, so the pin (and the unpin after it)
 * serves the real registry's text. Tests share one database in sequence, and other files pull
 * /nginx.conf expecting that text; a made-up version pinned here would be served until the next
 * publish. When the registry's text was refused by nginx -t, the version edges get now is pinned.
 */
async function versionToPin(): Promise<number> {
  const { version } = await publishEdgeConfig(testCommand(), { reason: 'audit coverage: the version to pin' });
  if (version.status === 'published') return version.id;
  const state = await testContext().db.models.EdgeState.findByPk(EDGE_STATE_ID);
  if (state?.servedVersionId == null) throw new Error('audit coverage: no published edge config version to pin (the registry fails nginx -t)');
  return state.servedVersionId;
}

/** Audit-coverage entries for src/routes/edge.ts (see audit-cases.ts). */
export function edgeAuditCases(): Record<string, AuditEntry> {
  return {
    'POST /edges/report': {
      exempt:
        'authenticated by an edge token or an allow-listed address only, never a session (the coverage test signs in); its edge.report event is tested in test/integration/edge/edges.test.ts',
    },
    'POST /admin/edge/publish': { action: 'edge.publish', build: async () => ({ path: '/admin/edge/publish' }) },
    // Routes run in the router's order: the unpin below ends this pin, and edges get the newest
    // published version again, which is the one pinned here.
    'POST /admin/edge/versions/:versionId/pin': { action: 'edge.pin', build: async () => ({ path: `/admin/edge/versions/${await versionToPin()}/pin` }) },
    'POST /admin/edge/unpin': { action: 'edge.unpin', build: async () => ({ path: '/admin/edge/unpin' }) },
  };
}
