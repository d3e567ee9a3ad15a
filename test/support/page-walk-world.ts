import crypto from 'node:crypto';
import { issueExtendLink } from '../../src/expiry/extend-link.js';
import { issuePasswordLink } from '../../src/services/passwordLinks.js';
import { createCredential } from '../factories/credentials.js';
import { createDomain, createService } from '../factories/edge.js';
import { createContainer, createNode, createVm, randomMac, uniqueVmid } from '../factories/inventory.js';
import { createJob } from '../factories/jobs.js';
import { createAdminUser, createUser } from '../factories/users.js';
import type { Config } from '../../config/index.js';
import type { Db } from '../../src/database.js';

const hex = (n: number) => crypto.randomBytes(n).toString('hex');

/** Who a visit is made as: a signed-in admin, a signed-in ordinary user, or nobody (public pages). */
export type WalkRole = 'admin' | 'user' | 'anonymous';

/** One page of the walk: a URL (path and query) and a short name for its screenshot. */
export interface WalkPage {
  url: string;
  slug: string;
  /** Who visits it; by default everyone the route's access level admits (public → anonymous only). */
  roles?: WalkRole[];
  /** The status the page answers with, 200 unless said (an error page is a page too). */
  status?: number;
  /**
   * For a page that only a form's answer shows (a revealed secret, a form with its field errors):
   * after loading `url`, fill these fields (selector → value), tick the `check` boxes and press `press`; the page walked is
   * the answer, with `status`. A data-confirm question is accepted.
   */
  submit?: { fill?: Record<string, string>; check?: string[]; press: string };
}

/**
 * Everything the pages need to show real content, owned by one ordinary user (so both the admin
 * and that user see it): a container and a VM on a node, with credentials, a service, expiry dates,
 * a finished job with output, CSV imports, plus the admin-only objects (account and container
 * requests, IP pool, template, domain, edge version, outbox message, notification log, API token).
 * Returns the signed-in identities and the pages to walk.
 */
