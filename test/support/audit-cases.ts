import crypto from 'node:crypto';
import type { User } from '../../models/index.js';
import { hashPassword } from '../../src/lib/passwords.js';
import { issuePasswordLink } from '../../src/services/passwordLinks.js';
import { createJob } from '../factories/jobs.js';
import { createUser } from '../factories/users.js';
import { testContext } from './context.js';
import { createRecordWithCredential } from '../factories/credentials.js';
import { createContainer, createNode, createVm, randomIp, randomMac, uniqueVmid } from '../factories/inventory.js';
import { serviceAuditCases } from './audit-cases-services.js';
import { edgeAuditCases } from './audit-cases-edge.js';
import { expiryAuditCases } from './audit-cases-expiry.js';
import { vmLifecycleAuditCases } from './audit-cases-vms.js';
import { outboxAuditCases } from './audit-cases-outbox.js';
import { driftBulkAuditCases } from './audit-cases-drift-bulk.js';

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
  // Accounts, sessions and jobs (src/routes/auth.ts, register.ts, account.ts, account-requests.ts,
  // users.ts, tokens.ts, jobs.ts).
  ...accountAndJobCases(),
  // Container and VM record pages (src/routes/inventory-records.ts).
  ...Object.fromEntries(
    (['container', 'vm'] as const).flatMap((kind) => {
      const base = kind === 'container' ? '/containers' : '/vms';
      const fresh = () => `audit-${Math.random().toString(36).slice(2, 10)}.example.org`;
      const onRecord = (action: string, suffix: string, body: (admin: User) => Record<string, unknown> | Promise<Record<string, unknown>>): AuditEntry => ({
        action,
        async build(admin: User) {
          const record = kind === 'container' ? await createContainer({ username: admin.username }) : await createVm({ username: admin.username });
          return { path: `${base}/${record.id}${suffix}`, body: await body(admin) };
        },
      });
      const update = () => ({ purpose: `audited ${fresh()}` });
      return [
        [`POST ${base}`, { action: `${kind}.create`, build: async () => ({ path: base, body: { [kind === 'container' ? 'hostname' : 'name']: fresh(), ipv4Address: randomIp() } }) }],
        [`POST ${base}/:id`, onRecord(`${kind}.update`, '', update)],
        [`PUT ${base}/:id`, onRecord(`${kind}.update`, '', update)],
        [`POST ${base}/:id/delete`, onRecord(`${kind}.delete`, '/delete', () => ({ confirm: 'yes' }))],
        [`DELETE ${base}/:id`, onRecord(`${kind}.delete`, '', () => ({}))],
        [`POST ${base}/:id/owner`, onRecord(`${kind}.transfer`, '/owner', async () => ({ username: (await createUser({ username: `heir-${fresh().slice(6, 14)}@pve`, realm: 'pve' })).user.username }))],
      ] as Array<[string, AuditEntry]>;
    }),
  ),
  // Container lifecycle (src/routes/containers-lifecycle.ts): the request enqueues its job (audited
  // job.enqueue); the change itself is audited by the job. Its DELETE and delete form are the
  // container entries above (a record with no VMID is removed at once, audited container.delete).
  ...Object.fromEntries(
    (['start', 'stop', 'shutdown', 'reboot', 'resize'] as const).map((action) => [
      `POST /containers/:id/${action}`,
      {
        action: 'job.enqueue',
        async build(admin: User) {
          const ct = await createContainer({ username: admin.username, vmid: uniqueVmid(), status: action === 'start' ? 'stopped' : 'running', cores: 1, memoryMb: 512, diskGb: 4 });
          return { path: `/containers/${ct.id}/${action}`, body: action === 'resize' ? { cores: 2 } : {} };
        },
      },
    ]),
  ),
  // Entries are added by each resource's author, grouped by router.
  // Credential vault (src/routes/credentials.ts): events are recorded on the parent container or VM.
  ...Object.fromEntries(
    (['container', 'vm'] as const).flatMap((kind) => {
      const base = kind === 'container' ? '/containers' : '/vms';
      const onCredential = (action: string, suffix: string) => ({
        action,
        async build(admin: User) {
          const { record, credential } = await createRecordWithCredential(kind, admin.username);
          return { path: `${base}/${record.id}/credentials/${credential.id}${suffix}` };
        },
      });
      return [
        [
          `POST ${base}/:id/credentials`,
          {
            action: 'credential.create',
            async build(admin: User) {
              const { record } = await createRecordWithCredential(kind, admin.username);
              return { path: `${base}/${record.id}/credentials`, body: { label: 'audit', username: 'root', password: 'audit-coverage-password' } };
            },
          },
        ],
        [`POST ${base}/:id/credentials/:credentialId/reveal`, onCredential('credential.reveal', '/reveal')],
        [`POST ${base}/:id/credentials/:credentialId/delete`, onCredential('credential.delete', '/delete')],
        [`DELETE ${base}/:id/credentials/:credentialId`, onCredential('credential.delete', '')],
      ] as Array<[string, AuditEntry]>;
    }),
  ),
  // Bulk edit on the lists (src/routes/inventory-list.ts): one event per changed record.
  'POST /containers/bulk': { action: 'container.bulk-update', build: async () => ({ path: '/containers/bulk', body: { ids: [(await createContainer()).id], addTags: 'bulk' } }) },
  'POST /vms/bulk': { action: 'vm.bulk-update', build: async () => ({ path: '/vms/bulk', body: { ids: [(await createVm()).id], addTags: 'bulk' } }) },
  // Nodes and sync with Proxmox (src/routes/nodes.ts, src/routes/inventory-sync.ts).
  ...nodeAndSyncCases(),
  ...driftBulkAuditCases(),
  // Self-service settings: templates, IP pools, quotas (src/routes/provisioning-settings.ts).
  ...provisioningSettingsCases(),
  // The container request queue (src/routes/container-requests.ts).
  ...containerRequestCases(),
  // Services and public domains (src/routes/services.ts, src/routes/domains.ts).
  ...serviceAuditCases(),
  // The edge: versions, pins, reports (src/routes/edge.ts).
  ...edgeAuditCases(),
  ...expiryAuditCases(),
  // VM power (src/routes/vms-lifecycle.ts).
  ...vmLifecycleAuditCases(),
  ...outboxAuditCases(),
  // CSV import (src/routes/inventory-import.ts): the upload and its apply are audited as csv-import.*.
  ...Object.fromEntries(
    (['container', 'vm'] as const).flatMap((kind) => {
      const base = kind === 'container' ? '/containers' : '/vms';
      const csv = () => `${kind === 'container' ? 'hostname' : 'name'}\nimport-${Math.random().toString(36).slice(2, 10)}.example.org\n`;
      return [
        [`POST ${base}/import`, { action: 'csv-import.upload', build: async () => ({ path: `${base}/import`, body: { csv: csv(), filename: 'audit.csv' } }) }],
        [
          `POST ${base}/import/:importId/apply`,
          {
            action: 'csv-import.apply',
            async build(admin: User) {
              const row = await testContext().db.models.CsvImport.create({ kind, username: admin.username, filename: 'audit.csv', content: csv(), appliedAt: null });
              return { path: `${base}/import/${row.id}/apply` };
            },
          },
        ],
      ] as Array<[string, AuditEntry]>;
    }),
  ),
};

