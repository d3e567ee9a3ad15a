import type { AuditEntry } from './audit-cases.js';

/** Audit-coverage entries for src/routes/services.ts and src/routes/domains.ts (see audit-cases.ts). */
export function serviceAuditCases(): Record<string, AuditEntry> {
  return {};
}
