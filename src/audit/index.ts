export { Auditor, actorOf, type AuditActor, type AuditInput } from './auditor.js';
export { changedFields, MASK, type Changes } from './changes.js';
export { auditHistory } from './history.js';