const unique = () => crypto.randomBytes(4).toString('hex');

/** Gives `user` a password the case knows (the factory's is not passed to build()). */
async function knownPassword(user: User): Promise<string> {
  const password = `pw-${unique()}-${unique()}`;
  await user.update({ passwordHash: await hashPassword(password) });
  return password;
}

function accountAndJobCases(): Record<string, AuditEntry> {
  const db = () => testContext().db.models;
  const onUser = (action: string, suffix: string, body: Record<string, unknown> = {}, overrides: Parameters<typeof createUser>[0] = {}): AuditCase => ({
    action,
    async build() {
      const { user } = await createUser(overrides);
      return { path: `/users/${user.id}${suffix}`, body };
    },
  });
  const onRequest = (action: string, suffix: string, body: Record<string, unknown> = {}): AuditCase => ({
    action,
    async build() {
      const row = await db().AccountRequest.create({ name: 'Audit', email: 'audit@example.org', username: `req-${unique()}`, reason: 'audit coverage', endDate: null });
      return { path: `/account-requests/${row.id}${suffix}`, body };
    },
  });
  return {
    'POST /login': {
      action: 'session.login',
      async build(admin) {
        return { path: '/login', body: { username: admin.username, password: await knownPassword(admin) } };
      },
    },
    'POST /logout': { action: 'session.logout', build: async () => ({ path: '/logout' }) },
    'POST /register': {
      action: 'account-request.create',
      build: async () => ({ path: '/register', body: { name: 'Audit Coverage', email: 'audit@example.org', username: `reg-${unique()}`, reason: 'to check the audit trail' } }),
    },
    'POST /set-password': {
      action: 'user.password-set',
      async build() {
        const { user } = await createUser();
        const link = await issuePasswordLink(testContext().config, user);
        const token = new URL(link).searchParams.get('token')!;
        const password = `new-${unique()}-${unique()}`;
        return { path: '/set-password', body: { token, newPassword: password, confirmPassword: password } };
      },
    },
    'POST /account/password': {
      action: 'user.password-change',
      async build(admin) {
        const password = `new-${unique()}-${unique()}`;
        return { path: '/account/password', body: { currentPassword: await knownPassword(admin), newPassword: password, confirmPassword: password } };
      },
    },
    'POST /send-test-email': { action: 'mail.test', build: async () => ({ path: '/send-test-email', body: { to: 'audit@example.org' } }) },
    'POST /account-requests/:id/approve': onRequest('account-request.approve', '/approve'),
    'POST /account-requests/:id/reject': onRequest('account-request.reject', '/reject', { reason: 'audit coverage' }),
    'POST /users/:id/disable': onUser('user.disable', '/disable'),
    'POST /users/:id/enable': onUser('user.enable', '/enable', {}, { disabled: true }),
    'POST /users/:id/role': onUser('user.role', '/role', { role: 'admin' }),
    'POST /users/:id/reset-password': onUser('user.password-reset', '/reset-password'),
    'POST /tokens': { action: 'token.create', build: async () => ({ path: '/tokens', body: { name: `audit ${unique()}`, scope: 'read', expiresInDays: 1 } }) },
    'POST /tokens/:id/revoke': {
      action: 'token.revoke',
      async build(admin) {
        const row = await db().ApiToken.create({ userId: admin.id, name: 'audit', tokenHash: crypto.randomBytes(32).toString('hex'), hint: 'berth_audit', expiresAt: null });
        return { path: `/tokens/${row.id}/revoke` };
      },
    },
    // A command that does nothing (the coverage test cancels what it leaves pending).
    'POST /jobs': { action: 'job.enqueue', build: async () => ({ path: '/jobs', body: { command: 'true' } }) },
    // The jobs page's "Run command" form: the same command, confirmed.
    'POST /jobs/command': { action: 'job.enqueue', build: async () => ({ path: '/jobs/command', body: { command: 'true', confirm: true } }) },
    'POST /jobs/:id/cancel': {
      action: 'job.cancel',
      async build(admin) {
        // A pending job of the admin's: cancelled at once (a finished one would be a 409).
        const row = await createJob({ createdBy: admin.username, status: 'pending' });
        return { path: `/jobs/${row.id}/cancel` };
      },
      okStatuses: [202],
    },
  };
}

