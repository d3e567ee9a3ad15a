// Sync with Proxmox against the simulator: the job through a real runner, drift for machines changed
// behind Berth's back (added, removed, stopped, re-addressed, renamed, migrated), a node that fails,
// one read per machine when several Berth nodes share a cluster, and the schedule's one-per-slot rule.
import { expect } from 'chai';
import request from 'supertest';
import { Op } from 'sequelize';
import type { Container, VirtualMachine } from '../../../models/index.js';
import { Auditor } from '../../../src/audit/index.js';
import { importMachine } from '../../../src/inventory/drift-actions.js';
import { parseDrift } from '../../../src/inventory/drift.js';
import { syncInventory } from '../../../src/inventory/sync.js';
import { SyncScheduler } from '../../../src/jobs/scheduler.js';
import { createLogger } from '../../../src/lib/logger.js';
import { Vault } from '../../../src/lib/vault.js';
import { loadDriftPage } from '../../../src/presenters/drift.js';
import { createUser } from '../../factories/users.js';
import { useApp } from '../../support/app.js';
import { testCommand } from '../../support/command.js';
import { testContext } from '../../support/context.js';
import { csrfToken, login } from '../../support/login.js';
import { jobOutput, startRunner, waitForJob } from '../../support/runner.js';
import { useSyncWorld } from './sync-fixture.js';

const TEMPLATE = 'local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst';

function deps() {
  const { db, config } = testContext();
  return { models: db.models, sequelize: db.sequelize, vault: Vault.fromConfig(config), config, auditor: new Auditor(db.models, null) };
}

