// Honest state after a sync (issue 16): one unreachable node makes a partial sync, not a failed one;
// its records are not marked gone and keep the time Proxmox last confirmed them; each node's line
// is written as soon as that node is read, before the hung node's timeout; the pages show the state
// Berth knows with its age, and `unknown` for a record the last read of its node did not find.
import { expect } from 'chai';
import request from 'supertest';
import type { Container } from '../../../models/index.js';
import { Auditor } from '../../../src/audit/index.js';
import { importMachine } from '../../../src/inventory/drift-actions.js';
import { syncInventory } from '../../../src/inventory/sync.js';
import { enqueueJob } from '../../../src/jobs/enqueue.js';
import { SYNC_TASK } from '../../../src/jobs/tasks/inventory-sync.js';
import { Vault } from '../../../src/lib/vault.js';
import { loadDriftPage } from '../../../src/presenters/drift.js';
import { createJob } from '../../factories/jobs.js';
import { createUser } from '../../factories/users.js';
import { useApp } from '../../support/app.js';
import { testCommand } from '../../support/command.js';
import { testContext } from '../../support/context.js';
import { login } from '../../support/login.js';
import type { Db } from '../../../src/database.js';
import { withFreshDatabase } from '../../support/databases.js';
import { jobOutput, startRunner, waitForJob, waitForOutput } from '../../support/runner.js';
import { startSilentServer, type SilentServer } from '../../support/silent-tcp.js';
import { startSyncWorld, useSyncWorld } from './sync-fixture.js';

/**
 * Proxmox timeouts for the hung node: the call timeout several seconds, so a loaded machine cannot
 * blur "the other node's line came before the hung node's timeout" (checked by order, not by clock),
 * and well apart from the connect timeout.
 */
const TIMEOUT_MS = 5000;
const TIMEOUT_TEXT = '5 s';
const CONNECT_MS = 400;
/** A time MariaDB stores exactly (DATETIME keeps whole seconds). */
const wholeSecond = (ms: number) => new Date(Math.floor(ms / 1000) * 1000);

function deps() {
  const { db, config } = testContext();
  return { models: db.models, sequelize: db.sequelize, vault: Vault.fromConfig(config), config: { ...config, PROXMOX_TIMEOUT_MS: TIMEOUT_MS, PROXMOX_CONNECT_TIMEOUT_MS: CONNECT_MS }, auditor: new Auditor(db.models, null) };
}

