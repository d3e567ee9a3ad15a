import crypto from 'node:crypto';
import type { AuditEntry } from './audit-cases.js';
import { testContext } from './context.js';

/** A published version of made-up text, to pin. */
async function versionToPin(): Promise<number> {
  const body = `# audit coverage ${crypto.randomBytes(4).toString('hex')}\n`;
  const row = await testContext().db.models.EdgeConfigVersion.create({ body, sha256: crypto.createHash('sha256').update(body).digest('hex'), status: 'published', reason: 'audit coverage' });
  return row.id;
}

/** Audit-coverage entries for src/routes/edge.ts (see audit-cases.ts). */
export function edgeAuditCases(): Record<string, AuditEntry> {
  return {
    'POST /edges/report': {
      exempt:
        'authenticated by an edge token or an allow-listed address only, never a session (the coverage test signs in); its edge.report event is tested in test/integration/edge/edges.test.ts',
    },
    'POST /admin/edge/publish': { action: 'edge.publish', build: async () => ({ path: '/admin/edge/publish' }) },
    // Routes run in the router's order: the unpin below ends this pin.
    'POST /admin/edge/versions/:versionId/pin': { action: 'edge.pin', build: async () => ({ path: `/admin/edge/versions/${await versionToPin()}/pin` }) },
    'POST /admin/edge/unpin': { action: 'edge.unpin', build: async () => ({ path: '/admin/edge/unpin' }) },
  };
}
