// The container.create task against the simulator, through the request command and a real runner:
// a container built end to end (with DHCP and with a pool's static address), a failure injected at
// each step (the job names the step, Proxmox and Berth keep nothing), a clean-up that fails too (the
// record stays as `error` saying what is left), and two runners building 20 containers at once.
import { expect } from 'chai';
import type { Config } from '../../../config/index.js';
import type { Container, Job } from '../../../models/index.js';
import { cancelJob } from '../../../src/jobs/commands.js';
import { requestContainer, type ProvisionAnswer } from '../../../src/provisioning/request.js';
import type { ContainerRequestInput } from '../../../src/provisioning/params.js';
import { createUser } from '../../factories/users.js';
import { testCommand } from '../../support/command.js';
import { testContext } from '../../support/context.js';
import { jobOutput, startRunner, waitForJob, waitForOutput } from '../../support/runner.js';
import { startProvisioningWorld, type ProvisioningWorld, type WorldOptions } from './world.js';

const models = () => testContext().db.models;

/** A request's input: Debian 12 on a chosen node, small enough for any quota. */
function input(hostname: string, nodeId: number, extra: Partial<ContainerRequestInput> = {}): ContainerRequestInput {
  return {
    hostname, osRelease: 'Debian 12', nodeId, cores: 1, memoryMb: 256, diskGb: 2, httpPort: null, sshPublicKey: null,
    aiContainer: 'N', expiresAt: null, purpose: null, submitForApproval: false, ...extra,
  };
}

/** Asks for a container as `username` (an admin: no expiry needed), with a roomy quota. */
async function ask(username: string, what: ContainerRequestInput, config?: Config): Promise<ProvisionAnswer> {
  const base = config ?? testContext().config;
  const cmd = testCommand({
    actor: { username },
    user: { id: 0, username, isAdmin: true },
    config: { ...base, QUOTA_CONTAINERS: 100, QUOTA_CORES: 100, QUOTA_MEMORY_MB: 100_000, QUOTA_DISK_GB: 1000 },
  });
  return requestContainer(cmd, what, { isAdmin: true, chooseNode: async (nodes) => nodes[0] });
}

/** The simulator's guests carrying this record's marker. */
function markedGuests(world: ProvisioningWorld, containerId: number) {
  return [...world.s.sim.state.guests.values()].filter((g) => String(g.config.description ?? '').includes(`Managed by Berth: container ${containerId},`));
}

async function expectNothingLeft(world: ProvisioningWorld, answer: ProvisionAnswer): Promise<void> {
  expect(await models().Container.findByPk(answer.containerId), 'reservation row').to.equal(null);
  expect(markedGuests(world, answer.containerId), 'guests in Proxmox').to.deep.equal([]);
  const request = await models().ContainerRequest.findByPk(answer.requestId);
  expect(request?.containerId, 'the request keeps its history').to.equal(null);
  const event = await models().AuditEvent.findOne({ where: { action: 'container.create-failed', objectId: String(answer.containerId) } });
  expect(event, 'audited').to.not.equal(null);
}

async function failedJob(answer: ProvisionAnswer): Promise<Job> {
  const job = await waitForJob(answer.jobId!, 30_000);
  expect(job.status, job.error ?? '').to.equal('failure');
  return job;
}