function containerRequestCases(): Record<string, AuditEntry> {
  // The request is the admin's own, so the create job an approval enqueues is the admin's too, and the
  // coverage test cancels it before any runner of a later test can pick it up.
  const onRequest = (action: string, suffix: string, body: Record<string, unknown> = {}): AuditCase => ({
    action,
    async build(admin) {
      const container = await createContainer({ username: admin.username, status: 'pending-approval' });
      const row = await testContext().db.models.ContainerRequest.create({ containerId: container.id, hostname: container.hostname, username: admin.username, params: '{}', status: 'pending', overage: null, decidedBy: null, reason: null, jobId: null });
      return { path: `/containers/requests/${row.id}${suffix}`, body };
    },
  });
  return {
    'POST /containers/requests/:requestId/approve': onRequest('container.approve', '/approve'),
    'POST /containers/requests/:requestId/reject': onRequest('container.reject', '/reject', { reason: 'audit coverage' }),
  };
}

function provisioningSettingsCases(): Record<string, AuditEntry> {
  const volid = () => `local:vztmpl/audit-${unique()}_1.0_amd64.tar.zst`;
  const pool = async () => ({ nodeId: (await createNode()).id, bridge: 'vmbr0', cidr: '10.77.0.0/24', gateway: '10.77.0.1', rangeStart: '10.77.0.10', rangeEnd: '10.77.0.20' });
  const onPool = (action: string, suffix: string, body: Record<string, unknown> = {}): AuditCase => ({
    action,
    async build() {
      const row = await testContext().db.models.IpPool.create(await pool());
      return { path: `/admin/ip-pools/${row.id}${suffix}`, body: { ...row.get(), ...body } };
    },
  });
  return {
    'POST /admin/templates': { action: 'containerTemplate.create', build: async () => ({ path: '/admin/templates', body: { nodeId: (await createNode()).id, volid: volid(), osRelease: 'Audit 1' } }) },
    'POST /admin/templates/discover': { exempt: 'reads the nodes\' storages and changes nothing in Berth' },
    'POST /admin/templates/discovered': {
      action: 'containerTemplate.create',
      build: async () => ({ path: '/admin/templates/discovered', body: { templates: [{ nodeId: (await createNode()).id, volid: volid(), osRelease: 'Audit 2' }] } }),
    },
    'POST /admin/templates/:templateId/delete': {
      action: 'containerTemplate.delete',
      async build() {
        const row = await testContext().db.models.ContainerTemplate.create({ nodeId: (await createNode()).id, volid: volid(), osRelease: 'Audit 3' });
        return { path: `/admin/templates/${row.id}/delete` };
      },
    },
    'POST /admin/ip-pools': { action: 'ipPool.create', build: async () => ({ path: '/admin/ip-pools', body: await pool() }) },
    'POST /admin/ip-pools/:poolId': onPool('ipPool.update', '', { rangeEnd: '10.77.0.30' }),
    'POST /admin/ip-pools/:poolId/delete': onPool('ipPool.delete', '/delete'),
    'POST /admin/quotas': { action: 'user.quota', build: async () => ({ path: '/admin/quotas', body: { username: (await createUser()).user.username, cores: 3 } }) },
    'POST /admin/quotas/:userId': { action: 'user.quota', build: async () => ({ path: `/admin/quotas/${(await createUser()).user.id}`, body: { containers: 2 } }) },
  };
}