describe('inventory: sync with Proxmox', () => {
  const fixture = useApp();
  const w = useSyncWorld();

  const sync = (extra: Parameters<typeof syncInventory>[1] = {}) => syncInventory(deps(), { nodeIds: [w.n1.id, w.n2.id], ...extra });
  const mine = async () => {
    const page = await loadDriftPage(testContext().db.models);
    const names = [w.n1.name, w.n2.name];
    const ids = async (model: typeof Container | typeof VirtualMachine) => (await (model as typeof Container).findAll({ where: { nodeId: [w.n1.id, w.n2.id] } })).map((r) => r.id);
    const [cts, vms] = await Promise.all([ids(testContext().db.models.Container), ids(testContext().db.models.VirtualMachine)]);
    const ours = (r: { kind: string; id: number }) => (r.kind === 'container' ? cts : vms).includes(r.id);
    return { ...page, unknown: page.unknown.filter((g) => names.includes(g.node)), gone: page.gone.filter(ours), drifted: page.drifted.filter(ours) };
  };
  /** Imports every machine of the last sync on this world's nodes, owned by a new user (the owner rule wants a known name). */
  async function importAll() {
    const owner = (await createUser()).user.username;
    for (const g of (await mine()).unknown) await importMachine(testCommand({ actor: { username: 'sync-test' } }), { kind: g.kind, node: g.node, vmid: g.vmid, username: owner });
  }
  const wait = async (upid: string) => w.pve.tasks.wait(upid, { pollMs: 10 });

  it('runs as a job through the runner: every node read, seed machines listed as unknown, the enqueue audited', async function () {
    this.timeout(60_000);
    const { user, password } = await createUser({ role: 'admin' });
    const agent = request.agent(fixture.app);
    await login(agent, user.username, password);
    const csrf = await csrfToken(agent, '/inventory/drift');
    const res = await agent.post('/inventory/sync').set('Accept', 'application/json').set('X-CSRF-Token', csrf).expect(201);
    const { models } = testContext().db;
    const queued = (await models.Job.findByPk(res.body.id))!;
    expect(queued).to.include({ task: 'inventory-sync', createdBy: user.username, subjectType: 'inventory', status: 'pending' });
    const audit = await models.AuditEvent.findAll({ where: { action: 'job.enqueue', objectId: String(queued.id) } });
    expect(audit.map((e) => e.actor)).to.deep.equal([user.username]);

    const runner = await startRunner();
    try {
      const job = await waitForJob(queued.id, 30_000);
      expect(['success', 'failure']).to.include(job.status);
    } finally {
      await runner.close();
    }
    const out = await jobOutput(queued.id, 'stdout');
    expect(out).to.include(`${w.n1.name}: 2 containers, 1 VM\n`).and.include(`${w.n2.name}: 1 container, 1 VM\n`);
    // Other test files' nodes may fail to answer; this world's never do.
    const err = await jobOutput(queued.id, 'stderr');
    expect(err).not.to.include(w.n1.name).and.not.to.include(w.n2.name);

    const unknown = (await mine()).unknown.map((g) => [g.kind, g.node, g.vmid, g.name, g.status, g.ipv4Address]);
    expect(unknown).to.deep.equal([
      ['lxc', w.n1.name, 100, w.name('web01'), 'running', w.ip('10.20.0.100')],
      ['lxc', w.n1.name, 101, w.name('build01'), 'stopped', null],
      ['qemu', w.n1.name, 200, w.name('win-rdp01'), 'running', w.ip('10.20.0.50')],
      ['lxc', w.n2.name, 102, w.name('db01'), 'running', w.ip('10.20.0.12')],
      ['qemu', w.n2.name, 201, w.name('legacy-vm'), 'stopped', null],
    ]);
    const snap = await models.MachineSnapshot.findOne({ where: { node: w.n1.name, vmid: 100 } });
    expect(snap!.macAddress).to.match(/^bc:24:11(:[0-9a-f]{2}){3}$/);
    expect(snap!.syncJobId).to.equal(queued.id);
  });

  it('records drift for machines changed behind Berth\'s back, and changes no inventory field', async function () {
    this.timeout(30_000);
    const { models } = testContext().db;
    await sync();
    await importAll();
    const first = await sync();
    expect(first).to.include({ machines: 5, inStep: 5, drifted: 0, gone: 0 });
    expect(await mine()).to.deep.include({ unknown: [], gone: [], drifted: [] });

    // Behind Berth's back: a new container, one deleted, one stopped, one re-addressed, a VM renamed, one migrated.
    await wait(await w.pve.containers.create(w.n1.name, { vmid: 300, ostemplate: TEMPLATE, rootfs: 'local-lvm:8', hostname: w.name('new01') }));
    await wait(await w.pve.containers.delete(w.n1.name, 101));
    await wait(await w.pve.containers.stop(w.n1.name, 100));
    const newIp = w.ip('10.20.0.77');
    await w.pve.containers.updateConfig(w.n2.name, 102, { net0: `name=eth0,bridge=vmbr0,hwaddr=BC:24:11:0A:0B:0C,ip=${newIp}/24,gw=${w.ip('10.20.0.1')}` });
    w.s.sim.state.guests.get(200)!.config.name = w.name('win-renamed');
    w.s.sim.state.guests.get(201)!.node = w.n1.name;

    const before = await Promise.all([models.Container.findAll({ where: { nodeId: [w.n1.id, w.n2.id] }, raw: true }), models.VirtualMachine.findAll({ where: { nodeId: [w.n1.id, w.n2.id] }, raw: true })]);
    const auditsBefore = await models.AuditEvent.count();
    const report = await sync();
    expect(report).to.include({ machines: 5, inStep: 0, drifted: 4, gone: 1 });

    const page = await mine();
    expect(page.unknown.map((g) => [g.kind, g.node, g.vmid, g.name])).to.deep.equal([['lxc', w.n1.name, 300, w.name('new01')]]);
    expect(page.gone.map((r) => r.name)).to.deep.equal([w.name('build01')]);
    const drift = Object.fromEntries(page.drifted.map((r) => [r.name, Object.fromEntries(r.fields.map((f) => [f.field, [f.berth, f.proxmox]]))]));
    const db01 = before[0].find((r) => r.vmid === 102)!;
    expect(drift).to.deep.equal({
      [w.name('web01')]: { status: ['running', 'stopped'] },
      [w.name('db01')]: { macAddress: [db01.macAddress, 'bc:24:11:0a:0b:0c'], ipv4Address: [w.ip('10.20.0.12'), newIp] },
      [w.name('win-rdp01')]: { name: [w.name('win-rdp01'), w.name('win-renamed')] },
      [w.name('legacy-vm')]: { nodeId: [w.n2.name, w.n1.name] },
    });
    // The migrated VM is not also listed as unknown on its new node (checked above), and the
    // stored drift has the documented shape.
    const web01 = (await models.Container.findOne({ where: { vmid: 100, nodeId: w.n1.id } }))!;
    expect(parseDrift(web01.drift)).to.deep.equal({ fields: { status: { berth: 'running', proxmox: 'stopped' } } });

    // Bookkeeping only: every inventory field (updatedAt included) is as it was, and nothing was audited.
    const after = await Promise.all([models.Container.findAll({ where: { nodeId: [w.n1.id, w.n2.id] }, raw: true }), models.VirtualMachine.findAll({ where: { nodeId: [w.n1.id, w.n2.id] }, raw: true })]);
    const strip = (rows: Array<Record<string, unknown>>) => rows.map(({ drift: _d, syncedAt: _s, ...rest }) => rest);
    expect(strip(after[0] as never)).to.deep.equal(strip(before[0] as never));
    expect(strip(after[1] as never)).to.deep.equal(strip(before[1] as never));
    expect(after[0].every((r) => r.syncedAt !== null)).to.equal(true);
    expect(await models.AuditEvent.count()).to.equal(auditsBefore);

    // Put back in Proxmox: the drift clears on the next sync.
    await wait(await w.pve.containers.start(w.n1.name, 100));
    await sync();
    expect((await mine()).drifted.map((r) => r.name)).not.to.include(w.name('web01'));
  });

  it('keeps going when a node fails, and does not report the machines it could not see as gone', async () => {
    const { models } = testContext().db;
    await sync();
    await importAll();
    await sync();
    // pve2 drops out of the cluster view and its own endpoint refuses Berth's token.
    w.s.sim.setNodeOnline(w.n2.name, false);
    await w.n2.update({ apiTokenSecret: deps().vault.seal('00000000-0000-4000-8000-000000000000', 'node-token') });
    await wait(await w.pve.containers.stop(w.n1.name, 100));
    const stdout: string[] = [];
    const stderr: string[] = [];
    const report = await sync({ stdout: (t) => stdout.push(t), stderr: (t) => stderr.push(t) });

    expect(report.failed.map((f) => f.node)).to.deep.equal([w.n2.name]);
    expect(report.covered).to.deep.equal([w.n1.name]);
    expect(stderr.join('')).to.match(new RegExp(`^${w.n2.name}: Proxmox rejected the credentials`));
    expect(stdout.join('')).to.include(`${w.n1.name}: 2 containers, 1 VM\n`);
    const onN2 = await models.Container.findOne({ where: { nodeId: w.n2.id, vmid: 102 } });
    expect(onN2!.drift, 'not marked gone').to.equal(null);
    expect(await models.MachineSnapshot.count({ where: { node: w.n2.name } }), 'its last snapshots kept').to.equal(2);
    expect((await mine()).drifted.map((r) => r.name)).to.deep.equal([w.name('web01')]);
  });

  it('reads each machine once when several Berth nodes belong to one cluster', async () => {
    await sync();
    expect(w.s.sim.count('GET', '/cluster/resources')).to.equal(2);
    expect(w.s.sim.count('GET', `/nodes/${w.n1.name}/lxc/100/config`)).to.equal(1);
    expect(w.s.sim.count('GET', `/nodes/${w.n2.name}/qemu/201/config`)).to.equal(1);
    expect(w.s.sim.count('GET', `/nodes/${w.n1.name}/lxc/9000/config`), 'templates are not machines').to.equal(0);
    expect(await testContext().db.models.MachineSnapshot.count({ where: { node: { [Op.in]: [w.n1.name, w.n2.name] } } })).to.equal(5);
  });

  it('replaces only the snapshots of the nodes it read: a sync of some nodes keeps every other node\'s', async () => {
    const { models } = testContext().db;
    const elsewhere = `${w.name('elsewhere')}-node`;
    const seenAt = new Date(Date.UTC(2026, 0, 1));
    await models.MachineSnapshot.create({ kind: 'lxc', node: elsewhere, vmid: 4242, name: 'kept', status: 'running', macAddress: null, ipv4Address: null, osName: null, syncJobId: null, seenAt });
    const report = await sync({ nodeIds: [w.n1.id] });
    expect(report.covered, 'one endpoint answers for its cluster').to.include.members([w.n1.name, w.n2.name]);
    expect(report.covered).not.to.include(elsewhere);
    const kept = await models.MachineSnapshot.findAll({ where: { node: elsewhere } });
    expect(kept.map((g) => ({ vmid: g.vmid, name: g.name, seenAt: g.seenAt.toISOString() }))).to.deep.equal([{ vmid: 4242, name: 'kept', seenAt: seenAt.toISOString() }]);
    // The nodes it read were replaced, not added to.
    await sync({ nodeIds: [w.n1.id] });
    expect(await models.MachineSnapshot.count({ where: { node: { [Op.in]: [w.n1.name, w.n2.name] } } })).to.equal(5);
    await models.MachineSnapshot.destroy({ where: { node: elsewhere } });
  });
});