describe('provisioning: the container.create task', function () {
  this.timeout(60_000);
  let world: ProvisioningWorld;
  let owner: string;
  const start = async (opts: WorldOptions = {}) => {
    world = await startProvisioningWorld(opts);
    owner = (await createUser()).user.username;
  };
  afterEach(async () => {
    world.s.sim.hangTasks(false);
    await world?.cleanup();
  });

  it('builds a container end to end: step lines, record with VMID, MAC and DHCP address, marker in Proxmox, audited', async () => {
    await start();
    const answer = await ask(owner, input(world.name('app'), world.n2.id));
    const job = await waitForJob(answer.jobId!, 30_000);
    const out = await jobOutput(job.id);
    expect(job.status, `${job.error}\n${out}`).to.equal('success');
    expect(out).to.match(/1\/6 Checking the node[\s\S]*2\/6 Reserving VMID[\s\S]*3\/6 Creating the container[\s\S]*extracting archive[\s\S]*4\/6 Starting the container[\s\S]*5\/6 Reading the MAC address[\s\S]*6\/6 Waiting for the IPv4 address/);

    const row = (await models().Container.findByPk(answer.containerId))!;
    expect(row.status).to.equal('running');
    expect(row.provisionError).to.equal(null);
    expect(row.vmid).to.be.a('number');
    expect(row.macAddress).to.match(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
    expect(row.ipv4Address).to.match(/^\d+\.\d+\.\d+\.\d+$/);

    const guest = world.s.sim.state.guests.get(row.vmid!)!;
    expect(guest.node).to.equal(world.n2.name);
    expect(guest.status).to.equal('running');
    expect(String(guest.config.tags)).to.match(/\bberth\b/);
    expect(String(guest.config.description)).to.contain(`Managed by Berth: container ${row.id}, request ${answer.requestId}, owner ${owner}`);
    expect(guest.config.hostname).to.equal(row.hostname);
    expect(String(guest.config.net0).toLowerCase()).to.contain(row.macAddress!);
    expect(guest.config.lock).to.equal(undefined);

    const event = (await models().AuditEvent.findOne({ where: { action: 'container.create', objectId: String(row.id) } }))!;
    expect(event.actor).to.equal(owner);
    expect(JSON.parse(event.changes!)).to.deep.include({ vmid: { after: row.vmid }, ipv4Address: { after: row.ipv4Address } });
  });

  it('passes a pool\'s static address and MAC in net0 and keeps them', async () => {
    await start({ pool: { from: 10, to: 20 } });
    const answer = await ask(owner, input(world.name('pooled'), world.n1.id));
    const reserved = (await models().Container.findByPk(answer.containerId))!;
    expect(reserved.ipv4Address).to.equal(world.ip('10.20.0.10'));
    const job = await waitForJob(answer.jobId!, 30_000);
    expect(job.status, job.error ?? '').to.equal('success');
    const row = (await models().Container.findByPk(answer.containerId))!;
    expect(row.ipv4Address).to.equal(reserved.ipv4Address);
    expect(row.macAddress).to.equal(reserved.macAddress);
    const net0 = String(world.s.sim.state.guests.get(row.vmid!)!.config.net0);
    expect(net0).to.contain(`ip=${row.ipv4Address}/24`);
    expect(net0).to.contain(`gw=${world.ip('10.20.0.1')}`);
    expect(net0.toLowerCase()).to.contain(`hwaddr=${row.macAddress}`);
  });

  it('takes the next VMID when another request took the one nextid gave', async () => {
    await start();
    world.s.sim.failNextCreate();
    const answer = await ask(owner, input(world.name('retry'), world.n1.id));
    const job = await waitForJob(answer.jobId!, 30_000);
    expect(job.status, job.error ?? '').to.equal('success');
    expect(await jobOutput(job.id)).to.match(/VMID (\d+) was taken meanwhile; asking for the next one/);
    expect(world.s.sim.count('POST', `/nodes/${world.n1.name}/lxc`)).to.equal(2);
  });

  describe('a failure at a step: the job names it, Proxmox and Berth keep nothing', () => {
    it('the node lacks the template (before anything is created)', async () => {
      await start();
      await models().ContainerTemplate.update({ volid: 'local:vztmpl/missing_1.0_amd64.tar.zst' }, { where: { nodeId: world.n1.id, osRelease: 'Debian 12' } });
      const answer = await ask(owner, input(world.name('notpl'), world.n1.id));
      const job = await failedJob(answer);
      expect(job.error).to.equal(`Checking the node failed: the template local:vztmpl/missing_1.0_amd64.tar.zst is not on ${world.n1.name}`);
      expect(world.s.sim.count('POST', `/nodes/${world.n1.name}/lxc`)).to.equal(0);
      await expectNothingLeft(world, answer);
    });

    it('the node cannot be called (no API token): the reservation goes, nothing is sent', async () => {
      await start();
      await world.n1.update({ apiTokenId: null, apiTokenSecret: null });
      const answer = await ask(owner, input(world.name('notoken'), world.n1.id));
      const job = await failedJob(answer);
      expect(job.error).to.equal(`Connecting to the node failed: ${world.n1.name} has no API token configured.`);
      expect(world.s.sim.count('POST', `/nodes/${world.n1.name}/lxc`)).to.equal(0);
      await expectNothingLeft(world, answer);
    });

    it('a second request took the VMID in Berth first: the next one is used', async () => {
      await start();
      // A record (say a container deleted behind Berth's back) still holds the id nextid will give.
      const next = await world.pve.cluster.nextId();
      const stale = await models().Container.create({ hostname: world.name('stale') + '.example.org', username: owner, nodeId: world.n1.id, vmid: next, macAddress: null, ipv4Address: null, expiresAt: null, purpose: null, notes: null, tags: null, status: 'stopped' });
      const answer = await ask(owner, input(world.name('after-stale'), world.n1.id));
      const job = await waitForJob(answer.jobId!, 30_000);
      expect(job.status, job.error ?? '').to.equal('success');
      expect(await jobOutput(job.id)).to.contain(`VMID ${next} is being used by another request; trying the next one`);
      expect((await models().Container.findByPk(answer.containerId))!.vmid).to.be.above(next);
      await stale.destroy();
    });

    it('Proxmox cannot give a VMID (step 2, before anything is created)', async () => {
      await start();
      world.s.sim.failNextCall('GET /cluster/nextid', { message: 'cluster not ready - no quorum?\n' });
      const answer = await ask(owner, input(world.name('noquorum'), world.n1.id));
      const job = await failedJob(answer);
      expect(job.error).to.equal('Reserving VMID failed: cluster not ready - no quorum?');
      expect(world.s.sim.count('POST', `/nodes/${world.n1.name}/lxc`)).to.equal(0);
      await expectNothingLeft(world, answer);
    });

    it('the MAC cannot be read (step 5, after the container runs): it is stopped and removed', async () => {
      await start();
      world.s.sim.failNextCall('GET /nodes/{node}/lxc/{vmid}/config', { message: 'got timeout\n' });
      const answer = await ask(owner, input(world.name('nomac'), world.n1.id));
      const job = await failedJob(answer);
      expect(job.error).to.equal('Reading the MAC address failed: got timeout');
      await expectNothingLeft(world, answer);
    });

    it('the create task fails', async () => {
      await start();
      world.s.sim.failNextTask({ type: 'vzcreate', message: 'unable to create CT - no space left on device' });
      const answer = await ask(owner, input(world.name('nospace'), world.n1.id));
      const job = await failedJob(answer);
      expect(job.error).to.equal('Creating the container failed: unable to create CT - no space left on device');
      await expectNothingLeft(world, answer);
    });

    it('Proxmox refuses the create call itself (VMID always taken: bounded retries)', async () => {
      await start();
      for (let i = 0; i < 10; i++) world.s.sim.failNextCreate();
      const answer = await ask(owner, input(world.name('taken'), world.n1.id));
      const job = await failedJob(answer);
      expect(job.error).to.match(/^Creating the container failed: CT \d+ already exists on node/);
      expect(world.s.sim.count('POST', `/nodes/${world.n1.name}/lxc`)).to.equal(10);
      await expectNothingLeft(world, answer);
    });

    it('the start fails', async () => {
      await start();
      world.s.sim.failNextTask({ type: 'vzstart', message: 'startup for container failed' });
      const answer = await ask(owner, input(world.name('nostart'), world.n1.id));
      const job = await failedJob(answer);
      expect(job.error).to.equal('Starting the container failed: startup for container failed');
      expect(await jobOutput(job.id)).to.match(/Cleaning up CT \d+[\s\S]*deleting CT \d+/);
      await expectNothingLeft(world, answer);
    });

    it('no DHCP address ever comes (the running container is stopped and deleted)', async () => {
      await start({ config: { PROVISION_IP_WAIT_SECONDS: 1 } });
      world.s.sim.setNoDhcp(true);
      const answer = await ask(owner, input(world.name('nodhcp'), world.n1.id));
      const job = await failedJob(answer);
      expect(job.error).to.equal('Waiting for the IPv4 address failed: the container reported no IPv4 address within 1 s (no DHCP lease)');
      expect(await jobOutput(job.id)).to.match(/stopping CT \d+[\s\S]*deleting CT \d+/);
      await expectNothingLeft(world, answer);
    });

    it('the job is cancelled while Proxmox creates the container', async () => {
      await start();
      world.s.sim.hangTasks(true);
      const answer = await ask(owner, input(world.name('cancel'), world.n1.id));
      await waitForOutput(answer.jobId!, /3\/6 Creating the container/, 20_000);
      await cancelJob(testCommand({ actor: { username: owner } }), answer.jobId!);
      const job = await waitForJob(answer.jobId!, 20_000);
      expect(job.status).to.equal('cancelled');
      world.s.sim.hangTasks(false);
      // The clean-up waits for the create task to release its lock, then deletes the container.
      await until(async () => !(await models().Container.findByPk(answer.containerId)), 'the reservation is removed');
      await expectNothingLeft(world, answer);
    });
  });

  describe('when the clean-up fails too, the record stays as `error` saying what is left', () => {
    it('Proxmox refuses the delete', async () => {
      await start();
      world.s.sim.failNextTask({ type: 'vzstart', message: 'startup for container failed' });
      world.s.sim.failNextDelete();
      const answer = await ask(owner, input(world.name('stuck'), world.n1.id));
      const job = await failedJob(answer);
      expect(job.error).to.equal('Starting the container failed: startup for container failed');
      const row = (await models().Container.findByPk(answer.containerId))!;
      expect(row.status).to.equal('error');
      expect(row.provisionError).to.contain(`CT ${row.vmid} on node ${world.n1.name}`).and.contain('protection mode enabled');
      expect(markedGuests(world, row.id)).to.have.length(1);
      const event = (await models().AuditEvent.findOne({ where: { action: 'container.create-failed', objectId: String(row.id) } }))!;
      expect(JSON.parse(event.changes!).status).to.deep.equal({ before: 'provisioning', after: 'error' });
    });

    it('the node goes offline while the container is being created', async () => {
      await start();
      world.s.sim.hangTasks(true);
      const answer = await ask(owner, input(world.name('offline'), world.n1.id));
      await waitForOutput(answer.jobId!, /3\/6 Creating the container/, 20_000);
      world.s.sim.setNodeOnline(world.n1.name, false);
      world.s.sim.hangTasks(false);
      const job = await failedJob(answer);
      expect(job.error).to.match(/^Creating the container failed: .*No route to host/);
      const row = (await models().Container.findByPk(answer.containerId))!;
      expect(row.status).to.equal('error');
      expect(row.provisionError).to.contain(`CT ${row.vmid} on node ${world.n1.name}`);
      world.s.sim.setNodeOnline(world.n1.name, true);
    });
  });

  it('two runners build 20 containers on two nodes at once (pool on the first): no VMID, IP or MAC collision', async function () {
    this.timeout(120_000);
    await start({ pool: { from: 10, to: 40 } });
    const second = await startRunner({ config: world.config });
    try {
      const answers: ProvisionAnswer[] = [];
      for (let i = 0; i < 20; i++) answers.push(await ask(owner, input(world.name(`many${i}`), i % 2 ? world.n2.id : world.n1.id)));
      const jobs = await Promise.all(answers.map((a) => waitForJob(a.jobId!, 100_000)));
      for (const job of jobs) expect(job.status, `${job.error}\n${await jobOutput(job.id)}`).to.equal('success');
      expect(new Set(jobs.map((j) => j.lockedBy)).size, 'both runners worked').to.equal(2);
      const rows = (await models().Container.findAll({ where: { id: answers.map((a) => a.containerId) } })) as Container[];
      expect(rows).to.have.length(20);
      for (const field of ['vmid', 'ipv4Address', 'macAddress'] as const) {
        expect(new Set(rows.map((r) => r[field])).size, field).to.equal(20);
      }
      for (const row of rows) {
        expect(row.status).to.equal('running');
        expect(markedGuests(world, row.id).map((g) => g.vmid)).to.deep.equal([row.vmid]);
      }
      const pooled = rows.filter((r) => r.nodeId === world.n1.id);
      expect(pooled.every((r) => r.ipv4Address!.startsWith(world.ip('10.20.0.0').replace(/0$/, '')))).to.equal(true);
    } finally {
      await second.close();
    }
  });
});

/** Polls `check` until it holds, failing after 20 s. */
async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
