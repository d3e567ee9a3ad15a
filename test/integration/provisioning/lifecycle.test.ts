// A container's lifecycle through the routes, against the simulator with an in-process runner:
// start, stop, shutdown, reboot, resize and delete, each a job; wrong states, two actions at once,
// Proxmox refusing a delete, records Berth cannot reach on Proxmox, and other users.
import crypto from 'node:crypto';
import { expect } from 'chai';
import { Op } from 'sequelize';
import type { Container } from '../../../models/index.js';
import { createProxmoxClient, type ProxmoxClient } from '../../../src/lib/proxmox/index.js';
import { BERTH_TAG, berthDescription } from '../../../src/provisioning/marker.js';
import { LIFECYCLE_TASKS } from '../../../src/provisioning/params.js';
import { createCredential } from '../../factories/credentials.js';
import { createContainer } from '../../factories/inventory.js';
import { createJob } from '../../factories/jobs.js';
import { useApp, type AppFixture } from '../../support/app.js';
import { testContext } from '../../support/context.js';
import { signedInAgent, type SignedInAgent } from '../../support/login.js';
import { jobOutput, waitForJob } from '../../support/runner.js';
import { DEBIAN, startProvisioningWorld, type ProvisioningWorld } from './world.js';

const DELETED = { success: true, message: 'Container deleted successfully' };
const models = () => testContext().db.models;
const hex = () => crypto.randomBytes(4).toString('hex');

/** A fresh world and client per test; `pve` changes things behind Berth's back. */
function useWorld() {
  const world = {} as { w: ProvisioningWorld; pve: ProxmoxClient };
  beforeEach(async () => {
    world.w = await startProvisioningWorld();
    world.pve = createProxmoxClient(world.w.s.clientOptions());
  });
  afterEach(async () => {
    await world.pve.close();
    await world.w.cleanup();
  });
  return world;
}

const agentFor = (fixture: AppFixture) => signedInAgent(fixture.app);
type Agent = SignedInAgent;

/**
 * A container made in the simulator on the first node (1 core, 512 MB, 4 GB; running unless
 * `stopped`), and the managed record a create would have written for it, owned by `owner`.
 */
async function containerInSim(world: { w: ProvisioningWorld; pve: ProxmoxClient }, owner: string, opts: { stopped?: boolean; vmid?: number } = {}): Promise<Container> {
  const { w, pve } = world;
  const vmid = opts.vmid ?? 150;
  const hostname = `lc-${hex()}`;
  const wait = async (upid: string) => expect((await pve.tasks.wait(upid, { pollMs: 10 })).exitstatus).to.equal('OK');
  const record = await models().Container.create({
    hostname: `${hostname}.example.org`, username: owner, osRelease: 'Debian 12', nodeId: w.n1.id, vmid, macAddress: null, ipv4Address: null,
    expiresAt: null, purpose: null, notes: null, tags: null, status: opts.stopped ? 'stopped' : 'running', managed: true, cores: 1, memoryMb: 512, diskGb: 4,
  });
  // Berth's marker, as the create task writes it: the delete task checks it.
  const marker = { tags: BERTH_TAG, description: berthDescription(record.id, 0, owner) };
  await wait(await pve.containers.create(w.n1.name, { vmid, ostemplate: DEBIAN, hostname, rootfs: 'local-lvm:4', cores: 1, memory: 512, net0: 'name=eth0,bridge=vmbr0,ip=dhcp', ...marker }));
  if (!opts.stopped) await wait(await pve.containers.start(w.n1.name, vmid));
  return record;
}

const api = (a: Agent, method: 'post' | 'delete', path: string) => a.agent[method](path).set('Accept', 'application/json').set('X-CSRF-Token', a.csrf);
const form = (a: Agent, path: string, body: Record<string, string> = {}) => a.agent.post(path).type('form').send({ _csrf: a.csrf, ...body });

async function auditActions(containerId: number): Promise<Array<{ action: string; actor: string | null }>> {
  const rows = await models().AuditEvent.findAll({ where: { objectType: 'container', objectId: String(containerId) }, order: [['id', 'ASC']] });
  return rows.map((e) => ({ action: e.action, actor: e.actor }));
}