describe('inventory: sync schedule', () => {
  const jobs: number[] = [];
  afterEach(async () => {
    // No runner of a later test should pick these up.
    await testContext().db.models.Job.update({ status: 'cancelled', finishedAt: new Date() }, { where: { id: jobs.splice(0) } });
  });

  function scheduler(clock: () => number, checkEveryMs?: number) {
    const { db } = testContext();
    return new SyncScheduler({ models: db.models, sequelize: db.sequelize, auditor: new Auditor(db.models, null), logger: createLogger('silent'), intervalMinutes: 60, clock, checkEveryMs });
  }
  // A slot of its own far in the future, so other runs of this file never share it.
  const someHour = () => Date.UTC(2300, 0, 1) + Math.floor(Math.random() * 1e6) * 3_600_000;

  it('enqueues exactly one sync per slot when schedulers race, audited with actor null', async () => {
    const { models } = testContext().db;
    let now = someHour();
    const a = scheduler(() => now);
    const b = scheduler(() => now);
    const won = (await Promise.all([a.tick(), b.tick(), a.tick(), b.tick()])).filter((j) => j !== null);
    expect(won).to.have.length(1);
    const job = won[0]!;
    jobs.push(job.id);
    expect(job).to.include({ task: 'inventory-sync', createdBy: null, subjectType: 'inventory', status: 'pending' });
    const runs = await models.ScheduledRun.findAll({ where: { name: 'inventory-sync', slot: a.slotAt(now) } });
    expect(runs.map((r) => r.jobId)).to.deep.equal([job.id]);
    const audit = await models.AuditEvent.findAll({ where: { action: 'job.enqueue', objectId: String(job.id) } });
    expect(audit.map((e) => e.actor)).to.deep.equal([null]);

    expect(await a.tick(), 'same slot later on').to.equal(null);
    // A sync still waits: the next slot's tick starts no second one (it answers with the waiting one);
    // once that has run, the slot after starts a new one.
    now += 60 * 60_000;
    expect((await b.tick())?.id, 'while a sync is pending').to.equal(job.id);
    await job.update({ status: 'success', finishedAt: new Date() });
    now += 60 * 60_000;
    const next = await b.tick();
    expect(next).not.to.equal(null);
    jobs.push(next!.id);
    expect(next!.id).not.to.equal(job.id);
  });

  it('checks on its timer once started, and does nothing when the interval is 0', async () => {
    const { db } = testContext();
    const now = someHour();
    const s = scheduler(() => now, 20);
    s.start();
    const slot = s.slotAt(now);
    try {
      for (let i = 0; i < 100 && !(await db.models.ScheduledRun.findOne({ where: { name: 'inventory-sync', slot } })); i++) await new Promise((r) => setTimeout(r, 20));
    } finally {
      await s.stop();
    }
    const run = await db.models.ScheduledRun.findOne({ where: { name: 'inventory-sync', slot } });
    expect(run?.jobId).to.be.a('number');
    jobs.push(run!.jobId!);

    const off = new SyncScheduler({ models: db.models, sequelize: db.sequelize, auditor: new Auditor(db.models, null), logger: createLogger('silent'), intervalMinutes: 0, clock: someHour });
    off.start();
    expect(off.enabled).to.equal(false);
    expect(await off.tick()).to.equal(null);
    await off.stop();
  });
});
