// The expiry action against the Proxmox simulator with an in-process runner: an expired container
// stopped by a job the day after its expiry date (stop policy); stopped, then deleted after the grace
// period (delete policy), never earlier and never without the stop's notice; each exactly once
// across repeated and concurrent scans; a VM stopped; an item extended meanwhile left alone;
// containers Berth did not create never touched; the owner's notices queued in the outbox.
//
// Every test uses expiry dates in a year of its own far in the past, so that the scan's "expired
// before the scan day" finds only this test's items (the run's database is shared).
import crypto from 'node:crypto';
import { expect } from 'chai';
import type { Container, VirtualMachine } from '../../../models/index.js';
import type { ExpiryItemType } from '../../../models/NotificationLog.js';
import { runExpiryActions, type ActionSummary, type ExpiryDeps } from '../../../src/expiry/actions.js';
import { addDays } from '../../../src/expiry/clock.js';
import { openPayload } from '../../../src/notify/outbox.js';
import { BERTH_TAG, berthDescription } from '../../../src/provisioning/marker.js';
import { requestVmPower } from '../../../src/provisioning/vm-lifecycle.js';
import { createContainer } from '../../factories/inventory.js';
import { createJob, createJobRunner } from '../../factories/jobs.js';
import { createUser } from '../../factories/users.js';
import { testCommand } from '../../support/command.js';
import { testConfig, testContext } from '../../support/context.js';
import { testDeliverer } from '../../support/outbox.js';
import { startSmtpServer } from '../../support/smtp.js';
import { jobOutput, waitForJob } from '../../support/runner.js';
import { DEBIAN, startProvisioningWorld, type ProvisioningWorld } from '../provisioning/world.js';

const models = () => testContext().db.models;

async function expectRejection(promise: Promise<unknown>, message: string): Promise<void> {
  const outcome = await promise.then(() => 'resolved', (err: Error) => err.message);
  expect(outcome).to.contain(message);
}
const hex = () => crypto.randomBytes(4).toString('hex');

/** A year nobody else's items expire in: 1901..2000, a different one per call. */
let yearOffset = crypto.randomInt(0, 50);
const freshYear = () => 1901 + (yearOffset++ % 100);

function deps(): ExpiryDeps {
  const cmd = testCommand();
  return { models: cmd.models, sequelize: cmd.sequelize, config: cmd.config, logger: cmd.logger, auditor: cmd.auditor };
}

/** One scan's expiry actions on `scanDay` (its moment: 08:00 UTC that day). */
const scan = (scanDay: string, opts: { dryRun?: boolean; print?: (line: string) => void } = {}) =>
  runExpiryActions(deps(), { scanDay, at: new Date(`${scanDay}T08:00:00Z`), ...opts });

/** The summaries about `item` only. */
const about = (summaries: ActionSummary[], kind: ExpiryItemType, item: { id: number }) => summaries.filter((s) => s.itemType === kind && s.itemId === item.id);

async function setPolicy(kind: ExpiryItemType, action: 'none' | 'stop' | 'delete', graceDays = 7): Promise<void> {
  await models().ExpiryPolicy.upsert({ kind, action, graceDays, updatedBy: 'test' });
}

async function notices(kind: ExpiryItemType, item: { id: number }) {
  return models().NotificationLog.findAll({ where: { itemType: kind, itemId: item.id }, order: [['id', 'ASC']] });
}

async function mails(kind: ExpiryItemType, item: { id: number }) {
  const rows = await models().OutboxMessage.findAll({ where: { category: 'expiry-action' }, order: [['id', 'ASC']] });
  return rows.filter((m) => m.dedupeKey?.startsWith(`expiry-action:${kind}:${item.id}:`));
}

/**
 * The item's notice mails recorded as delivered on `day` (as the deliverer records an SMTP server's
 * acceptance): a delete counts its grace period from the delivery. Delivery itself is tested in
 * test/integration/notify/.
 */
async function delivered(kind: ExpiryItemType, item: { id: number }, day: string): Promise<void> {
  for (const mail of await mails(kind, item)) if (mail.status !== 'sent') await mail.update({ status: 'sent', sentAt: new Date(`${day}T08:30:00Z`) });
}

