import crypto from 'node:crypto';
import type { User } from '../../models/index.js';
import { createRecordWithCredential } from '../factories/credentials.js';
import { createContainer, createNode, createVm } from '../factories/inventory.js';
import { createUser } from '../factories/users.js';
import { testContext } from './context.js';

/**
 * How the authorization matrix (test/integration/route-policies.test.ts) gets a real object for a
 * route with `:params`. One entry per route path pattern (any method):
 *
 * - `owned: true`: the object belongs to `owner` (a user-scoped resource). The owner and admins
 *   must get through; another user must get 404, never 403 (existence is not revealed).
 * - `owned: false`: an admin-level object with no owner (users, account requests): only the
 *   route's access level decides.
 *
 * A new resource with `:id` routes adds an entry here; a route with params and no entry fails the
 * matrix with a message naming it.
 */
export interface RouteFixture {
  owned: boolean;
  /** Creates the object (owned by `owner` when `owned`) and returns the concrete path. */
  build(owner: User): Promise<string>;
}

const unique = () => crypto.randomBytes(4).toString('hex');

/** A finished job, so its SSE stream replays and ends instead of waiting. */
const job = (suffix: (id: number) => string): RouteFixture => ({
  owned: true,
  async build(owner) {
    const row = await testContext().db.models.Job.create({ command: 'true', createdBy: owner.username, status: 'success', finishedAt: new Date() } as never);
    return suffix(row.id);
  },
});

const targetUser = (suffix: string): RouteFixture => ({
  owned: false,
  async build() {
    const { user } = await createUser();
    return `/users/${user.id}${suffix}`;
  },
});

const accountRequest = (suffix: string): RouteFixture => ({
  owned: false,
  async build() {
    const row = await testContext().db.models.AccountRequest.create({ name: 'Matrix', email: 'matrix@example.org', username: `req-${unique()}`, reason: 'authorization matrix', endDate: null });
    return `/account-requests/${row.id}${suffix}`;
  },
});

export const authzFixtures: Record<string, RouteFixture> = {
  // Container and VM record pages (src/routes/inventory-records.ts): owned through Containers/VirtualMachines.username.
  ...Object.fromEntries(
    (['/containers', '/vms'] as const).flatMap((base) =>
      ['', '/edit', '/delete', '/owner'].map((suffix): [string, RouteFixture] => [
        `${base}/:id${suffix}`,
        {
          owned: true,
          async build(owner) {
            const record = base === '/containers' ? await createContainer({ username: owner.username }) : await createVm({ username: owner.username });
            return `${base}/${record.id}${suffix}`;
          },
        },
      ]),
    ),
  ),
  '/tokens/:id/revoke': {
    owned: true,
    async build(owner) {
      const row = await testContext().db.models.ApiToken.create({ userId: owner.id, name: 'matrix', tokenHash: crypto.randomBytes(32).toString('hex'), hint: 'berth_matrix', expiresAt: null });
      return `/tokens/${row.id}/revoke`;
    },
  },
  '/users/:id': targetUser(''),
  '/users/:id/disable': targetUser('/disable'),
  '/users/:id/enable': targetUser('/enable'),
  '/users/:id/role': targetUser('/role'),
  '/users/:id/reset-password': targetUser('/reset-password'),
  '/account-requests/:id/approve': accountRequest('/approve'),
  '/account-requests/:id/reject': accountRequest('/reject'),
  // Jobs (owner = Jobs.createdBy).
  '/jobs/:id': job((id) => `/jobs/${id}`),
  '/jobs/:id/status': job((id) => `/jobs/${id}/status`),
  '/jobs/:id/cancel': job((id) => `/jobs/${id}/cancel`),
  '/status/:jobId': job((id) => `/status/${id}`),
  '/api/stream/:jobId': job((id) => `/api/stream/${id}`),
  // Credential vault (src/routes/credentials.ts): the parent container or VM is owned by `owner`.
  ...Object.fromEntries(
    (['container', 'vm'] as const).flatMap((kind) => {
      const base = kind === 'container' ? '/containers' : '/vms';
      const entry = (suffix: string): RouteFixture => ({
        owned: true,
        async build(owner) {
          const { record, credential } = await createRecordWithCredential(kind, owner.username);
          return `${base}/${record.id}${suffix.replace(':credentialId', String(credential.id))}`;
        },
      });
      return ['/credentials', '/credentials/:credentialId', '/credentials/:credentialId/reveal', '/credentials/:credentialId/delete', ...(kind === 'vm' ? ['/rdp'] : [])].map((suffix) => [`${base}/:id${suffix}`, entry(suffix)]);
    }),
  ),
  // Nodes (src/routes/nodes.ts): admin-only objects with no owner.
  ...Object.fromEntries(
    ['', '/edit', '/delete', '/test'].map((suffix): [string, RouteFixture] => [
      `/nodes/:id${suffix}`,
      { owned: false, build: async () => `/nodes/${(await createNode()).id}${suffix}` },
    ]),
  ),
  // CSV imports (src/routes/inventory-import.ts): an upload belongs to its uploader.
  ...Object.fromEntries(
    (['container', 'vm'] as const).flatMap((kind) => {
      const base = kind === 'container' ? '/containers' : '/vms';
      const entry = (suffix: string): RouteFixture => ({
        owned: true,
        async build(owner) {
          const content = `${kind === 'container' ? 'hostname' : 'name'}\nmatrix-${unique()}.example.org\n`;
          const row = await testContext().db.models.CsvImport.create({ kind, username: owner.username, filename: 'matrix.csv', content, appliedAt: null });
          return `${base}/import/${row.id}${suffix}`;
        },
      });
      return ['', '/apply'].map((suffix) => [`${base}/import/:importId${suffix}`, entry(suffix)]);
    }),
  ),
};

/**
 * Routes that answer an allowed caller with a status the matrix would otherwise read as a denial:
 * `/set-password` without a valid token is a 404 for everyone, by design.
 */
export const allowedStatusOverrides: Record<string, number[]> = {
  'GET /set-password': [404],
  'POST /set-password': [404],
};
