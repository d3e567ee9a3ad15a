import { createContainer, createNode, randomIp, randomMac, uniqueVmid } from '../factories/inventory.js';
import type { AuditEntry } from './audit-cases.js';
import { testContext } from './context.js';

const unique = () => Math.random().toString(36).slice(2, 10);

/** The drift page's bulk actions (src/routes/inventory-sync.ts): one audit event per record. */
export function driftBulkAuditCases(): Record<string, AuditEntry> {
  return {
    'POST /inventory/drift/import-bulk': {
      action: 'container.create',
      async build(admin) {
        const node = await createNode();
        const vmid = uniqueVmid();
        await testContext().db.models.MachineSnapshot.create({ kind: 'lxc', node: node.name, vmid, name: `bulk-${unique()}`, status: 'running', macAddress: randomMac(), ipv4Address: randomIp(), osName: 'debian', syncJobId: null, seenAt: new Date() });
        return { path: '/inventory/drift/import-bulk', body: { machines: [`lxc/${node.name}/${vmid}`], username: admin.username } };
      },
    },
    'POST /inventory/drift/forget': {
      action: 'container.delete',
      async build() {
        const record = await createContainer({ drift: JSON.stringify({ gone: true }) });
        return { path: '/inventory/drift/forget', body: { records: [`container/${record.id}`] } };
      },
    },
    'POST /inventory/drift/relink': {
      action: 'container.sync-relink',
      async build() {
        const [from, to] = [await createNode(), await createNode()];
        const mac = randomMac();
        const record = await createContainer({ nodeId: from.id, vmid: uniqueVmid(), macAddress: mac, drift: JSON.stringify({ gone: true }) });
        await testContext().db.models.MachineSnapshot.create({ kind: 'lxc', node: to.name, vmid: uniqueVmid(), name: record.hostname, status: 'running', macAddress: mac, ipv4Address: null, osName: 'debian', syncJobId: null, seenAt: new Date() });
        return { path: '/inventory/drift/relink', body: { records: [`container/${record.id}`] } };
      },
    },
  };
}
