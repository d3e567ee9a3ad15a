import { expect } from 'chai';
import crypto from 'node:crypto';
import request from 'supertest';
import { addDays, todayUtc } from '../../src/inventory/list-query.js';
import { createContainer, createNode, createVm } from '../factories/inventory.js';
import { createJob } from '../factories/jobs.js';
import { createAdminUser, createUser } from '../factories/users.js';
import { useApp } from '../support/app.js';
import { testContext } from '../support/context.js';
import { login } from '../support/login.js';

const unique = () => crypto.randomBytes(4).toString('hex');
const hoursAgo = (h: number) => new Date(Date.now() - h * 3_600_000);
const DRIFT = JSON.stringify({ status: { berth: 'running', proxmox: 'stopped' } });

/** The text of the dashboard's links, tags stripped: each number reads with its words. */
function linkTexts(html: string): Map<string, { href: string; text: string }> {
  const out = new Map<string, { href: string; text: string }>();
  for (const m of html.matchAll(/<a class="stat[^"]*" href="([^"]+)" data-stat="([^"]+)">([\s\S]*?)<\/a>/g)) {
    out.set(m[2], { href: m[1].replace(/&amp;/g, '&'), text: m[3].replace(/<[^>]+>/g, '').replace(/\s+/g, ' ').trim() });
  }
  return out;
}

