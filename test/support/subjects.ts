import crypto from 'node:crypto';
import type { User } from '../../models/index.js';
import type { SubjectKind } from '../../src/policies/authorize.js';
import type { SubjectDeclaration } from '../../src/policies/subjects.js';
import { createRecordWithCredential } from '../factories/credentials.js';
import { createContainer, createNode, createVm } from '../factories/inventory.js';
import { createJob } from '../factories/jobs.js';
import { createUser } from '../factories/users.js';
import { testContext } from './context.js';

/**
 * How the authorization matrix (test/integration/route-policies.test.ts) gets a real object for a
 * route: the route declares what it loads (`load.<kind>(action)`, src/policies/subjects.ts), and the
 * builder for that kind creates one, owned by `owner` where the kind has owners, and returns the
 * path parameters that name it. A new kind of object adds a builder here (the type requires one).
 */
export const subjectBuilders: Record<SubjectKind, (owner: User, declared: SubjectDeclaration) => Promise<Record<string, number>>> = {
  // A finished job, so its SSE stream replays and ends instead of waiting.
  job: async (owner, d) => ({ [d.param]: (await createJob({ createdBy: owner.username, status: 'success', finishedAt: new Date() })).id }),
  container: async (owner, d) => ({ [d.param]: (await createContainer({ username: owner.username })).id }),
  vm: async (owner, d) => ({ [d.param]: (await createVm({ username: owner.username })).id }),
  credential: async (owner, d) => {
    const { record, credential } = await createRecordWithCredential(d.parent!.kind, owner.username);
    return { [d.parent!.param ?? 'id']: record.id, [d.param]: credential.id };
  },
  csvImport: async (owner, d) => {
    const kind = d.parent!.kind;
    const content = `${kind === 'container' ? 'hostname' : 'name'}\nmatrix-${crypto.randomBytes(4).toString('hex')}.example.org\n`;
    const row = await testContext().db.models.CsvImport.create({ kind, username: owner.username, filename: 'matrix.csv', content, appliedAt: null });
    return { [d.param]: row.id };
  },
  apiToken: async (owner, d) => {
    const row = await testContext().db.models.ApiToken.create({ userId: owner.id, name: 'matrix', tokenHash: crypto.randomBytes(32).toString('hex'), hint: 'berth_matrix', expiresAt: null });
    return { [d.param]: row.id };
  },
  node: async (_owner, d) => ({ [d.param]: (await createNode()).id }),
  user: async (_owner, d) => ({ [d.param]: (await createUser()).user.id }),
  accountRequest: async (_owner, d) => {
    const row = await testContext().db.models.AccountRequest.create({ name: 'Matrix', email: 'matrix@example.org', username: `req-${crypto.randomBytes(4).toString('hex')}`, reason: 'authorization matrix', endDate: null });
    return { [d.param]: row.id };
  },
  containerTemplate: async (_owner, d) => {
    const node = await createNode();
    const row = await testContext().db.models.ContainerTemplate.create({ nodeId: node.id, volid: 'local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst', osRelease: 'Debian 12' });
    return { [d.param]: row.id };
  },
  ipPool: async (_owner, d) => {
    const node = await createNode();
    const row = await testContext().db.models.IpPool.create({ nodeId: node.id, bridge: 'vmbr0', cidr: '10.99.0.0/24', gateway: '10.99.0.1', rangeStart: '10.99.0.10', rangeEnd: '10.99.0.20' });
    return { [d.param]: row.id };
  },
  containerRequest: async (owner, d) => {
    const container = await createContainer({ username: owner.username, status: 'pending-approval' });
    const row = await testContext().db.models.ContainerRequest.create({ containerId: container.id, hostname: container.hostname, username: owner.username, params: '{}', status: 'pending', overage: null, decidedBy: null, reason: null, jobId: null });
    return { [d.param]: row.id };
  },
  service: async (owner, d) => {
    const container = await createContainer({ username: owner.username });
    const row = await testContext().db.models.Service.create({ containerId: container.id, type: 'tcp', internalPort: 22, externalPort: null, externalHostname: null });
    return { [d.parent!.param ?? 'id']: container.id, [d.param]: row.id };
  },
  publicDomain: async (_owner, d) => {
    const row = await testContext().db.models.PublicDomain.create({ name: `matrix-${crypto.randomBytes(4).toString('hex')}.example.net`, certificatePath: null, keyPath: null });
    return { [d.param]: row.id };
  },
  // Rejected, so an admin's pin is a 409 (still access) and an unpin can never make this fake text the served one.
  edgeConfigVersion: async (_owner, d) => {
    const body = `# matrix ${crypto.randomBytes(4).toString('hex')}\n`;
    const row = await testContext().db.models.EdgeConfigVersion.create({ body, sha256: crypto.createHash('sha256').update(body).digest('hex'), status: 'rejected' });
    return { [d.param]: row.id };
  },
  outboxMessage: async (_owner, d) => {
    const row = await testContext().db.models.OutboxMessage.create({ category: 'test', template: 'test-email', recipients: '[]', subject: 'matrix', payload: 'x', status: 'failed', nextAttemptAt: new Date() });
    return { [d.param]: row.id };
  },
};

/**
 * Routes that answer an allowed caller with a status the matrix would otherwise read as a denial:
 * `/set-password` without a valid token is a 404 for everyone, by design.
 */
export const allowedStatusOverrides: Record<string, number[]> = {
  'GET /set-password': [404],
  'POST /set-password': [404],
  // The edge's routes take an edge token or an allow-listed address, never a session: 401/403 for everyone here.
  'GET /nginx.conf': [401, 403],
  'POST /edges/report': [401, 403],
  // A VM's owner reaches the command, which leaves VMs to administrators (Berth never creates them): 403.
  'POST /vms/:id/stop': [403],
  'POST /vms/:id/shutdown': [403],
};