describe('provisioning: container lifecycle (start, stop, shutdown, reboot, resize)', function () {
  this.timeout(60_000);
  const fixture = useApp();
  const world = useWorld();

  /** Posts `action` as JSON, expects 202 {jobId, statusUrl}, and waits for the job to succeed. */
  async function act(a: Agent, ct: Container, action: string, body: Record<string, unknown> = {}) {
    const res = await api(a, 'post', `/containers/${ct.id}/${action}`).send(body).expect(202);
    expect(res.body).to.deep.equal({ jobId: res.body.jobId, statusUrl: `/status/${res.body.jobId}` });
    const job = await waitForJob(res.body.jobId);
    expect(job.status, `${action}: ${job.error}`).to.equal('success');
    expect(job).to.include({ task: LIFECYCLE_TASKS[action as keyof typeof LIFECYCLE_TASKS], createdBy: a.user.username, subjectType: 'container', subjectId: ct.id });
    return { job, output: await jobOutput(job.id) };
  }

  it('stops, starts, shuts down and reboots through the API: each a job with the Proxmox log, the record and Proxmox in step, audited', async () => {
    const a = await agentFor(fixture);
    const ct = await containerInSim(world, a.user.username);
    const proxmoxStatus = async () => (await world.pve.containers.status(world.w.n1.name, 150)).status;

    const stopped = await act(a, ct, 'stop');
    expect(stopped.output).to.contain(`1/2 Stopping ${ct.hostname} (CT 150 on ${world.w.n1.name})`).and.contain('    stopping CT 150').and.contain('    TASK OK');
    expect(stopped.output).to.contain(`2/2 Recording ${ct.hostname} as stopped`);
    expect((await ct.reload()).status).to.equal('stopped');
    expect(await proxmoxStatus()).to.equal('stopped');

    await act(a, ct, 'start');
    expect((await ct.reload()).status).to.equal('running');
    expect(await proxmoxStatus()).to.equal('running');

    const shut = await act(a, ct, 'shutdown');
    expect(shut.output).to.contain('shutting down CT 150');
    expect((await ct.reload()).status).to.equal('stopped');
    expect(await proxmoxStatus()).to.equal('stopped');

    await act(a, ct, 'start');
    const rebooted = await act(a, ct, 'reboot');
    expect(rebooted.output).to.contain('1/2 Rebooting').and.contain('TASK OK');
    expect((await ct.reload()).status).to.equal('running');
    expect(await proxmoxStatus()).to.equal('running');

    const history = (await auditActions(ct.id)).filter((e) => e.action !== 'job.enqueue');
    expect(history.map((e) => e.action)).to.deep.equal(['container.stop', 'container.start', 'container.shutdown', 'container.start', 'container.reboot']);
    for (const e of history) expect(e.actor).to.equal(a.user.username);
    expect(await models().AuditEvent.count({ where: { action: 'job.enqueue', actor: a.user.username, createdAt: { [Op.gte]: ct.createdAt } } })).to.be.at.least(5);
  });

  it('sends browsers to the status page (303), and refuses an action the state does not allow: 409 for the API, a message on the page for browsers', async () => {
    const a = await agentFor(fixture);
    const ct = await containerInSim(world, a.user.username);

    const page = await a.agent.get(`/containers/${ct.id}`).expect(200);
    expect(page.text).to.contain(`action="/containers/${ct.id}/stop"`).and.contain(`action="/containers/${ct.id}/reboot"`).and.contain(`action="/containers/${ct.id}/resize"`);
    expect(page.text).to.not.contain(`action="/containers/${ct.id}/start"`);
    const json = await a.agent.get(`/containers/${ct.id}`).set('Accept', 'application/json').expect(200);
    expect(json.body.container.actions).to.deep.equal(['stop', 'shutdown', 'reboot', 'resize', 'delete']);

    const refused = await api(a, 'post', `/containers/${ct.id}/start`).expect(409);
    expect(refused.body.error).to.contain(`${ct.hostname} is running: only a stopped container can be started.`);
    const refusedForm = await form(a, `/containers/${ct.id}/start`).expect(303);
    expect(refusedForm.headers.location).to.equal(`/containers/${ct.id}`);
    expect((await a.agent.get(`/containers/${ct.id}`).expect(200)).text).to.contain('only a stopped container can be started');
    expect(await models().Job.count({ where: { subjectType: 'container', subjectId: ct.id } })).to.equal(0);

    const res = await form(a, `/containers/${ct.id}/stop`).expect(303);
    const jobId = Number(/^\/status\/(\d+)$/.exec(res.headers.location)![1]);
    expect((await waitForJob(jobId)).status).to.equal('success');
    const after = await a.agent.get(`/containers/${ct.id}`).expect(200);
    expect(after.text).to.contain(`action="/containers/${ct.id}/start"`).and.not.contain(`action="/containers/${ct.id}/stop"`);

    // A record Berth cannot reach on Proxmox, and one being created, have no power actions.
    const registered = await createContainer({ username: a.user.username, status: 'stopped' });
    expect((await api(a, 'post', `/containers/${registered.id}/start`).expect(409)).body.error).to.contain('not on Proxmox as far as Berth knows');
    const building = await createContainer({ username: a.user.username, nodeId: world.w.n1.id, vmid: 170, status: 'provisioning', managed: true });
    expect((await api(a, 'post', `/containers/${building.id}/resize`).send({ cores: 2 }).expect(409)).body.error).to.contain('is provisioning');
  });

  it('answers one of two actions sent at once with 202 and the other with 409 naming the job', async () => {
    const a = await agentFor(fixture);
    const ct = await containerInSim(world, a.user.username);
    // Proxmox's tasks stay running, so the first job is surely still under way when the second request looks.
    world.w.s.sim.hangTasks(true);
    const answers = await Promise.all([api(a, 'post', `/containers/${ct.id}/stop`), api(a, 'post', `/containers/${ct.id}/reboot`)]);
    expect(answers.map((r) => r.status).sort()).to.deep.equal([202, 409]);
    const accepted = answers.find((r) => r.status === 202)!;
    const conflict = answers.find((r) => r.status === 409)!;
    expect(conflict.body.error).to.contain(`job ${accepted.body.jobId}`);
    expect(await models().Job.count({ where: { subjectType: 'container', subjectId: ct.id } })).to.equal(1);
    world.w.s.sim.hangTasks(false);
    expect((await waitForJob(accepted.body.jobId)).status).to.equal('success');
  });

  it('resizes cores, memory and disk: Proxmox and the record get the new sizes, the disk grows by the difference', async () => {
    const a = await agentFor(fixture);
    const ct = await containerInSim(world, a.user.username);
    const { output } = await act(a, ct, 'resize', { cores: 2, memoryMb: 1024, diskGb: 6 });
    expect(output).to.contain('1/4 Reading the configuration').and.contain('2/4 Setting 2 cores and 1024 MB of memory').and.contain('3/4 Growing the disk to 6 GB');
    expect(output).to.contain('rootfs: 4 GB → +2G').and.contain('4/4 Recording the new sizes');
    const config = await world.pve.containers.config(world.w.n1.name, 150);
    expect(config).to.include({ cores: 2, memory: 1024 });
    expect(String(config.rootfs)).to.contain('size=6G');
    expect((await ct.reload()).get()).to.include({ cores: 2, memoryMb: 1024, diskGb: 6, status: 'running' });
    const resized = (await models().AuditEvent.findOne({ where: { action: 'container.resize', objectId: String(ct.id) } }))!;
    expect(JSON.parse(resized.changes!)).to.deep.equal({ cores: { before: 1, after: 2 }, memoryMb: { before: 512, after: 1024 }, diskGb: { before: 4, after: 6 } });

    // The form, and the short names: only the disk changes.
    const res = await form(a, `/containers/${ct.id}/resize`, { cores: '', memoryMb: '', diskGb: '8' }).expect(303);
    expect((await waitForJob(Number(res.headers.location.split('/').pop()))).status).to.equal('success');
    await act(a, ct, 'resize', { memory: 768, disk: 9 });
    expect((await ct.reload()).get()).to.include({ cores: 2, memoryMb: 768, diskGb: 9 });
    expect(String((await world.pve.containers.config(world.w.n1.name, 150)).rootfs)).to.contain('size=9G');
  });

  it('refuses a resize that shrinks the disk, goes past the limits or the quota, or changes nothing (422), and a stopped container can be resized', async () => {
    const a = await agentFor(fixture);
    const ct = await containerInSim(world, a.user.username, { stopped: true });
    const refuse = async (body: Record<string, unknown>, field: string, text: string) => {
      const res = await api(a, 'post', `/containers/${ct.id}/resize`).send(body).expect(422);
      expect(res.body.fields?.[field] ?? res.body.error, JSON.stringify(res.body)).to.contain(text);
    };
    await refuse({ diskGb: 2 }, 'diskGb', 'The disk can only grow: it has 4 GB.');
    await refuse({ cores: 17 }, 'cores', 'At most 16 cores.');
    // The default quota is 8 cores and 8192 MB: 1 used + 8 more is over.
    await refuse({ cores: 9 }, 'quota', 'cores: 1 used + 8 asked > 8 allowed');
    await refuse({ cores: 1, memoryMb: 512 }, 'input', 'nothing to change');
    await refuse({}, 'cores', 'Give the new cores, memory or disk size.');
    await refuse({ cores: 'many' }, 'cores', 'whole number');
    expect(await models().Job.count({ where: { subjectType: 'container', subjectId: ct.id } })).to.equal(0);

    await act(a, ct, 'resize', { cores: 3 });
    expect((await ct.reload()).get()).to.include({ cores: 3, status: 'stopped' });
  });

  it('fails the job in Proxmox\'s words when Proxmox cannot resize, and keeps the record as it was', async () => {
    const a = await agentFor(fixture);
    const ct = await containerInSim(world, a.user.username);
    // Berth's record does not know the size: a smaller size goes to Proxmox as is, and Proxmox refuses.
    await ct.update({ diskGb: null });
    const res = await api(a, 'post', `/containers/${ct.id}/resize`).send({ diskGb: 2 }).expect(202);
    const job = await waitForJob(res.body.jobId);
    expect(job.status).to.equal('failure');
    expect(job.error).to.match(/^Growing the disk to 2 GB failed: .*shrink/);
    expect(await jobOutput(job.id)).to.contain('rootfs: 4 GB → 2G');
    expect((await ct.reload()).diskGb).to.equal(null);
  });

  it('lets only the owner (or an admin) act: another user gets 404 and nothing is enqueued', async () => {
    const owner = await agentFor(fixture);
    const other = await agentFor(fixture);
    const ct = await containerInSim(world, owner.user.username);
    for (const action of ['start', 'stop', 'shutdown', 'reboot', 'resize']) await api(other, 'post', `/containers/${ct.id}/${action}`).send({ cores: 2 }).expect(404);
    await api(other, 'delete', `/containers/${ct.id}`).expect(404);
    await form(other, `/containers/${ct.id}/delete`, { confirm: 'yes' }).expect(404);
    expect(await models().Job.count({ where: { subjectType: 'container', subjectId: ct.id } })).to.equal(0);
    expect((await ct.reload()).status).to.equal('running');
  });
});