function nodeAndSyncCases(): Record<string, AuditEntry> {
  const name = () => `audit-${unique()}`;
  const onNode = (action: string, suffix: string, body: Record<string, unknown> = {}): AuditCase => ({
    action,
    build: async () => ({ path: `/nodes/${(await createNode()).id}${suffix}`, body }),
  });
  return {
    'POST /nodes': { action: 'node.create', build: async () => ({ path: '/nodes', body: { name: name(), apiUrl: 'https://192.0.2.10:8006' } }) },
    'POST /nodes/:id': onNode('node.update', '', { apiUrl: 'https://192.0.2.11:8006' }),
    'PUT /nodes/:id': onNode('node.update', '', { apiUrl: 'https://192.0.2.12:8006' }),
    'POST /nodes/:id/delete': onNode('node.delete', '/delete'),
    'DELETE /nodes/:id': onNode('node.delete', ''),
    'POST /nodes/:id/test': { exempt: 'reads the node (GET /version) and changes nothing in Berth' },
    'POST /inventory/sync': {
      action: 'job.enqueue',
      build: async () => {
        // One sync at a time: one another file left waiting would be the answer, and nothing new written.
        await testContext().db.models.Job.update({ status: 'cancelled', finishedAt: new Date() }, { where: { task: 'inventory-sync', status: ['pending', 'running'] } });
        return { path: '/inventory/sync' };
      },
    },
    'POST /inventory/drift/import': {
      action: 'container.create',
      async build(admin) {
        const node = await createNode();
        const vmid = uniqueVmid();
        await testContext().db.models.MachineSnapshot.create({ kind: 'lxc', node: node.name, vmid, name: `import-${unique()}`, status: 'running', macAddress: randomMac(), ipv4Address: randomIp(), osName: 'debian', syncJobId: null, seenAt: new Date() });
        return { path: '/inventory/drift/import', body: { kind: 'lxc', node: node.name, vmid, username: admin.username } };
      },
    },
    'POST /inventory/drift/accept': {
      action: 'container.sync-accept',
      async build() {
        const record = await createContainer({ status: 'unknown', drift: JSON.stringify({ fields: { status: { berth: 'unknown', proxmox: 'running' } } }) });
        return { path: '/inventory/drift/accept', body: { kind: 'container', id: record.id } };
      },
    },
    'POST /inventory/drift/clean-up': {
      action: 'container.create-interrupted',
      async build() {
        // A reservation whose create job is gone and no VMID: the clean-up removes the record alone.
        const record = await createContainer({ managed: true, status: 'provisioning', nodeId: (await createNode()).id });
        return { path: '/inventory/drift/clean-up', body: { id: record.id } };
      },
    },
  };
}