describe('inventory: honest sync state', () => {
  const fixture = useApp();
  const w = useSyncWorld();
  let silent: SilentServer;
  let owner: string;
  beforeEach(async () => {
    silent = await startSilentServer();
    owner = (await createUser()).user.username;
  });
  afterEach(() => silent.close());

  const sync = (extra: Parameters<typeof syncInventory>[1] = {}) => syncInventory(deps(), { nodeIds: [w.n1.id, w.n2.id], ...extra });
  const models = () => testContext().db.models;
  const record = (nodeId: number, vmid: number) => models().Container.findOne({ where: { nodeId, vmid } }) as Promise<Container>;

  /** Every machine of this world imported (owned by a real user), then synced again: everything confirmed. */
  async function confirmedWorld(): Promise<Date> {
    await sync();
    const page = await loadDriftPage(models());
    for (const g of page.unknown.filter((m) => [w.n1.name, w.n2.name].includes(m.node))) {
      await importMachine(testCommand({ actor: { username: 'sync-honest' } }), { kind: g.kind, node: g.node, vmid: g.vmid, username: owner });
    }
    const at = wholeSecond(Date.now() - 3 * 3_600_000);
    await sync({ now: at });
    return at;
  }

  /** pve2 drops out of its cluster's view, and its own API URL is a server that accepts and never answers. */
  async function hangSecondNode(scheme: 'http' | 'https' = 'http') {
    w.s.sim.setNodeOnline(w.n2.name, false);
    await w.n2.update({ apiUrl: silent.url(scheme) });
  }

  it('with one node hung: partial, the others read and written, its records neither gone nor re-dated, each node\'s line before the timeout', async function () {
    this.timeout(30_000);
    const confirmedAt = await confirmedWorld();
    await hangSecondNode();
    await w.pve.tasks.wait(await w.pve.containers.delete(w.n1.name, 101), { pollMs: 10 });

    const events: Array<{ at: number; stream: string; text: string }> = [];
    const started = Date.now();
    const now = wholeSecond(Date.now());
    const report = await sync({ now, stdout: (text) => events.push({ at: Date.now(), stream: 'out', text }), stderr: (text) => events.push({ at: Date.now(), stream: 'err', text }) });

    // The result names the failed node, why, and what was tried.
    expect(report.failed).to.have.length(1);
    expect(report.failed[0].node).to.equal(w.n2.name);
    const url = silent.url().replace(/\./g, '\\.');
    expect(report.failed[0].error, 'names URL, duration, request').to.match(new RegExp(`^Proxmox at ${url} did not answer within ${TIMEOUT_TEXT} \\(GET ${url}/api2/json/(nodes|cluster/resources\\?type=vm)\\)$`));
    expect(report.summary).to.match(new RegExp(`^partial: 1 of 2 nodes read; node ${w.n2.name} not read \\(Proxmox at http://127\\.0\\.0\\.1:${silent.port} did not answer within ${TIMEOUT_TEXT}`));
    expect(report.summary).to.include('left as they were (not marked gone)');

    // Each node's line as soon as it is read: pve1's before pve2's timeout fires (order, not a clock
    // bound), and the hung node's error no earlier than its timeout.
    const n1Line = events.find((e) => e.stream === 'out' && e.text === `${w.n1.name}: 1 container, 1 VM\n`);
    const n2Error = events.find((e) => e.stream === 'err' && e.text.startsWith(`${w.n2.name}: `));
    expect(n1Line, 'pve1 reported').to.not.equal(undefined);
    expect(n2Error, 'pve2 reported').to.not.equal(undefined);
    expect(events.indexOf(n1Line!), 'pve1 did not wait for pve2').to.be.lessThan(events.indexOf(n2Error!));
    expect(n1Line!.at).to.be.at.most(n2Error!.at);
    expect(n2Error!.at - started, 'pve2 failed on its timeout').to.be.at.least(TIMEOUT_MS - 50);
    expect(events.at(-1)!.text).to.equal(`${report.summary}\n`);

    // Records on the hung node: not gone, and still dated by the sync that confirmed them.
    const db01 = await record(w.n2.id, 102);
    expect(db01.drift, 'not marked gone').to.equal(null);
    expect(db01.syncedAt!.getTime()).to.equal(confirmedAt.getTime());
    // Records on the node that was read: confirmed now; the deleted one gone, with the time of the sync that missed it, and its last sighting kept.
    const web01 = await record(w.n1.id, 100);
    expect(web01.syncedAt!.getTime()).to.equal(now.getTime());
    const build01 = await record(w.n1.id, 101);
    expect(JSON.parse(build01.drift!)).to.deep.equal({ gone: true, missedAt: now.toISOString() });
    expect(build01.syncedAt!.getTime(), 'last confirmed, not the sync that missed it').to.equal(confirmedAt.getTime());

    // Each node's stored result.
    await w.n1.reload();
    await w.n2.reload();
    expect(w.n1.syncedAt!.getTime()).to.equal(now.getTime());
    expect([w.n1.syncError, w.n1.syncFailedAt]).to.deep.equal([null, null]);
    expect(w.n2.syncedAt!.getTime()).to.equal(confirmedAt.getTime());
    expect(w.n2.syncFailedAt!.getTime()).to.equal(now.getTime());
    expect(w.n2.syncError).to.equal(report.failed[0].error);

    // The next sync with the node back reads it again and clears its error.
    w.s.sim.setNodeOnline(w.n2.name, true);
    await w.n2.update({ apiUrl: w.s.url });
    const back = await sync();
    expect(back.failed).to.deep.equal([]);
    expect(back.summary).to.equal('complete: 2 nodes read');
    await w.n2.reload();
    expect([w.n2.syncError, w.n2.syncFailedAt]).to.deep.equal([null, null]);
  });

  it('a node whose connection hangs fails on the connect timeout, saying so', async function () {
    this.timeout(30_000);
    await hangSecondNode('https');
    const started = Date.now();
    const report = await sync();
    expect(report.failed.map((f) => f.node)).to.deep.equal([w.n2.name]);
    // The message says which timeout; the clock only checks it was not the 5 s call timeout (4.6 s of slack).
    expect(Date.now() - started, 'within the connect timeout, not the call timeout').to.be.lessThan(TIMEOUT_MS);
    expect(report.failed[0].error).to.match(new RegExp(`^Proxmox at https://127\\.0\\.0\\.1:${silent.port} did not accept a connection within 400 ms \\(connect timeout; GET https://127\\.0\\.0\\.1:${silent.port}/api2/json/`));
  });

  /**
   * Runs `use` in a database of its own with a sync world in it (this file's nodes only: a sync job
   * reads every registered node, and the run's database holds other files' nodes, which it must
   * neither rewrite nor wait for), and a job runner on it with this file's timeouts.
   */
  async function inFreshWorld(timeouts: { call: number; connect: number }, use: (world: Awaited<ReturnType<typeof startSyncWorld>>, db: Db) => Promise<void>): Promise<void> {
    await withFreshDatabase(async (db, config) => {
      const world = await startSyncWorld();
      const runner = await startRunner({ config: { ...config, PROXMOX_TIMEOUT_MS: timeouts.call, PROXMOX_CONNECT_TIMEOUT_MS: timeouts.connect }, sequelize: db.sequelize, models: db.models });
      try {
        await use(world, db);
      } finally {
        await runner.close();
        await world.cleanup();
      }
    });
  }
  const enqueueSync = (db: Db) => enqueueJob(db.models, { task: SYNC_TASK, params: {}, createdBy: 'sync-honest', mayRunAdminTasks: true, subjectType: 'inventory', subjectId: null });

  it('runs as a job that succeeds with a partial summary naming the node, and whose page links to the drift page', async function () {
    this.timeout(60_000);
    await inFreshWorld({ call: TIMEOUT_MS, connect: CONNECT_MS }, async (world, db) => {
      world.s.sim.setNodeOnline(world.n2.name, false);
      await world.n2.update({ apiUrl: silent.url() });
      const job = await enqueueSync(db);
      const done = await waitForJob(job.id, 40_000);
      expect(done.status).to.equal('success');
      const out = await jobOutput(job.id, 'stdout');
      expect(out).to.include(`${world.n1.name}: 2 containers, 1 VM\n`);
      expect(out).to.match(new RegExp(`\npartial: 1 of 2 nodes read; node ${world.n2.name} not read \\(Proxmox at ${silent.url().replace(/\./g, '\\.')} did not answer within ${TIMEOUT_TEXT}`));
      expect(await jobOutput(job.id, 'stderr')).to.include(`${world.n2.name}: Proxmox at ${silent.url()} did not answer within ${TIMEOUT_TEXT}`);
    });

    // The page of a sync job (finished, so it is no pending sync of the run's database) links to the drift page.
    const { user, password } = await createUser({ role: 'admin' });
    const job = await createJob({ command: 'Sync the inventory with Proxmox', task: SYNC_TASK, params: '{}', createdBy: user.username, status: 'success', subjectType: 'inventory', finishedAt: new Date() });
    const agent = request.agent(fixture.app);
    await login(agent, user.username, password);
    const page = await agent.get(`/status/${job.id}`).expect(200);
    expect(page.text).to.match(/<a class="btn" href="\/inventory\/drift" id="sync-drift-link">/);
    const other = await createJob({ command: 'echo hi', createdBy: user.username });
    expect((await agent.get(`/status/${other.id}`).expect(200)).text).not.to.include('sync-drift-link');
  });

  it('a cancelled sync stops at once while a node hangs, not at its timeout', async function () {
    this.timeout(60_000);
    // A hang far longer than the wait below allows: the job must end by the cancel, not the timeout.
    const HANG_MS = 30_000;
    await inFreshWorld({ call: HANG_MS, connect: CONNECT_MS }, async (world, db) => {
      await world.n2.update({ apiUrl: silent.url() });
      world.s.sim.setNodeOnline(world.n2.name, false);
      const job = await enqueueSync(db);
      // pve1 has been read and pve2 hangs (its connection accepted, no answer).
      await waitForOutput(job.id, new RegExp(`^${world.n1.name}: `, 'm'), 20_000);
      expect(silent.accepted(), 'pve2 is being waited for').to.be.at.least(1);
      const cancelledAt = Date.now();
      await db.models.Job.update({ cancelRequestedAt: new Date(), error: 'cancelled by sync-honest' }, { where: { id: job.id } });
      const done = await waitForJob(job.id, HANG_MS - 5_000);
      expect(done.status).to.equal('cancelled');
      expect(Date.now() - cancelledAt, 'ended by the cancel, long before the hang timeout').to.be.lessThan(HANG_MS / 2);
      // Nothing of the cancelled sync was written: pve1's node result was not recorded.
      await world.n1.reload();
      expect(world.n1.syncedAt).to.equal(null);
    });
  });

  it('lists and shows the state Berth knows with its age, and unknown for a record the last read did not find', async function () {
    this.timeout(30_000);
    const confirmedAt = await confirmedWorld();
    await hangSecondNode();
    await w.pve.tasks.wait(await w.pve.containers.delete(w.n1.name, 101), { pollMs: 10 });
    const now = wholeSecond(Date.now() - 60 * 60_000);
    await sync({ now });
    const { user, password } = await createUser({ role: 'admin' });
    const agent = request.agent(fixture.app);
    await login(agent, user.username, password);
    const stamp = (d: Date) => `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;

    const rows = async (nodeId: number) => (await agent.get(`/containers?node=${nodeId}`).set('Accept', 'application/json').expect(200)).body.containers as Array<{ vmid: number; status: string; state: Record<string, unknown> }>;
    const onN1 = Object.fromEntries((await rows(w.n1.id)).map((r) => [r.vmid, r]));
    expect(onN1[101].status, 'the stored status is kept').to.equal('stopped');
    expect(onN1[101].state).to.include({ status: 'unknown', known: 'unknown', berthStatus: 'stopped', label: `unknown — not found by the sync of ${stamp(now)}`, missedAt: now.toISOString(), seenAt: confirmedAt.toISOString() });
    expect(onN1[100].state).to.include({ status: 'running', known: 'confirmed', label: 'running, seen 1 h ago' });
    const [db01] = await rows(w.n2.id);
    expect(db01.state, 'the hung node\'s record: what Berth knows, and how old').to.include({ status: 'running', known: 'confirmed', label: 'running, seen 3 h ago', seenAt: confirmedAt.toISOString() });

    const list = (await agent.get(`/containers?node=${w.n1.id}`).expect(200)).text;
    expect(list).to.match(/<td class="record-state" data-known="unknown"><span class="status status-unknown">unknown<\/span>\s*<span class="muted state-note">not found by the sync of [^<]+; Berth had stopped<\/span><\/td>/);
    expect(list).not.to.match(/data-known="unknown"><span class="status status-running">/);
    expect(list).to.match(/<div class="table-scroll" role="region" aria-label="containers" tabindex="0">/);

    const gone = await record(w.n1.id, 101);
    const show = (await agent.get(`/containers/${gone.id}`).expect(200)).text;
    expect(show).to.match(/<div class="alert alert-warning drift-gone" role="alert">\s*<p><strong>Gone from Proxmox:<\/strong> the sync of [^<]+ did not find this container on /);
    expect(show).to.include(`Berth last saw it stopped on ${stamp(confirmedAt)} (3 h ago)`);
    expect(show).to.include('<a href="/inventory/drift">Review it on the drift page</a>');
    expect(show).to.match(/<th>Last seen in Proxmox<\/th><td class="record-seen">[^<]+ \(3 h ago\)<\/td>/);
    expect(show).to.match(/<h1 class="panel-title">[^<]+ <span class="status status-unknown">unknown<\/span><\/h1>/);

    // An owner (not an admin) sees the warning too, without a link to a page they may not open.
    const ownerAgent = request.agent(fixture.app);
    const ownerUser = await createUser();
    await gone.update({ username: ownerUser.user.username }, { silent: true });
    await login(ownerAgent, ownerUser.user.username, ownerUser.password);
    const ownerShow = (await ownerAgent.get(`/containers/${gone.id}`).expect(200)).text;
    expect(ownerShow).to.include('Gone from Proxmox').and.not.include('href="/inventory/drift"');

    // The node pages say which node the last sync could not read, and why.
    const nodes = (await agent.get('/nodes').set('Accept', 'application/json').expect(200)).body.nodes as Array<{ id: number; sync: Record<string, unknown> }>;
    const n2 = nodes.find((n) => n.id === w.n2.id)!;
    expect(n2.sync).to.include({ result: 'failed' });
    expect(String(n2.sync.label)).to.match(new RegExp(`^not read by the sync of ${stamp(now)}: Proxmox at http://127\\.0\\.0\\.1:${silent.port} did not answer within ${TIMEOUT_TEXT.replace('.', '\\.')}`));
    expect(nodes.find((n) => n.id === w.n1.id)!.sync).to.include({ result: 'read' });
    const n2Page = (await agent.get(`/nodes/${w.n2.id}`).expect(200)).text;
    expect(n2Page).to.include('<div class="alert alert-error node-sync-failed" role="alert">').and.include(`did not answer within ${TIMEOUT_TEXT}`);
  });
});
