import type { AuditEntry } from './audit-cases.js';

/** Audit-coverage entries for src/routes/edge.ts (see audit-cases.ts). */
export function edgeAuditCases(): Record<string, AuditEntry> {
  return {};
}
