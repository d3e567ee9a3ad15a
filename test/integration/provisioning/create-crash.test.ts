// A runner killed in the middle of a create (SIGKILL of a real job-runner.ts process): the job is
// recovered as failed and never re-run, the record stays `provisioning` with the VMID it reserved,
// the next inventory sync reports it as left over by an interrupted create, the drift page lists it,
// and the clean-up removes the container from Proxmox and the record. A container carrying Berth's
// marker for a record that no longer exists is reported by the sync too.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import request from 'supertest';
import { Auditor } from '../../../src/audit/index.js';
import { syncInventory } from '../../../src/inventory/sync.js';
import { createProxmoxClient } from '../../../src/lib/proxmox/index.js';
import { Vault } from '../../../src/lib/vault.js';
import { loadDriftPage } from '../../../src/presenters/drift.js';
import { cleanUpInterruptedCreate } from '../../../src/provisioning/leftover-cleanup.js';
import { berthDescription } from '../../../src/provisioning/marker.js';
import { requestContainer } from '../../../src/provisioning/request.js';
import { createUser } from '../../factories/users.js';
import { useApp } from '../../support/app.js';
import { testCommand } from '../../support/command.js';
import { testContext } from '../../support/context.js';
import { csrfToken, login } from '../../support/login.js';
import { jobOutput, startRunner, startRunnerProcess, waitForJob, waitForOutput } from '../../support/runner.js';
import { DEBIAN, startProvisioningWorld, type ProvisioningWorld } from './world.js';

const models = () => testContext().db.models;

function syncDeps() {
  const { db, config } = testContext();
  return { models: db.models, sequelize: db.sequelize, vault: Vault.fromConfig(config), config, auditor: new Auditor(db.models, null) };
}

/** Runs a sync of the world's nodes, returning its report and printed lines. */
async function sync(world: ProvisioningWorld) {
  let out = '';
  const report = await syncInventory(syncDeps(), { nodeIds: [world.n1.id, world.n2.id], stdout: (t) => (out += t) });
  return { report, out };
}