describe('provisioning: deleting a container', function () {
  this.timeout(60_000);
  const fixture = useApp({ CONTAINER_DELETE_WAIT_SECONDS: '20' });
  const world = useWorld();

  it('DELETE stops it, deletes it on Proxmox and then the record: 200 {success, message}, the job log, the audit trail', async () => {
    const a = await agentFor(fixture);
    const ct = await containerInSim(world, a.user.username);
    await createCredential({ containerId: ct.id });
    expect(await models().Credential.count({ where: { containerId: ct.id } })).to.equal(1);
    const res = await api(a, 'delete', `/containers/${ct.id}`).expect(200);
    expect(res.body).to.deep.equal(DELETED);
    expect(await models().Container.findByPk(ct.id)).to.equal(null);
    await expectGoneFromProxmox(world, 150);

    const job = (await models().Job.findOne({ where: { subjectType: 'container', subjectId: ct.id, task: LIFECYCLE_TASKS.delete } }))!;
    expect(job).to.include({ status: 'success', createdBy: a.user.username });
    const output = await jobOutput(job.id);
    expect(output).to.contain(`1/3 Stopping ${ct.hostname}`).and.contain('stopping CT 150');
    expect(output).to.contain('2/3 Deleting').and.contain('successfully removed').and.contain(`3/3 Removing ${ct.hostname} from Berth`);
    expect(await models().Credential.count({ where: { containerId: ct.id } })).to.equal(0);
    const history = (await auditActions(ct.id)).map((e) => e.action);
    expect(history).to.deep.equal(['container.delete-request', 'container.delete']);
    const deleted = (await models().AuditEvent.findOne({ where: { action: 'container.delete', objectId: String(ct.id) } }))!;
    expect(deleted.actor).to.equal(a.user.username);
    expect(JSON.parse(deleted.changes!).hostname).to.deep.equal({ before: ct.hostname });
  });

  it('the form asks for the tick (422 on the page), then goes to the status page and the job deletes it', async () => {
    const a = await agentFor(fixture);
    const ct = await containerInSim(world, a.user.username, { stopped: true });
    const page = await a.agent.get(`/containers/${ct.id}`).expect(200);
    expect(page.text).to.contain(`action="/containers/${ct.id}/delete"`).and.contain('deletes it on Proxmox');
    const unticked = await form(a, `/containers/${ct.id}/delete`).expect(422);
    expect(unticked.text).to.contain('Tick the box to confirm').and.contain(`action="/containers/${ct.id}/delete"`);
    expect(await models().Job.count({ where: { subjectType: 'container', subjectId: ct.id } })).to.equal(0);

    const res = await form(a, `/containers/${ct.id}/delete`, { confirm: 'yes' }).expect(303);
    const jobId = Number(/^\/status\/(\d+)$/.exec(res.headers.location)![1]);
    expect((await waitForJob(jobId)).status).to.equal('success');
    expect(await jobOutput(jobId)).to.contain('it is stopped');
    expect(await models().Container.findByPk(ct.id)).to.equal(null);
    await expectGoneFromProxmox(world, 150);
  });

  it('answers 502 in Proxmox\'s words when Proxmox refuses, and keeps the record with its status', async () => {
    const a = await agentFor(fixture);
    const ct = await containerInSim(world, a.user.username);
    world.w.s.sim.failNextDelete();
    const res = await api(a, 'delete', `/containers/${ct.id}`).expect(502);
    expect(res.body.error).to.contain("can't remove CT 150 - protection mode enabled");
    // The job stopped it before Proxmox refused the delete.
    expect((await ct.reload()).status).to.equal('stopped');
    const history = (await auditActions(ct.id)).map((e) => e.action);
    expect(history).to.deep.equal(['container.delete-request', 'container.delete-failed']);

    // A lock held by a backup: refused too, in Proxmox's words; the record stays, and it can be retried later.
    world.w.s.sim.setLock(150, 'backup');
    const locked = await api(a, 'delete', `/containers/${ct.id}`).expect(502);
    expect(locked.body.error).to.contain('locked (backup)');
    expect((await ct.reload()).status).to.equal('stopped');
    world.w.s.sim.setLock(150, undefined);
    expect((await api(a, 'delete', `/containers/${ct.id}`).expect(200)).body).to.deep.equal(DELETED);
  });

  it('never deletes a container at the VMID that does not carry this record\'s marker (a stale record): 502, both stay', async () => {
    const a = await agentFor(fixture);
    const ct = await containerInSim(world, a.user.username);
    await world.pve.containers.updateConfig(world.w.n1.name, 150, { description: 'somebody else made this one' });
    const res = await api(a, 'delete', `/containers/${ct.id}`).expect(502);
    expect(res.body.error).to.contain("does not carry Berth's marker for this record");
    expect((await ct.reload()).status).to.equal('running');
    expect((await world.pve.containers.status(world.w.n1.name, 150)).status).to.equal('running');
  });

  it('acts on Proxmox only for containers Berth made, unless an admin asks: a record a user typed cannot stop or delete someone else\'s guest', async () => {
    // Someone's guest Berth has no record of (made in Proxmox directly).
    const wait = async (upid: string) => expect((await world.pve.tasks.wait(upid, { pollMs: 10 })).exitstatus).to.equal('OK');
    await wait(await world.pve.containers.create(world.w.n1.name, { vmid: 150, ostemplate: DEBIAN, hostname: `foreign-${hex()}`, rootfs: 'local-lvm:4', net0: 'name=eth0,bridge=vmbr0,ip=dhcp' }));
    await wait(await world.pve.containers.start(world.w.n1.name, 150));
    const mallory = await agentFor(fixture);
    // A record of her own, registered by hand, pointing at the victim's guest.
    const typed = await api(mallory, 'post', '/containers').send({ hostname: `typed-${hex()}.example.org`, containerId: 150, nodeId: world.w.n1.id, status: 'running' }).expect(201);
    const refused = await api(mallory, 'post', `/containers/${typed.body.containerId}/stop`).expect(403);
    expect(refused.body.error).to.contain('only an administrator');
    const removed = await api(mallory, 'delete', `/containers/${typed.body.containerId}`).expect(200);
    expect(removed.body).to.deep.equal(DELETED);
    expect((await world.pve.containers.status(world.w.n1.name, 150)).status, 'the guest was not touched').to.equal('running');
    // An admin's word is trusted: the same typed record can be stopped by an admin (then started again,
    // and the record removed, for what follows).
    const admin = await signedInAgent(fixture.app, { admin: true });
    const typedAgain = await api(mallory, 'post', '/containers').send({ hostname: `typed-${hex()}.example.org`, containerId: 150, nodeId: world.w.n1.id, status: 'running' }).expect(201);
    const byAdmin = await api(admin, 'post', `/containers/${typedAgain.body.containerId}/stop`).expect(202);
    expect((await waitForJob(byAdmin.body.jobId)).status).to.equal('success');
    expect((await world.pve.containers.status(world.w.n1.name, 150)).status).to.equal('stopped');
    const restart = await api(admin, 'post', `/containers/${typedAgain.body.containerId}/start`).expect(202);
    expect((await waitForJob(restart.body.jobId)).status).to.equal('success');
    await models().Container.destroy({ where: { id: typedAgain.body.containerId } });
    // Her own managed container, re-pointed at the victim's VMID: the job finds no marker of hers there.
    const own = await containerInSim(world, mallory.user.username, { vmid: 151 });
    await own.update({ vmid: 150 });
    const stop = await api(mallory, 'post', `/containers/${own.id}/stop`).expect(202);
    const ended = await waitForJob(stop.body.jobId);
    expect(ended.status).to.equal('failure');
    expect(ended.error).to.contain("does not carry Berth's marker for this record");
    expect((await world.pve.containers.status(world.w.n1.name, 150)).status).to.equal('running');
  });

  it('fails in plain words when the node cannot be reached: the power job fails, the delete answers 502, the record stays as it was', async () => {
    const a = await agentFor(fixture);
    const ct = await containerInSim(world, a.user.username);
    world.w.s.sim.setNodeOnline(world.w.n1.name, false);
    const stop = await api(a, 'post', `/containers/${ct.id}/stop`).expect(202);
    const job = await waitForJob(stop.body.jobId);
    expect(job.status).to.equal('failure');
    // The first call, checking Berth's marker on the guest, finds the node gone.
    expect(job.error).to.contain(`Checking the container failed: node ${world.w.n1.name} is unreachable`);
    expect((await ct.reload()).status).to.equal('running');
    const refused = await api(a, 'delete', `/containers/${ct.id}`).expect(502);
    expect(refused.body.error).to.contain('is unreachable');
    expect((await ct.reload()).status).to.equal('running');
    world.w.s.sim.setNodeOnline(world.w.n1.name, true);
    expect((await api(a, 'delete', `/containers/${ct.id}`).expect(200)).body).to.deep.equal(DELETED);
  });

  it('counts a container already gone from Proxmox as deleted, and removes a record with no VMID at once', async () => {
    const a = await agentFor(fixture);
    const gone = await createContainer({ username: a.user.username, nodeId: world.w.n1.id, vmid: 4242, status: 'running', managed: true });
    expect((await api(a, 'delete', `/containers/${gone.id}`).expect(200)).body).to.deep.equal(DELETED);
    expect(await models().Container.findByPk(gone.id)).to.equal(null);
    const job = (await models().Job.findOne({ where: { subjectType: 'container', subjectId: gone.id } }))!;
    expect(await jobOutput(job.id)).to.contain('already gone from Proxmox');

    const recordOnly = await createContainer({ username: a.user.username });
    expect((await api(a, 'delete', `/containers/${recordOnly.id}`).expect(200)).body).to.deep.equal(DELETED);
    expect(await models().Container.findByPk(recordOnly.id)).to.equal(null);
    expect(await models().Job.count({ where: { subjectType: 'container', subjectId: recordOnly.id } })).to.equal(0);
    await api(a, 'delete', `/containers/${recordOnly.id}`).expect(404);

    const viaForm = await createContainer({ username: a.user.username });
    const res = await form(a, `/containers/${viaForm.id}/delete`, { confirm: 'yes' }).expect(303);
    expect(res.headers.location).to.equal('/containers');
  });

  it('deletes again a container left `deleting` by a cancelled delete job, putting back the status that job kept when Proxmox refuses', async () => {
    const a = await agentFor(fixture);
    const ct = await containerInSim(world, a.user.username, { stopped: true });
    await ct.update({ status: 'deleting' });
    await createJob({ command: 'Delete container', task: LIFECYCLE_TASKS.delete, params: JSON.stringify({ containerId: ct.id, previousStatus: 'stopped' }), status: 'cancelled', finishedAt: new Date(), createdBy: a.user.username, subjectType: 'container', subjectId: ct.id });
    world.w.s.sim.failNextDelete();
    await api(a, 'delete', `/containers/${ct.id}`).expect(502);
    expect((await ct.reload()).status).to.equal('stopped');
    expect((await api(a, 'delete', `/containers/${ct.id}`).expect(200)).body).to.deep.equal(DELETED);
  });

  it('refuses to delete while another job works on the container or it is being created (409)', async () => {
    const a = await agentFor(fixture);
    const ct = await containerInSim(world, a.user.username);
    world.w.s.sim.hangTasks(true);
    const stop = await api(a, 'post', `/containers/${ct.id}/stop`).expect(202);
    const refused = await api(a, 'delete', `/containers/${ct.id}`).expect(409);
    expect(refused.body.error).to.contain(`job ${stop.body.jobId}`);
    world.w.s.sim.hangTasks(false);
    expect((await waitForJob(stop.body.jobId)).status).to.equal('success');
    const building = await createContainer({ username: a.user.username, nodeId: world.w.n1.id, vmid: 171, status: 'provisioning' });
    expect((await api(a, 'delete', `/containers/${building.id}`).expect(409)).body.error).to.contain('still being created');
  });
});

