import type { AuditEntry } from './audit-cases.js';

/** Audit-coverage entries for src/routes/outbox.ts (see audit-cases.ts). */
export function outboxAuditCases(): Record<string, AuditEntry> {
  return {};
}