async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('provisioning: a runner killed mid-create', function () {
  this.timeout(90_000);
  const fixture = useApp();
  let world: ProvisioningWorld;
  let dataDir: string;
  beforeEach(async () => {
    world = await startProvisioningWorld({ runner: false });
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'berth-crash-'));
  });
  afterEach(async () => {
    world.s.sim.hangTasks(false);
    await world.cleanup();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('loses nothing: the job fails, the record keeps its VMID, the sync flags it and the clean-up removes it', async () => {
    const owner = (await createUser()).user.username;
    const cmd = testCommand({ actor: { username: owner }, user: { id: 0, username: owner, isAdmin: true } });
    const hostname = world.name('crash');
    const answer = await requestContainer(cmd, {
      hostname, osRelease: 'Debian 12', nodeId: world.n1.id, cores: 1, memoryMb: 256, diskGb: 2, httpPort: null,
      sshPublicKey: null, aiContainer: 'N', expiresAt: null, purpose: null, submitForApproval: false,
    }, { isAdmin: true, chooseNode: async (nodes) => nodes[0] });

    // The create task stays running on the node until released, so the kill lands inside step 3.
    world.s.sim.hangTasks(true);
    const proc = await startRunnerProcess({
      ENCRYPTION_KEY: testContext().config.ENCRYPTION_KEY, DATA_DIR: dataDir, AUDIT_LOG_FILE: 'false', PROVISION_POLL_MS: '20',
    });
    await waitForOutput(answer.jobId!, /3\/6 Creating the container/, 30_000);
    await proc.stop('SIGKILL');
    world.s.sim.hangTasks(false);

    const recovery = await startRunner({ config: world.config, staleSeconds: 3 });
    try {
      const job = await waitForJob(answer.jobId!, 30_000);
      expect(job.status).to.equal('failure');
      expect(job.error).to.match(/stopped heartbeating/);
    } finally {
      await recovery.close();
    }
    const row = (await models().Container.findByPk(answer.containerId))!;
    expect(row.status).to.equal('provisioning');
    expect(row.vmid).to.be.a('number');
    // The node finished the create on its own: the container is there, with Berth's marker.
    await until(() => world.s.sim.state.guests.get(row.vmid!)?.config.lock === undefined, 'the create task ends on the node');
    expect(String(world.s.sim.state.guests.get(row.vmid!)!.config.description)).to.contain(`Managed by Berth: container ${row.id},`);

    const { report, out } = await sync(world);
    expect(report.leftover).to.equal(1);
    expect(out).to.contain(`${hostname}: left over by an interrupted create (job ${answer.jobId}): CT ${row.vmid} on ${world.n1.name} may exist in Proxmox`);
    const page = await loadDriftPage(models());
    expect(page.leftovers.map((l) => l.id)).to.include(row.id);
    // Not offered as drift to accept, nor as an unknown machine to import.
    expect([...page.drifted, ...page.gone].map((r) => r.id)).to.not.include(row.id);
    expect(page.unknown.filter((u) => u.node === world.n1.name && u.vmid === row.vmid)).to.deep.equal([]);

    const admin = (await createUser({ role: 'admin' })).user.username;
    const cleanup = await cleanUpInterruptedCreate(testCommand({ actor: { username: admin } }), row.id);
    expect(cleanup.job).to.not.equal(null);
    const event = (await models().AuditEvent.findOne({ where: { action: 'container.create-interrupted', objectId: String(row.id) } }))!;
    expect(event.actor).to.equal(admin);

    const deleter = await startRunner({ config: world.config });
    try {
      const job = await waitForJob(cleanup.job!.id, 30_000);
      expect(job.status, `${job.error}\n${await jobOutput(job.id)}`).to.equal('success');
    } finally {
      await deleter.close();
    }
    expect(world.s.sim.state.guests.has(row.vmid!)).to.equal(false);
    expect(await models().Container.findByPk(row.id)).to.equal(null);
    expect((await loadDriftPage(models())).leftovers.map((l) => l.id)).to.not.include(row.id);
  });

  it('a container that carries Berth\'s marker for a record that no longer exists is reported by the sync', async () => {
    const pve = createProxmoxClient(world.s.clientOptions());
    try {
      const vmid = await pve.cluster.nextId();
      const upid = await pve.containers.create(world.n2.name, {
        vmid, ostemplate: DEBIAN, rootfs: 'local-lvm:2', hostname: world.name('orphan'), tags: 'berth', description: berthDescription(999_999_999, 1, 'someone'),
      });
      await pve.tasks.wait(upid);
      const { report, out } = await sync(world);
      expect(report.leftover).to.equal(1);
      expect(out).to.contain(`CT ${vmid} on ${world.n2.name} (${world.name('orphan')}): left over by an interrupted create: it carries Berth's marker for container 999999999, which has no record`);
      // A container Berth did not make is not: the seed's machines carry no marker.
      expect(out.match(/left over by an interrupted create/g)).to.have.length(1);
    } finally {
      await pve.close();
    }
  });

  it('the clean-up leaves alone a container at the VMID that is not the record\'s (another request won that VMID)', async () => {
    const foreign = [...world.s.sim.state.guests.values()].find((g) => g.node === world.n1.name && g.type === 'lxc')!;
    const row = await models().Container.create({
      hostname: world.name('lost'), osRelease: 'Debian 12', nodeId: world.n1.id, vmid: foreign.vmid, macAddress: null, ipv4Address: null,
      username: null, aiContainer: 'N', status: 'provisioning', managed: true, expiresAt: null, purpose: null, notes: null, tags: null,
    });
    // Through the drift page, as an admin would.
    const { user, password } = await createUser({ role: 'admin' });
    const agent = request.agent(fixture.app);
    await login(agent, user.username, password);
    const page = await agent.get('/inventory/drift').expect(200);
    expect(page.text).to.contain('Left over by an interrupted create').and.contain(`class="drift-leftover" data-record="container/${row.id}"`);
    const csrf = await csrfToken(agent, '/inventory/drift');
    const res = await agent.post('/inventory/drift/clean-up').type('form').send({ _csrf: csrf, id: String(row.id) });
    // No delete job for a container that is not ours: the record alone goes, and the page says so.
    expect(res.status).to.equal(303);
    expect(res.headers.location).to.equal('/inventory/drift');
    expect(await models().Job.count({ where: { subjectType: 'container', subjectId: row.id } })).to.equal(0);
    expect(await models().Container.findByPk(row.id)).to.equal(null);
    expect(world.s.sim.state.guests.has(foreign.vmid)).to.equal(true);
    const event = (await models().AuditEvent.findOne({ where: { action: 'container.create-interrupted', objectId: String(row.id) } }))!;
    expect(JSON.parse(event.changes!).vmid).to.deep.equal({ before: foreign.vmid, after: null });
  });

  it('a record still being created is neither drift nor a leftover', async () => {
    const owner = (await createUser()).user.username;
    world.s.sim.hangTasks(true);
    const cmd = testCommand({ actor: { username: owner }, user: { id: 0, username: owner, isAdmin: true } });
    const answer = await requestContainer(cmd, {
      hostname: world.name('busy'), osRelease: 'Debian 12', nodeId: world.n1.id, cores: 1, memoryMb: 256, diskGb: 2, httpPort: null,
      sshPublicKey: null, aiContainer: 'N', expiresAt: null, purpose: null, submitForApproval: false,
    }, { isAdmin: true, chooseNode: async (nodes) => nodes[0] });
    const runner = await startRunner({ config: world.config });
    try {
      await waitForOutput(answer.jobId!, /3\/6 Creating the container/, 20_000);
      const { report } = await sync(world);
      expect(report.leftover).to.equal(0);
      const row = (await models().Container.findByPk(answer.containerId))!;
      expect(row.drift).to.equal(null);
      expect((await loadDriftPage(models())).leftovers.map((l) => l.id)).to.not.include(row.id);
      world.s.sim.hangTasks(false);
      expect((await waitForJob(answer.jobId!, 20_000)).status).to.equal('success');
    } finally {
      await runner.close();
    }
  });
});
