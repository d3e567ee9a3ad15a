import type { AuditEntry } from './audit-cases.js';

/** Audit-coverage entries for src/routes/expiry.ts (see audit-cases.ts). */
export function expiryAuditCases(): Record<string, AuditEntry> {
  return {};
}
