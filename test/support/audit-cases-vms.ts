import { createVm, uniqueVmid } from '../factories/inventory.js';
import type { AuditEntry } from './audit-cases.js';

/**
 * Audit-coverage entries for src/routes/vms-lifecycle.ts (see audit-cases.ts): the request enqueues
 * its job (audited job.enqueue); the stop itself is audited vm.stop / vm.shutdown by the job. The
 * job is the admin's, so the coverage test cancels it before a later file's runner can pick it up.
 */
export function vmLifecycleAuditCases(): Record<string, AuditEntry> {
  return Object.fromEntries(
    (['stop', 'shutdown'] as const).map((action): [string, AuditEntry] => [
      `POST /vms/:id/${action}`,
      {
        action: 'job.enqueue',
        okStatuses: [202],
        async build(admin) {
          const vm = await createVm({ username: admin.username, vmid: uniqueVmid(), status: 'running' });
          return { path: `/vms/${vm.id}/${action}` };
        },
      },
    ]),
  );
}