describe('dashboard: GET /', function () {
  this.timeout(60_000);
  const fixture = useApp();

  async function agentFor(admin: boolean) {
    const built = admin ? await createAdminUser({ username: `dash-admin-${unique()}` }) : await createUser({ username: `dash-${unique()}` });
    const agent = request.agent(fixture.app);
    await login(agent, built.user.username, built.password);
    return { agent, user: built.user };
  }

  const json = (agent: ReturnType<typeof request.agent>, path: string) => agent.get(path).set('Accept', 'application/json').expect(200);

  it('is for signed-in users: 401 for an API client without a session, the login page for a browser', async () => {
    await request(fixture.app).get('/').set('Accept', 'application/json').expect(401);
    const res = await request(fixture.app).get('/').set('Accept', 'text/html').expect(303);
    expect(res.headers.location).to.match(/^\/login/);
  });

  it("shows a user their own records only, every number a link to a list of exactly those rows, and no admin numbers", async () => {
    const { agent, user } = await agentFor(false);
    const today = todayUtc();
    const mine = { username: user.username };
    await createContainer({ ...mine, expiresAt: today });
    await createContainer({ ...mine, expiresAt: addDays(today, 3) });
    await createContainer({ ...mine, expiresAt: addDays(today, 10) });
    await createContainer({ ...mine, expiresAt: addDays(today, -1) });
    await createContainer({ ...mine, drift: DRIFT });
    await createVm({ ...mine, expiresAt: addDays(today, 7) });
    await createVm({ ...mine, drift: DRIFT });
    // Someone else's rows: never in this user's numbers.
    const other = `dash-other-${unique()}`;
    await createContainer({ username: other, expiresAt: addDays(today, 1), drift: DRIFT });
    await createVm({ username: other, expiresAt: addDays(today, 1) });
    await createJob({ createdBy: other, status: 'failure', finishedAt: hoursAgo(1) });
    // Jobs: one failed an hour ago (counted), one succeeded, one waits.
    await createJob({ createdBy: user.username, status: 'failure', finishedAt: hoursAgo(1) });
    await createJob({ createdBy: user.username, status: 'success', finishedAt: hoursAgo(1) });
    await createJob({ createdBy: user.username, status: 'pending' });

    const { body } = await json(agent, '/');
    expect(body.counts).to.deep.equal({ containers: 5, containersExpiring: 2, containersDrifted: 1, vms: 2, vmsExpiring: 1, vmsDrifted: 1, failedJobs: 1, pendingJobs: 1 });
    expect(body.links).to.deep.equal({
      containers: '/containers',
      containersExpiring: '/containers?expiring=7',
      containersDrifted: '/containers?drifted=1',
      vms: '/vms',
      vmsExpiring: '/vms?expiring=7',
      vmsDrifted: '/vms?drifted=1',
      failedJobs: '/jobs?status=failure&within=1',
      pendingJobs: '/jobs?status=pending',
    });
    expect(body.counts, 'no nodes or approvals for a user').not.to.have.any.keys('nodes', 'accountRequests', 'containerRequests');

    // Each link opens a list of exactly that many rows (the user's own: the lists are scoped too).
    for (const key of ['containers', 'containersExpiring', 'containersDrifted', 'vms', 'vmsExpiring', 'vmsDrifted', 'failedJobs', 'pendingJobs']) {
      const list = await json(agent, body.links[key]);
      expect(list.body.total, `${key}: ${body.links[key]}`).to.equal(body.counts[key]);
    }

    // The page: the same numbers as links whose text says what they count.
    const page = await agent.get('/').set('Accept', 'text/html').expect(200);
    const links = linkTexts(page.text);
    expect(links.get('containersExpiring')).to.deep.equal({ href: '/containers?expiring=7', text: '2 containers expiring within 7 days' });
    expect(links.get('vmsExpiring')?.text).to.equal('1 VM expiring within 7 days');
    expect(links.get('containersDrifted')?.text).to.equal('1 drifted container');
    expect(links.get('failedJobs')).to.deep.equal({ href: '/jobs?status=failure&within=1', text: '1 job failed in the last day' });
    expect(links.get('containers')?.text).to.equal('5 containers');
    expect([...links.keys()]).not.to.include('nodes');
    expect(page.text).not.to.contain('href="/nodes"');
    expect(page.text).to.contain('Your containers');
  });

  it('counts failed jobs of the last day only', async () => {
    const { agent, user } = await agentFor(false);
    await createJob({ createdBy: user.username, status: 'failure', finishedAt: hoursAgo(23) });
    await createJob({ createdBy: user.username, status: 'failure', finishedAt: hoursAgo(25) });
    await createJob({ createdBy: user.username, status: 'failure', finishedAt: hoursAgo(24 * 3) });
    const { body } = await json(agent, '/');
    expect(body.counts.failedJobs).to.equal(1);
  });

  it("shows an admin everyone's records, the approvals waiting and the nodes, each count agreeing with its list", async () => {
    const { agent } = await agentFor(true);
    const before = (await json(agent, '/')).body;
    expect(before.counts).to.have.all.keys('containers', 'containersExpiring', 'containersDrifted', 'vms', 'vmsExpiring', 'vmsDrifted', 'failedJobs', 'pendingJobs', 'accountRequests', 'containerRequests', 'nodes', 'nodesNotSynced');
    expect(before.links).to.include({ accountRequests: '/account-requests', containerRequests: '/containers/requests', nodes: '/nodes' });

    // New rows of a unique owner: each raises exactly its own numbers by one.
    const owner = `dash-owned-${unique()}`;
    const today = todayUtc();
    await createContainer({ username: owner, expiresAt: addDays(today, 2) });
    await createVm({ username: owner, drift: DRIFT });
    await createNode();
    await createJob({ createdBy: owner, status: 'failure', finishedAt: hoursAgo(2) });
    const { models } = testContext().db;
    await models.AccountRequest.create({ name: 'Dash Board', email: `${owner}@example.org`, username: owner, reason: 'testing the dashboard', endDate: null });
    const container = await createContainer({ username: owner, status: 'pending-approval' });
    await models.ContainerRequest.create({ containerId: container.id, hostname: container.hostname, username: owner, params: '{}', status: 'pending', overage: null, decidedBy: null, reason: null, jobId: null });

    const after = (await json(agent, '/')).body;
    const delta = Object.fromEntries(Object.keys(after.counts).map((k) => [k, after.counts[k] - before.counts[k]]));
    expect(delta).to.deep.equal({ containers: 2, containersExpiring: 1, containersDrifted: 0, vms: 1, vmsExpiring: 0, vmsDrifted: 1, failedJobs: 1, pendingJobs: 0, accountRequests: 1, containerRequests: 1, nodes: 1, nodesNotSynced: 0 });

    // The lists the numbers link to show the same totals (the whole inventory, as the admin sees it).
    for (const key of ['containers', 'containersExpiring', 'containersDrifted', 'vms', 'vmsExpiring', 'vmsDrifted']) {
      expect((await json(agent, after.links[key])).body.total, `${key}: ${after.links[key]}`).to.equal(after.counts[key]);
    }
    expect((await json(agent, '/nodes')).body.nodes).to.have.length(after.counts.nodes);
    expect((await json(agent, '/containers/requests')).body.pending).to.have.length(after.counts.containerRequests);
    const requests = (await json(agent, '/account-requests')).body.requests as { status: string }[];
    expect(requests.filter((r) => r.status === 'pending')).to.have.length(after.counts.accountRequests);

    const page = await agent.get('/').set('Accept', 'text/html').expect(200);
    const links = linkTexts(page.text);
    expect(links.get('nodes')?.href).to.equal('/nodes');
    expect(links.get('accountRequests')?.text).to.match(/^\d+ account requests? to review$/);
    expect(page.text).to.contain('Waiting for approval');
  });

  it('shows an admin how many nodes the last sync could not read, linking to the nodes, muted at 0', async () => {
    const { agent } = await agentFor(true);
    const before = (await json(agent, '/')).body;
    expect(before.links.nodesNotSynced).to.equal('/nodes');
    const hour = 3_600_000;
    const now = Date.now();
    // Counted: failed after its last read, and failed without ever being read.
    await createNode({ syncedAt: new Date(now - 24 * hour), syncFailedAt: new Date(now - hour), syncError: 'did not answer' });
    await createNode({ syncedAt: null, syncFailedAt: new Date(now - hour), syncError: 'connection refused' });
    // Not counted: read after an earlier failure, read through a cluster peer (both times equal), never synced.
    await createNode({ syncedAt: new Date(now - hour), syncFailedAt: new Date(now - 24 * hour) });
    const same = new Date(now - 2 * hour);
    await createNode({ syncedAt: same, syncFailedAt: same, syncError: 'read through a cluster peer; its own API URL failed: refused' });
    await createNode({ syncedAt: null, syncFailedAt: null });
    const after = (await json(agent, '/')).body;
    expect(after.counts.nodesNotSynced - before.counts.nodesNotSynced).to.equal(2);
    expect(after.counts.nodes - before.counts.nodes).to.equal(5);

    const page = await agent.get('/').set('Accept', 'text/html').expect(200);
    const link = linkTexts(page.text).get('nodesNotSynced')!;
    expect(link.href).to.equal('/nodes');
    expect(link.text).to.equal(`${after.counts.nodesNotSynced} ${after.counts.nodesNotSynced === 1 ? 'node' : 'nodes'} not read by the last sync`);
    expect(page.text).to.match(/<a class="stat" href="\/nodes" data-stat="nodesNotSynced">/);
    // A user sees no node numbers.
    const user = await agentFor(false);
    expect((await json(user.agent, '/')).body.counts).not.to.have.any.keys('nodesNotSynced');
  });

  it('shows 0 nodes not read muted', () => {
    // The view marks a zero count stat-zero (muted in public/css/berth.css); checked on a rendered stat.
    return import('ejs').then(async ({ default: ejs }) => {
      const html = await ejs.renderFile('views/home/index.ejs', { groups: [{ title: 'Cluster', stats: [{ key: 'nodesNotSynced', count: 0, href: '/nodes', label: 'nodes not read by the last sync' }] }] });
      expect(html).to.include('<a class="stat stat-zero" href="/nodes" data-stat="nodesNotSynced"><span class="stat-value">0</span> <span class="stat-label">nodes not read by the last sync</span></a>');
    });
  });
});
