import type { User } from '../../models/index.js';

/**
 * How the audit-coverage test (test/integration/audit/coverage.test.ts) exercises every state-changing
 * route (POST, PUT, PATCH, DELETE). One entry per `METHOD /path/pattern`:
 *
 * - a case: `build(admin)` creates what the route needs and returns the concrete path and the JSON
 *   body of a request that should succeed for `admin`; the test sends it as that admin (session and
 *   CSRF token) and fails unless one new AuditEvents row with `action` was written;
 * - `{ exempt: 'why' }`: the route writes nothing that is audited (say why).
 *
 * A state-changing route with no entry fails the test with a message naming it.
 */
export interface AuditCase {
  action: string;
  build(admin: User): Promise<{ path: string; body?: Record<string, unknown> }>;
  /** Statuses that count as success (default: any 2xx or 3xx). */
  okStatuses?: number[];
}

export type AuditEntry = AuditCase | { exempt: string };

export const auditCases: Record<string, AuditEntry> = {
  // Entries are added by each resource's author, grouped by router.
};