async function jobsOf(kind: ExpiryItemType, item: { id: number }) {
  return models().Job.findAll({ where: { subjectType: kind, subjectId: item.id }, order: [['id', 'ASC']] });
}

describe('expiry: the expiry action (stop, then delete after the grace period)', function () {
  this.timeout(60_000);
  let w: ProvisioningWorld;
  let owner: { username: string; email: string };

  beforeEach(async () => {
    w = await startProvisioningWorld();
    const email = `owner-${hex()}@example.org`;
    owner = { username: (await createUser({ email })).user.username, email };
  });
  afterEach(async () => {
    // The policies are global: put back the default (reminders only) for the other test files.
    await models().ExpiryPolicy.destroy({ where: { kind: ['container', 'vm'] } });
    await w.cleanup();
  });

  const wait = async (upid: string) => expect((await w.pve.tasks.wait(upid, { pollMs: 10 })).exitstatus).to.equal('OK');

  /** A running (or stopped) container in the simulator on the first node, with the managed record a create would have written. */
  async function containerInSim(expiresAt: string, opts: { stopped?: boolean; managed?: boolean; vmid?: number } = {}): Promise<Container> {
    const vmid = opts.vmid ?? 150;
    const hostname = `ex-${hex()}`;
    const record = await models().Container.create({
      hostname: `${hostname}.example.org`, username: owner.username, osRelease: 'Debian 12', nodeId: w.n1.id, vmid, macAddress: null, ipv4Address: null,
      expiresAt, purpose: null, notes: null, tags: null, status: opts.stopped ? 'stopped' : 'running', managed: opts.managed ?? true, cores: 1, memoryMb: 512, diskGb: 4,
    });
    const marker = { tags: BERTH_TAG, description: berthDescription(record.id, 0, owner.username) };
    await wait(await w.pve.containers.create(w.n1.name, { vmid, ostemplate: DEBIAN, hostname, rootfs: 'local-lvm:4', cores: 1, memory: 512, net0: 'name=eth0,bridge=vmbr0,ip=dhcp', ...marker }));
    if (!opts.stopped) await wait(await w.pve.containers.start(w.n1.name, vmid));
    return record;
  }

  const proxmoxStatus = async (vmid = 150) => (await w.pve.containers.status(w.n1.name, vmid)).status;

  it('stop policy: nothing on the expiry day; on the day after, one stop job (Berth as requester, audited) and the owner told, once however often it scans', async () => {
    await setPolicy('container', 'stop');
    const expiresOn = `${freshYear()}-03-10`;
    const ct = await containerInSim(expiresOn);

    expect(about(await scan(expiresOn), 'container', ct)).to.deep.equal([]);
    expect(await jobsOf('container', ct)).to.have.length(0);

    const printed: string[] = [];
    const [stop] = about(await scan(addDays(expiresOn, 1), { print: (l) => printed.push(l) }), 'container', ct);
    expect(stop).to.deep.include({ itemType: 'container', itemId: ct.id, label: ct.hostname, action: 'stop' });
    expect(stop!.skipped).to.equal(undefined);
    expect(printed).to.include(`stop container ${ct.hostname} (#${ct.id}): job ${stop!.jobId}`);

    const job = await waitForJob(stop!.jobId!);
    expect(job.status, job.error ?? '').to.equal('success');
    expect(job).to.include({ task: 'container.stop', createdBy: null, subjectType: 'container', subjectId: ct.id });
    expect(await jobOutput(job.id)).to.contain(`1/2 Stopping ${ct.hostname} (CT 150 on ${w.n1.name})`).and.contain('TASK OK');
    expect((await ct.reload()).status).to.equal('stopped');
    expect(await proxmoxStatus()).to.equal('stopped');

    const [notice] = await notices('container', ct);
    expect(notice).to.deep.include({ notice: 'stopped', expiresOn, scanDay: addDays(expiresOn, 1), jobId: job.id, username: owner.username, itemLabel: ct.hostname });
    const [mail] = await mails('container', ct);
    expect(mail!.id).to.equal(notice!.outboxId);
    expect(JSON.parse(mail!.recipients)).to.deep.equal([owner.email]);
    expect(mail!.subject).to.equal(`Your container ${ct.hostname} expired and is being stopped`);
    const data = openPayload(testContext().config, mail!);
    expect(data).to.deep.include({ notice: 'stopped', label: ct.hostname, expiresOn, jobId: job.id, deleteOn: null, extendUrl: null });

    const audit = await models().AuditEvent.findAll({ where: { objectType: 'container', objectId: String(ct.id) }, order: [['id', 'ASC']] });
    expect(audit.map((e) => [e.action, e.actor])).to.deep.equal([['container.expiry-stop', null], ['container.stop', null]]);

    // The notice reaches a real SMTP server, once however often the outbox is delivered.
    const smtp = await startSmtpServer();
    try {
      const config = testConfig(testContext().scratch.url, { SMTP_HOST: '127.0.0.1', SMTP_PORT: String(smtp.port), SMTP_SECURE: 'none', PUBLIC_URL: testContext().config.publicUrl });
      const deliverer = await testDeliverer(config, { since: mail!.id - 1, scope: { id: mail!.id } });
      expect(await deliverer.deliverDue()).to.equal(1);
      expect(await deliverer.deliverDue()).to.equal(0);
      const received = await smtp.waitFor((m) => m.to.includes(owner.email));
      // A long Subject header is folded onto a second line: unfold it before reading.
      expect(received.raw.replace(/\r?\n[ \t]+/g, ' ')).to.contain(`Subject: Your container ${ct.hostname} expired and is being stopped`);
      expect(received.text).to.contain(`job ${job.id}`);
      expect(smtp.messages).to.have.length(1);
    } finally {
      await smtp.close();
    }
    expect(await models().AuditEvent.count({ where: { action: 'job.enqueue', objectId: String(job.id) } })).to.equal(1);

    // Later scans (the same day again, the next days): nothing more.
    for (const day of [addDays(expiresOn, 1), addDays(expiresOn, 2), addDays(expiresOn, 30)]) expect(about(await scan(day), 'container', ct)).to.deep.equal([]);
    expect(await jobsOf('container', ct)).to.have.length(1);
    expect(await notices('container', ct)).to.have.length(1);
    expect(await mails('container', ct)).to.have.length(1);
  });

  it('delete policy, grace 3 days: stopped the day after expiry (the mail names the delete date and an extend link), deleted 3 days later, not a day earlier, each once', async () => {
    await setPolicy('container', 'delete', 3);
    const expiresOn = `${freshYear()}-06-28`;
    const ct = await containerInSim(expiresOn);

    const [stop] = about(await scan(addDays(expiresOn, 1)), 'container', ct);
    expect(stop).to.deep.include({ action: 'stop' });
    expect((await waitForJob(stop!.jobId!)).status).to.equal('success');
    const [stopMail] = await mails('container', ct);
    const data = openPayload(testContext().config, stopMail!);
    expect(data.deleteOn).to.equal(addDays(expiresOn, 4));
    expect(String(data.extendUrl)).to.match(new RegExp(`^${testContext().config.publicUrl}/expiry/link\\?token=[A-Za-z0-9_-]+$`));
    expect(await models().ExtendLink.count({ where: { itemType: 'container', itemId: ct.id, expiresOn } })).to.equal(1);
    await delivered('container', ct, addDays(expiresOn, 1));

    for (const day of [addDays(expiresOn, 2), addDays(expiresOn, 3)]) expect(about(await scan(day), 'container', ct), day).to.deep.equal([]);
    expect(await jobsOf('container', ct)).to.have.length(1);

    const [del] = about(await scan(addDays(expiresOn, 4)), 'container', ct);
    expect(del).to.deep.include({ action: 'delete', label: ct.hostname });
    expect(del!.skipped).to.equal(undefined);
    const job = await waitForJob(del!.jobId!);
    expect(job.status, job.error ?? '').to.equal('success');
    expect(job).to.include({ task: 'container.delete', createdBy: null });
    expect(await models().Container.findByPk(ct.id)).to.equal(null);
    const gone = await w.pve.containers.status(w.n1.name, 150).then(() => 'still there', (err: Error) => err.message);
    expect(gone).to.not.equal('still there');

    expect((await notices('container', ct)).map((n) => [n.notice, n.scanDay])).to.deep.equal([['stopped', addDays(expiresOn, 1)], ['deleted', addDays(expiresOn, 4)]]);
    const all = await mails('container', ct);
    expect(all.map((m) => m.subject)).to.deep.equal([`Your container ${ct.hostname} expired and is being stopped`, `Your container ${ct.hostname} expired and is being deleted`]);
    expect(openPayload(testContext().config, all[1]!)).to.deep.include({ notice: 'deleted', jobId: job.id });
    expect(about(await scan(addDays(expiresOn, 5)), 'container', ct)).to.deep.equal([]);
    expect(await mails('container', ct)).to.have.length(2);
  });

  it('never deletes without the stop notice: an item first seen long after its delete date is stopped first, and deleted only the grace period after that notice', async () => {
    await setPolicy('container', 'delete', 3);
    const expiresOn = `${freshYear()}-01-05`;
    const ct = await containerInSim(expiresOn);
    const late = addDays(expiresOn, 40);

    const [first] = about(await scan(late), 'container', ct);
    expect(first).to.deep.include({ action: 'stop' });
    expect((await waitForJob(first!.jobId!)).status).to.equal('success');
    expect(openPayload(testContext().config, (await mails('container', ct))[0]!).deleteOn).to.equal(addDays(late, 3));
    await delivered('container', ct, late);

    for (const day of [addDays(late, 1), addDays(late, 2)]) expect(about(await scan(day), 'container', ct), day).to.deep.equal([]);
    const [del] = about(await scan(addDays(late, 3)), 'container', ct);
    expect(del).to.deep.include({ action: 'delete' });
    expect((await waitForJob(del!.jobId!)).status).to.equal('success');
  });

  it('two scans at once: one stop job, one notice, one mail', async () => {
    await setPolicy('container', 'stop');
    const expiresOn = `${freshYear()}-09-30`;
    const ct = await containerInSim(expiresOn);
    const day = addDays(expiresOn, 1);

    const results = await Promise.all([scan(day), scan(day), scan(day)]);
    const acted = results.flatMap((r) => about(r, 'container', ct)).filter((s) => !s.skipped);
    expect(acted).to.have.length(1);
    expect((await waitForJob(acted[0]!.jobId!)).status).to.equal('success');
    expect(await jobsOf('container', ct)).to.have.length(1);
    expect(await notices('container', ct)).to.have.length(1);
    expect(await mails('container', ct)).to.have.length(1);
  });

  it('an item extended meanwhile, or not expired, is left alone; an already stopped container gets its notice without a job', async () => {
    await setPolicy('container', 'stop');
    const year = freshYear();
    const extended = await containerInSim(`${year}-04-01`, { vmid: 150 });
    await extended.update({ expiresAt: `${year}-05-01` });
    const stopped = await containerInSim(`${year}-04-01`, { vmid: 151, stopped: true });

    const summaries = await scan(`${year}-04-02`);
    expect(about(summaries, 'container', extended)).to.deep.equal([]);
    expect(await jobsOf('container', extended)).to.have.length(0);
    expect(await proxmoxStatus(150)).to.equal('running');

    expect(about(summaries, 'container', stopped)).to.deep.equal([{ itemType: 'container', itemId: stopped.id, label: stopped.hostname, action: 'stop', jobId: null }]);
    expect(await jobsOf('container', stopped)).to.have.length(0);
    expect((await notices('container', stopped)).map((n) => [n.notice, n.jobId])).to.deep.equal([['stopped', null]]);
    expect((await mails('container', stopped))[0]!.subject).to.equal(`Your container ${stopped.hostname} expired and stays stopped`);
  });

  it('a container Berth did not create is never stopped or deleted (skipped, saying why); a busy one is skipped until its job has ended', async () => {
    await setPolicy('container', 'delete', 0);
    const year = freshYear();
    const unmanaged = await containerInSim(`${year}-02-01`, { vmid: 150, managed: false });
    const busy = await containerInSim(`${year}-02-01`, { vmid: 151 });
    // Another job at work on it, held by a runner that answers its heartbeat.
    const other = await createJobRunner();
    const working = await createJob({ command: 'something else', status: 'running', createdBy: owner.username, lockedBy: other.id, lockedAt: new Date(), startedAt: new Date(), subjectType: 'container', subjectId: busy.id });

    const summaries = await scan(`${year}-03-01`);
    const [u] = about(summaries, 'container', unmanaged);
    expect(u).to.deep.include({ jobId: null });
    expect(u!.skipped).to.contain('Berth did not create this container');
    const [b] = about(summaries, 'container', busy);
    expect(b!.skipped).to.contain(`${busy.hostname} is busy`);
    expect(await notices('container', unmanaged)).to.have.length(0);
    expect(await notices('container', busy)).to.have.length(0);
    expect(await proxmoxStatus(150)).to.equal('running');
    expect(await models().Container.findByPk(unmanaged.id)).to.not.equal(null);

    // Once that job has ended, the next scan stops it.
    await working.update({ status: 'success', finishedAt: new Date() });
    const [next] = about(await scan(`${year}-03-02`), 'container', busy);
    expect(next!.skipped).to.equal(undefined);
    expect((await waitForJob(next!.jobId!)).status).to.equal('success');
    expect(await proxmoxStatus(151)).to.equal('stopped');
  });

  it('a dry run says what it would do and writes nothing', async () => {
    await setPolicy('container', 'stop');
    const expiresOn = `${freshYear()}-07-07`;
    const ct = await containerInSim(expiresOn);
    const printed: string[] = [];
    const [s] = about(await scan(addDays(expiresOn, 1), { dryRun: true, print: (l) => printed.push(l) }), 'container', ct);
    expect(s).to.deep.equal({ itemType: 'container', itemId: ct.id, label: ct.hostname, action: 'stop', jobId: null, skipped: 'dry run' });
    expect(printed).to.include(`stop container ${ct.hostname} (#${ct.id}): skipped, dry run`);
    expect(await jobsOf('container', ct)).to.have.length(0);
    expect(await notices('container', ct)).to.have.length(0);
    expect(await mails('container', ct)).to.have.length(0);
  });

  it('stops an expired VM in the simulator (the delete policy stops VMs only); a VM whose name on Proxmox is not the record\'s is not touched', async () => {
    await setPolicy('vm', 'delete', 2);
    const expiresOn = `${freshYear()}-11-11`;
    // The seed's VM 200 (running on the first node) and VM 201 (second node, stopped: started here).
    const vm: VirtualMachine = await models().VirtualMachine.create({
      name: w.name('win-rdp01'), username: owner.username, osName: null, nodeId: w.n1.id, vmid: 200, macAddress: null, ipv4Address: null,
      status: 'running', environment: null, expiresAt: expiresOn, purpose: null, notes: null, tags: null,
    });
    await wait(await w.pve.vms.start(w.n2.name, 201));
    const wrong: VirtualMachine = await models().VirtualMachine.create({
      name: `not-${w.name('legacy-vm')}`, username: owner.username, osName: null, nodeId: w.n2.id, vmid: 201, macAddress: null, ipv4Address: null,
      status: 'running', environment: null, expiresAt: expiresOn, purpose: null, notes: null, tags: null,
    });

    const summaries = await scan(addDays(expiresOn, 1));
    const [s] = about(summaries, 'vm', vm);
    expect(s).to.deep.include({ action: 'stop', label: vm.name });
    const job = await waitForJob(s!.jobId!);
    expect(job.status, job.error ?? '').to.equal('success');
    expect(job).to.include({ task: 'vm.stop', createdBy: null, subjectType: 'vm', subjectId: vm.id });
    const output = await jobOutput(job.id);
    expect(output).to.contain(`1/3 Checking ${vm.name} (VM 200 on ${w.n1.name})`).and.contain(`2/3 Stopping ${vm.name}`).and.contain('TASK OK').and.contain(`3/3 Recording ${vm.name} as stopped`);
    expect((await w.pve.vms.status(w.n1.name, 200)).status).to.equal('stopped');
    expect((await vm.reload()).status).to.equal('stopped');
    expect((await models().AuditEvent.findAll({ where: { objectType: 'vm', objectId: String(vm.id) }, order: [['id', 'ASC']] })).map((e) => [e.action, e.actor])).to.deep.equal([
      ['vm.expiry-stop', null],
      ['vm.stop', null],
    ]);
    const [mail] = await mails('vm', vm);
    expect(mail!.subject).to.equal(`Your VM ${vm.name} expired and is being stopped`);
    expect(openPayload(testContext().config, mail!)).to.deep.include({ deleteOn: null, extendUrl: null });

    const [refused] = about(summaries, 'vm', wrong);
    const wrongJob = await waitForJob(refused!.jobId!);
    expect(wrongJob.status).to.equal('failure');
    expect(wrongJob.error).to.contain(`is named '${w.name('legacy-vm')}' on Proxmox, not '${wrong.name}'; nothing was done to it`);
    expect((await w.pve.vms.status(w.n2.name, 201)).status).to.equal('running');

    // The delete day: no VM delete exists, so it says so and does nothing.
    const [later] = about(await scan(addDays(expiresOn, 3)), 'vm', vm);
    expect(later).to.deep.include({ action: 'delete', jobId: null, skipped: 'Berth cannot delete VMs: it was stopped only' });
    expect(await jobsOf('vm', vm)).to.have.length(1);
    await models().VirtualMachine.destroy({ where: { id: [vm.id, wrong.id] } });
  });

  it('vm.shutdown (requestVmPower): refused without the policy\'s leave (403); shuts the VM down in the simulator as the requester, audited; a stopped VM or a busy one is refused with 409', async () => {
    const vm: VirtualMachine = await models().VirtualMachine.create({
      name: w.name('win-rdp01'), username: owner.username, osName: null, nodeId: w.n1.id, vmid: 200, macAddress: null, ipv4Address: null,
      status: 'running', environment: null, expiresAt: null, purpose: null, notes: null, tags: null,
    });
    const cmd = testCommand({ actor: { username: owner.username } });
    // Only with the policy's leave (administrators, the expiry action): Berth never creates VMs.
    await expectRejection(requestVmPower(cmd, vm.id, 'shutdown', { mayOperateUnmanaged: false }), `Berth did not create ${vm.name}, so only an administrator can have it shut down on Proxmox.`);
    const job = await requestVmPower(cmd, vm.id, 'shutdown', { mayOperateUnmanaged: true });
    await expectRejection(requestVmPower(cmd, vm.id, 'stop', { mayOperateUnmanaged: true }), `${vm.name} is busy: job ${job.id}`);
    const done = await waitForJob(job.id);
    expect(done.status, done.error ?? '').to.equal('success');
    expect(done).to.include({ task: 'vm.shutdown', createdBy: owner.username, command: `Shut down VM ${vm.name}` });
    expect(await jobOutput(job.id)).to.contain(`2/3 Shutting down ${vm.name} (VM 200 on ${w.n1.name})`).and.contain('TASK OK');
    expect((await w.pve.vms.status(w.n1.name, 200)).status).to.equal('stopped');
    expect((await vm.reload()).status).to.equal('stopped');
    const audit = await models().AuditEvent.findOne({ where: { objectType: 'vm', objectId: String(vm.id), action: 'vm.shutdown' } });
    expect(audit).to.deep.include({ actor: owner.username });
    await expectRejection(requestVmPower(cmd, vm.id, 'stop', { mayOperateUnmanaged: true }), `${vm.name} is stopped: only a running or paused VM can be stopped.`);
    await models().VirtualMachine.destroy({ where: { id: vm.id } });
  });

  it('does nothing under the default policy (reminders only)', async () => {
    const expiresOn = `${freshYear()}-08-08`;
    const ct = await createContainer({ username: owner.username, expiresAt: expiresOn, status: 'running' });
    expect(about(await scan(addDays(expiresOn, 30)), 'container', ct)).to.deep.equal([]);
    expect(await notices('container', ct)).to.have.length(0);
  });

  it('the delete waits until the notice that announced it was delivered, and counts the grace period from the delivery', async () => {
    await setPolicy('container', 'delete', 1);
    const expiresOn = `${freshYear()}-05-05`;
    const ct = await containerInSim(expiresOn);
    const [stop] = about(await scan(addDays(expiresOn, 1)), 'container', ct);
    expect((await waitForJob(stop!.jobId!)).status).to.equal('success');
    expect((await notices('container', ct))[0]).to.deep.include({ notice: 'stopped', actionOn: addDays(expiresOn, 2) });

    // SMTP was down (or the owner has no address): nothing is deleted on the announced day.
    const [held] = about(await scan(addDays(expiresOn, 2)), 'container', ct);
    expect(held).to.deep.include({ action: 'delete', jobId: null });
    expect(held!.skipped).to.contain('has not been delivered').and.contain('its mail is queued');
    expect(await models().Container.findByPk(ct.id)).to.not.equal(null);

    // Delivered a day late: the owner still gets the full grace period from then.
    await delivered('container', ct, addDays(expiresOn, 3));
    expect(about(await scan(addDays(expiresOn, 3)), 'container', ct)).to.deep.equal([]);
    const [del] = about(await scan(addDays(expiresOn, 4)), 'container', ct);
    expect(del).to.deep.include({ action: 'delete' });
    expect((await waitForJob(del!.jobId!)).status).to.equal('success');
    expect(await models().Container.findByPk(ct.id)).to.equal(null);
  });

  it('stopped under the stop policy, then the policy says delete: the delete is announced first, and happens the grace period after that notice', async () => {
    await setPolicy('container', 'stop');
    const expiresOn = `${freshYear()}-07-07`;
    const ct = await containerInSim(expiresOn);
    const [stop] = about(await scan(addDays(expiresOn, 1)), 'container', ct);
    expect((await waitForJob(stop!.jobId!)).status).to.equal('success');
    await delivered('container', ct, addDays(expiresOn, 1));

    await setPolicy('container', 'delete', 2);
    const announceDay = addDays(expiresOn, 10);
    const [announce] = about(await scan(announceDay), 'container', ct);
    expect(announce).to.deep.include({ action: 'delete', jobId: null });
    expect(announce!.skipped).to.equal(undefined);
    expect(await models().Container.findByPk(ct.id)).to.not.equal(null);
    expect((await notices('container', ct)).map((n) => [n.notice, n.actionOn])).to.deep.equal([['stopped', null], ['delete-due', addDays(announceDay, 2)]]);
    const announced = (await mails('container', ct))[1]!;
    expect(announced.subject).to.equal(`Your container ${ct.hostname} expired and will be deleted on ${addDays(announceDay, 2)}`);
    expect(openPayload(testContext().config, announced)).to.deep.include({ notice: 'delete-due', deleteOn: addDays(announceDay, 2) });

    await delivered('container', ct, announceDay);
    expect(about(await scan(addDays(announceDay, 1)), 'container', ct)).to.deep.equal([]);
    const [del] = about(await scan(addDays(announceDay, 2)), 'container', ct);
    expect(del).to.deep.include({ action: 'delete' });
    expect((await waitForJob(del!.jobId!)).status).to.equal('success');
    expect((await notices('container', ct)).map((n) => n.notice)).to.deep.equal(['stopped', 'delete-due', 'deleted']);
  });

  it('a stop job that failed is tried again at the next scan (no second notice), once however many scan', async () => {
    await setPolicy('container', 'stop');
    const expiresOn = `${freshYear()}-10-10`;
    const ct = await containerInSim(expiresOn);
    const [stop] = about(await scan(addDays(expiresOn, 1)), 'container', ct);
    const first = await waitForJob(stop!.jobId!);
    expect(first.status).to.equal('success');
    // As if that job had failed (Proxmox unreachable): the container still runs.
    await first.update({ status: 'failure', error: 'the node did not answer' });
    await wait(await w.pve.containers.start(w.n1.name, 150));
    await (await ct.reload()).update({ status: 'running' });

    const again = await Promise.all([scan(addDays(expiresOn, 2)), scan(addDays(expiresOn, 2))]);
    const retried = again.flatMap((s) => about(s, 'container', ct)).filter((s) => s.jobId !== null);
    expect(retried).to.have.length(1);
    expect((await waitForJob(retried[0]!.jobId!)).status).to.equal('success');
    expect(await proxmoxStatus()).to.equal('stopped');
    const [notice] = await notices('container', ct);
    expect(notice).to.deep.include({ notice: 'stopped', jobId: retried[0]!.jobId });
    expect(await mails('container', ct)).to.have.length(1);
    expect(about(await scan(addDays(expiresOn, 3)), 'container', ct)).to.deep.equal([]);
  });
});