export async function buildWalkWorld({ db, config }: { db: Db; config: Config }) {
  const m = db.models;
  const admin = await createAdminUser({ displayName: 'Walk Admin', email: 'walk-admin@example.org' });
  const user = await createUser({ displayName: 'Walk User', email: 'walk-user@example.org' });
  const owner = user.user.username;
  const node = await createNode({ name: `pve-walk-${hex(2)}`, apiTokenId: 'berth@pve!walk', apiTokenSecret: 'secret' });

  const expiresAt = new Date(Date.now() + 5 * 86400_000).toISOString().slice(0, 10);
  const container = await createContainer({
    username: owner, nodeId: node.id, vmid: uniqueVmid(), status: 'running', tags: 'web,walk', purpose: 'a page-walk container with a rather long purpose text that must wrap on a phone',
    notes: 'Notes that go on and on: https://example.org/a/very/long/url/that/does/not/break/easily/because/it/has/no/spaces/at/all', expiresAt,
  });
  const vm = await createVm({ username: owner, nodeId: node.id, vmid: uniqueVmid(), status: 'stopped', tags: 'win', purpose: 'a page-walk VM', expiresAt });
  const spare = await createContainer({ username: owner, status: 'stopped', tags: 'walk' });
  await createCredential({ containerId: container.id, label: 'root', username: 'root', sshKey: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGwalkwalkwalkwalkwalkwalkwalkwalkwalkwalk walk@example.org' });
  await createCredential({ virtualMachineId: vm.id, label: 'Administrator', username: 'Administrator' });

  // The drift page with something in each section: machines Proxmox has that Berth does not (one is
  // imported through the confirm page below), a record gone from Proxmox (forgotten and re-linked
  // through their confirm pages below: the third unknown machine has its MAC), and one whose fields differ.
  const unknownVmid = uniqueVmid();
  const goneMac = randomMac();
  await m.MachineSnapshot.bulkCreate([unknownVmid, uniqueVmid()].map((vmid, i) => ({
    kind: 'lxc', node: node.name, vmid, name: `walk-unknown-${hex(3)}-${i}`, status: 'running', macAddress: null, ipv4Address: null, osName: 'debian', syncJobId: null, seenAt: new Date(),
  })));
  const goneContainer = await createContainer({ username: owner, nodeId: node.id, vmid: uniqueVmid(), status: 'running', macAddress: goneMac, drift: JSON.stringify({ gone: true, missedAt: new Date().toISOString() }) });
  await m.MachineSnapshot.create({ kind: 'lxc', node: node.name, vmid: uniqueVmid(), name: `walk-moved-${hex(3)}`, status: 'running', macAddress: goneMac, ipv4Address: null, osName: 'debian', syncJobId: null, seenAt: new Date() });
  await createContainer({ username: owner, nodeId: node.id, vmid: uniqueVmid(), status: 'running', drift: JSON.stringify({ fields: { status: { berth: 'running', proxmox: 'stopped' } } }) });

  const domain = await createDomain({ userClaimable: true });
  const service = await createService({ containerId: container.id, type: 'http', externalHostname: `${container.hostname.split('.')[0]}.${domain.name}` });
  await createService({ containerId: container.id, type: 'tcp', internalPort: 22 });

  const job = await createJob({ createdBy: owner, command: 'echo walk', status: 'success', startedAt: new Date(Date.now() - 5000), finishedAt: new Date(), exitCode: 0 });
  await m.JobOutput.bulkCreate([
    { jobId: job.id, seq: 1, stream: 'stdout', output: 'walking the pages\n' },
    { jobId: job.id, seq: 2, stream: 'stderr', output: 'warning: a line on stderr\n' },
  ]);
  await createJob({ createdBy: owner, command: 'false', status: 'failure', startedAt: new Date(), finishedAt: new Date(), exitCode: 1, error: 'exit code 1' });

  const csv = (kind: 'container' | 'vm') => `${kind === 'container' ? 'hostname' : 'name'},purpose\nwalk-${hex(3)}.example.org,imported in the walk\n`;
  const ctImport = await m.CsvImport.create({ kind: 'container', username: owner, filename: 'walk.csv', content: csv('container'), appliedAt: null });
  const vmImport = await m.CsvImport.create({ kind: 'vm', username: owner, filename: 'walk.csv', content: csv('vm'), appliedAt: null });

  await m.AccountRequest.create({ name: 'Walk Requester', email: 'walk-req@example.org', username: `req-${hex(3)}`, reason: 'to see the requests page', endDate: null });
  const pending = await createContainer({ username: owner, status: 'pending-approval' });
  await m.ContainerRequest.create({ containerId: pending.id, hostname: pending.hostname, username: owner, params: '{}', status: 'pending', overage: null, decidedBy: null, reason: null, jobId: null });
  await m.ContainerTemplate.create({ nodeId: node.id, volid: 'local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst', osRelease: 'Debian 12' });
  const pool = await m.IpPool.create({ nodeId: node.id, bridge: 'vmbr0', cidr: '10.98.0.0/24', gateway: '10.98.0.1', rangeStart: '10.98.0.10', rangeEnd: '10.98.0.20' });
  const body = `# page walk ${hex(4)}\nserver { listen 80; }\n`;
  const version = await m.EdgeConfigVersion.create({ body, sha256: crypto.createHash('sha256').update(body).digest('hex'), status: 'rejected', reason: 'page walk' });
  const body2 = `${body}server { listen 443 ssl; server_name walk.example.net; }\n`;
  const version2 = await m.EdgeConfigVersion.create({ body: body2, sha256: crypto.createHash('sha256').update(body2).digest('hex'), status: 'rejected', reason: 'page walk, changed' });
  const message = await m.OutboxMessage.create({ category: 'test', template: 'test-email', recipients: JSON.stringify(['walk-user@example.org']), subject: 'Page walk message', payload: 'x', status: 'failed', nextAttemptAt: new Date() });
  await m.NotificationLog.create({ itemType: 'container', itemId: container.id, itemLabel: container.hostname, expiresOn: expiresAt, username: owner, notice: '7d', scanDay: expiresAt, outboxId: message.id, jobId: job.id });
  await m.ApiToken.create({ userId: user.user.id, name: 'walk token', tokenHash: crypto.randomBytes(32).toString('hex'), hint: 'berth_walk', expiresAt: null });

  // One-time links, made the way Berth makes them.
  const newcomer = await createUser({ displayName: 'Walk Newcomer' });
  const setPassword = new URL(await issuePasswordLink(config, newcomer.user));
  const extend = new URL(await db.sequelize.transaction((t) => issueExtendLink({ models: m, config }, { itemType: 'container', itemId: container.id, username: owner, expiresOn: expiresAt }, new Date(), t)));

  const pages: WalkPage[] = [
    { url: '/login', slug: 'login' },
    { url: '/register', slug: 'register' },
    { url: setPassword.pathname + setPassword.search, slug: 'set-password' },
    { url: '/', slug: 'dashboard' },
    { url: '/account', slug: 'account' },
    { url: '/tokens', slug: 'tokens' },
    { url: '/account-requests', slug: 'account-requests' },
    { url: '/users', slug: 'users' },
    { url: `/users/${user.user.id}`, slug: 'user' },
    { url: '/jobs', slug: 'jobs' },
    { url: `/status/${job.id}`, slug: 'job-status' },
    { url: '/nodes', slug: 'nodes' },
    { url: '/nodes/new', slug: 'node-new' },
    { url: `/nodes/${node.id}`, slug: 'node' },
    { url: `/nodes/${node.id}/edit`, slug: 'node-edit' },
    { url: '/inventory/drift', slug: 'drift' },
    { url: '/audit', slug: 'audit' },
    { url: '/admin/templates', slug: 'templates' },
    { url: '/admin/ip-pools', slug: 'ip-pools' },
    { url: `/admin/ip-pools/${pool.id}`, slug: 'ip-pool' },
    { url: '/admin/quotas', slug: 'quotas' },
    { url: '/containers/requests', slug: 'container-requests' },
    { url: '/containers/new', slug: 'container-new' },
    { url: `/containers/${container.id}/services`, slug: 'services' },
    { url: `/containers/${container.id}/services/${service.id}`, slug: 'service' },
    { url: '/admin/domains', slug: 'domains' },
    { url: `/admin/domains/${domain.id}`, slug: 'domain' },
    { url: '/admin/edge', slug: 'edge' },
    { url: `/admin/edge/diff?from=${version.id}&to=${version2.id}`, slug: 'edge-diff' },
    { url: `/admin/edge/versions/${version.id}`, slug: 'edge-version' },
    { url: '/expiry', slug: 'expiry' },
    // The extend link is the owner's: anyone else is told it is not theirs.
    { url: extend.pathname + extend.search, slug: 'expiry-link', roles: ['user'] },
    { url: '/admin/expiry', slug: 'expiry-settings' },
    { url: '/admin/notifications', slug: 'notifications' },
    { url: '/admin/mail', slug: 'outbox' },
    { url: `/admin/mail/${message.id}`, slug: 'outbox-message' },
    { url: '/containers/import', slug: 'container-import' },
    { url: `/containers/import/${ctImport.id}`, slug: 'container-import-preview' },
    { url: '/vms/import', slug: 'vm-import' },
    { url: `/vms/import/${vmImport.id}`, slug: 'vm-import-preview' },
    { url: '/containers', slug: 'containers' },
    { url: '/containers?q=walk&status=running', slug: 'containers-filtered' },
    { url: '/vms', slug: 'vms' },
    { url: `/containers/${container.id}/credentials`, slug: 'container-credentials' },
    { url: `/vms/${vm.id}/credentials`, slug: 'vm-credentials' },
    { url: '/containers/register', slug: 'container-register' },
    { url: `/containers/${container.id}`, slug: 'container' },
    { url: `/containers/${container.id}/edit`, slug: 'container-edit' },
    { url: '/vms/new', slug: 'vm-new' },
    { url: `/vms/${vm.id}`, slug: 'vm' },
    { url: `/vms/${vm.id}/edit`, slug: 'vm-edit' },
    // Pages that only a form's answer shows.
    { url: `/containers/${container.id}/credentials`, slug: 'credential-reveal', roles: ['admin', 'user'], submit: { press: '#credentials button:has-text("Reveal")' } },
    { url: '/account', slug: 'account-password-errors', roles: ['admin', 'user'], status: 422, submit: { press: 'form[action="/account/password"] button[type=submit]' } },
    // Not ticked: the delete form comes back with its message, and nothing is deleted.
    { url: `/containers/${spare.id}`, slug: 'container-delete-unconfirmed', roles: ['admin', 'user'], status: 422, submit: { press: `form[action="/containers/${spare.id}/delete"] button[type=submit]` } },
    {
      url: '/register', slug: 'register-submitted', roles: ['anonymous'], status: 201,
      submit: { fill: { '#name': 'Walk Registrant', '#email': 'walk-registrant@example.org', '#username': `walkreg${hex(3)}`, '#reason': 'to see the answer page' }, press: 'form button[type=submit]' },
    },
    {
      url: '/inventory/drift', slug: 'drift-confirm', roles: ['admin'],
      submit: { fill: { '#drift-import-form input[name=username]': owner }, check: [`input[name=machines][value="lxc/${node.name}/${unknownVmid}"]`], press: '#drift-import-form button[type=submit]' },
    },
    {
      url: '/inventory/drift', slug: 'drift-forget-confirm', roles: ['admin'],
      submit: { check: [`input[name=records][value="container/${goneContainer.id}"]`], press: '#drift-gone-form button:has-text("Forget selected")' },
    },
    {
      url: '/inventory/drift', slug: 'drift-relink-confirm', roles: ['admin'],
      submit: { check: [`input[name=records][value="container/${goneContainer.id}"]`], press: '#drift-gone-form button:has-text("Re-link selected")' },
    },
    // Error pages are pages too.
    { url: '/containers/999999999', slug: 'error-404', roles: ['admin', 'user'], status: 404 },
    { url: '/nodes', slug: 'error-403', roles: ['user'], status: 403 },
  ];
  return { admin, user, node, container, vm, job, pages };
}

export type WalkWorld = Awaited<ReturnType<typeof buildWalkWorld>>;