describe('provisioning: a delete that outlasts the wait', function () {
  this.timeout(60_000);
  const fixture = useApp({ CONTAINER_DELETE_WAIT_SECONDS: '0' });
  const world = useWorld();

  it('answers 202 {jobId, statusUrl} and the job finishes the delete', async () => {
    const a = await agentFor(fixture);
    const ct = await containerInSim(world, a.user.username, { stopped: true });
    world.w.s.sim.hangTasks(true);
    const res = await api(a, 'delete', `/containers/${ct.id}`).expect(202);
    expect(res.body).to.deep.equal({ jobId: res.body.jobId, statusUrl: `/status/${res.body.jobId}` });
    expect((await ct.reload()).status).to.equal('deleting');
    const again = await api(a, 'post', `/containers/${ct.id}/start`).expect(409);
    expect(again.body.error).to.contain('is deleting');
    world.w.s.sim.hangTasks(false);
    expect((await waitForJob(res.body.jobId)).status).to.equal('success');
    expect(await models().Container.findByPk(ct.id)).to.equal(null);
  });
});

async function expectGoneFromProxmox(world: { w: ProvisioningWorld; pve: ProxmoxClient }, vmid: number): Promise<void> {
  const list = await world.pve.containers.list(world.w.n1.name);
  expect(list.map((c) => c.vmid)).to.not.include(vmid);
}
