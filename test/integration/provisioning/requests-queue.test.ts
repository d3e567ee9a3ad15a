// The admin queue of container requests over quota (GET /containers/requests, approve, reject),
// with a real SMTP server for the rejection mail (queued in the outbox, delivered by a test deliverer). The requests are made by the request command
// itself (requestContainer), so the queue shows exactly what it stores.
import crypto from 'node:crypto';
import { expect } from 'chai';
import request from 'supertest';
import type { User } from '../../../models/index.js';
import { CREATE_TASK } from '../../../src/provisioning/params.js';
import { daysFromToday } from '../../../src/provisioning/expiry.js';
import { requestContainer } from '../../../src/provisioning/request.js';
import { createNode } from '../../factories/inventory.js';
import { createAdminUser, createUser } from '../../factories/users.js';
import { testCommand } from '../../support/command.js';
import { testConfig, testContext } from '../../support/context.js';
import { csrfFrom, login } from '../../support/login.js';
import { until } from '../../support/nginx.js';
import { startTestDeliverer } from '../../support/outbox.js';
import { startSmtpServer, type SmtpSink } from '../../support/smtp.js';
import { buildApp, smtpEnv, type BuiltApp } from '../accounts/build-app.js';
import { waitForJob } from '../../support/runner.js';
import { DEBIAN, startProvisioningWorld } from './world.js';

describe('provisioning: the approval queue', function () {
  this.timeout(60_000);
  const models = () => testContext().db.models;
  let smtp: SmtpSink;
  let built: BuiltApp;
  /** Delivers the mail this test queues (the job runner's part in production). */
  let deliverer: { close(): Promise<void> };
  /** Jobs the approvals enqueued: cancelled afterwards, so no runner of a later test picks them up. */
  const enqueued: number[] = [];

  beforeEach(async () => {
    smtp = await startSmtpServer();
    built = buildApp(smtpEnv(smtp.port));
    deliverer = await startTestDeliverer(testConfig(testContext().scratch.url, { ...smtpEnv(smtp.port), OUTBOX_POLL_MS: '50' }));
  });
  afterEach(async () => {
    await deliverer.close();
    await built.stop();
    await smtp.close();
    if (enqueued.length) await models().Job.update({ status: 'cancelled', finishedAt: new Date() }, { where: { id: enqueued.splice(0), status: 'pending' } });
  });

  const host = () => `q-${crypto.randomBytes(4).toString('hex')}.example.org`;

  /** A requester with an email address and a quota of no containers at all: every request is over it. */
  async function requester(): Promise<User> {
    const { user } = await createUser({ email: `req-${crypto.randomBytes(3).toString('hex')}@example.org` });
    await models().UserQuota.create({ userId: user.id, maxContainers: 0, maxCores: null, maxMemoryMb: null, maxDiskGb: null });
    return user;
  }

  /** A request submitted for approval by `user` on a node of its own (DHCP: no pool there). */
  async function pendingRequest(user: User, hostname = host()) {
    const node = await createNode();
    await models().ContainerTemplate.create({ nodeId: node.id, volid: DEBIAN, osRelease: 'Debian 12' });
    const cmd = testCommand({ user: { id: user.id, username: user.username, isAdmin: false }, actor: { username: user.username } });
    const answer = await requestContainer(cmd, {
      hostname, osRelease: 'Debian 12', nodeId: node.id, cores: 2, memoryMb: 1024, diskGb: 8, httpPort: 8080,
      sshPublicKey: null, aiContainer: 'N', expiresAt: daysFromToday(7), purpose: 'build farm tests', submitForApproval: true,
    }, { isAdmin: false, chooseNode: () => Promise.reject(new Error('the node is given')) });
    expect(answer.state).to.equal('pending');
    return { ...answer, hostname, node };
  }

  async function adminAgent() {
    const admin = await createAdminUser();
    const agent = request.agent(built.app);
    await login(agent, admin.user.username, admin.password);
    const page = await agent.get('/containers/requests').expect(200);
    return { agent, admin: admin.user, csrf: csrfFrom(page.text) };
  }

  it('lists pending requests newest first, with what was asked and the overage', async () => {
    const alice = await requester();
    const older = await pendingRequest(alice);
    const newer = await pendingRequest(alice);
    const { agent } = await adminAgent();

    const json = await agent.get('/containers/requests').set('Accept', 'application/json').expect(200);
    const ids = (json.body.pending as Array<{ id: number }>).map((r) => r.id);
    expect(ids.indexOf(newer.requestId), 'both listed').to.be.at.least(0);
    expect(ids.indexOf(newer.requestId)).to.be.below(ids.indexOf(older.requestId));
    const shown = json.body.pending.find((r: { id: number }) => r.id === newer.requestId);
    expect(shown).to.include({ hostname: newer.hostname, requester: alice.username, status: 'pending', containerId: newer.containerId, jobId: null });
    expect(shown.asked).to.include({ osRelease: 'Debian 12', node: newer.node.name, cores: 2, memoryMb: 1024, diskGb: 8, httpPort: 8080, ipv4Address: null, template: DEBIAN, hasSshKey: false, purpose: 'build farm tests' });
    // The second request counts the first one's reservation: two containers over a limit of none.
    expect(shown.overage).to.deep.include({ resource: 'containers', limit: 0, used: 1, wanted: 1, text: 'containers: 1 used + 1 asked > 0 allowed' });
    expect(shown.overageText).to.equal('containers: 1 used + 1 asked > 0 allowed');

    const page = await agent.get('/containers/requests').expect(200);
    expect(page.text.indexOf(newer.hostname)).to.be.above(0).and.below(page.text.indexOf(older.hostname));
    expect(page.text).to.contain(`action="/containers/requests/${newer.requestId}/approve"`)
      .and.contain('2 cores, 1024 MB memory, 8 GB disk')
      .and.contain('containers: 0 used + 1 asked &gt; 0 allowed');
    // The nav links the queue for admins.
    expect(page.text).to.contain('href="/containers/requests"');
  });

  it('approve: a browser goes to the job, which is a container.create job owned by the requester; twice is a 409', async () => {
    const bob = await requester();
    const pending = await pendingRequest(bob);
    const { agent, admin, csrf } = await adminAgent();

    const res = await agent.post(`/containers/requests/${pending.requestId}/approve`).type('form').send({ _csrf: csrf }).expect(303);
    const jobId = Number(/^\/status\/(\d+)$/.exec(res.headers.location)?.[1]);
    expect(jobId, res.headers.location).to.be.above(0);
    enqueued.push(jobId);
    const job = (await models().Job.findByPk(jobId))!;
    expect(job).to.include({ task: CREATE_TASK, createdBy: bob.username, status: 'pending', subjectType: 'container', subjectId: pending.containerId });
    expect(JSON.parse(job.params!)).to.deep.include({ containerId: pending.containerId, requestId: pending.requestId });
    expect(job.command).to.match(/^Create container q-[0-9a-f]+\.example\.org \(request \d+\)$/);
    expect((await models().Container.findByPk(pending.containerId))!.status).to.equal('provisioning');
    expect((await models().ContainerRequest.findByPk(pending.requestId))!).to.include({ status: 'submitted', decidedBy: admin.username, jobId });
    expect(await models().AuditEvent.count({ where: { action: 'container.approve', objectId: String(pending.containerId), actor: admin.username } })).to.equal(1);
    const status = await agent.get(res.headers.location).expect(200);
    expect(status.text).to.contain(`Approved: ${pending.hostname} is being created for ${bob.username}.`);

    // It moved to the decided list, with its job.
    const list = await agent.get('/containers/requests').set('Accept', 'application/json').expect(200);
    expect(list.body.pending.map((r: { id: number }) => r.id)).not.to.include(pending.requestId);
    expect(list.body.decided.find((r: { id: number }) => r.id === pending.requestId)).to.include({ status: 'submitted', decidedBy: admin.username, jobId, statusUrl: `/status/${jobId}` });

    const again = await agent.post(`/containers/requests/${pending.requestId}/approve`).set('Accept', 'application/json').set('X-CSRF-Token', csrf).send({}).expect(409);
    expect(again.body.error).to.equal('This request was already decided (submitted).');
    const againInBrowser = await agent.post(`/containers/requests/${pending.requestId}/approve`).type('form').send({ _csrf: csrf }).expect(409);
    expect(againInBrowser.text).to.contain('This request was already decided (submitted).');
    expect(await models().Job.count({ where: { task: CREATE_TASK, subjectId: pending.containerId } }), 'one job only').to.equal(1);
  });

  it('approve over JSON answers 200 {jobId, statusUrl}', async () => {
    const pending = await pendingRequest(await requester());
    const { agent, csrf } = await adminAgent();
    const res = await agent.post(`/containers/requests/${pending.requestId}/approve`).set('Accept', 'application/json').set('X-CSRF-Token', csrf).send({}).expect(200);
    enqueued.push(res.body.jobId);
    expect(res.body).to.include({ statusUrl: `/status/${res.body.jobId}`, containerId: pending.containerId, requestId: pending.requestId });
    expect(res.body.jobId).to.be.a('number');
  });

  it('reject: a reason is required; the requester is mailed it, the hostname is free again; twice is a 409', async () => {
    const carol = await requester();
    const pending = await pendingRequest(carol);
    const { agent, admin, csrf } = await adminAgent();
    const path = `/containers/requests/${pending.requestId}/reject`;

    const missing = await agent.post(path).set('Accept', 'application/json').set('X-CSRF-Token', csrf).send({}).expect(422);
    expect(missing.body.fields.reason).to.equal('Give the requester a reason.');
    const blank = await agent.post(path).type('form').send({ _csrf: csrf, reason: '   ' }).expect(422);
    expect(blank.text).to.contain('Give the requester a reason.').and.contain(`id="request-${pending.requestId}"`);
    const long = await agent.post(path).set('Accept', 'application/json').set('X-CSRF-Token', csrf).send({ reason: 'x'.repeat(1001) }).expect(422);
    expect(long.body.fields.reason).to.equal('Keep the reason to 1000 characters.');
    expect((await models().ContainerRequest.findByPk(pending.requestId))!.status, 'nothing decided yet').to.equal('pending');

    const reason = 'Two cores <are> plenty for a build agent';
    const res = await agent.post(path).type('form').send({ _csrf: csrf, reason }).expect(303);
    expect(res.headers.location).to.equal('/containers/requests');
    const mail = await smtp.waitFor((m) => m.to.includes(carol.email!));
    expect(mail.subject).to.contain(pending.hostname);
    expect(mail.text).to.contain(reason).and.contain(admin.username);

    expect(await models().Container.findByPk(pending.containerId), 'the reservation is released').to.equal(null);
    expect((await models().ContainerRequest.findByPk(pending.requestId))!).to.include({ status: 'rejected', reason, decidedBy: admin.username, containerId: null, jobId: null });
    expect(await models().Job.count({ where: { task: CREATE_TASK, subjectId: pending.containerId } })).to.equal(0);
    const page = await agent.get('/containers/requests').expect(200);
    const queued = await models().OutboxMessage.findOne({ where: { category: 'container-rejected', forUser: carol.username } });
    expect(page.text).to.contain(`An email with the reason is queued for the requester (outbox message ${queued!.id}).`).and.contain('Two cores &lt;are&gt; plenty');

    const again = await agent.post(path).set('Accept', 'application/json').set('X-CSRF-Token', csrf).send({ reason: 'again' }).expect(409);
    expect(again.body.error).to.equal('This request was already decided (rejected).');
    const approveRejected = await agent.post(`/containers/requests/${pending.requestId}/approve`).set('Accept', 'application/json').set('X-CSRF-Token', csrf).send({}).expect(409);
    expect(approveRejected.body.error).to.equal('This request was already decided (rejected).');
    // The host name can be asked for again.
    await pendingRequest(carol, pending.hostname);
  });

  it('reject over JSON says whether the requester was emailed; without an address the mail is left in the outbox with the reason', async () => {
    const { user: noEmail } = await createUser();
    await models().UserQuota.create({ userId: noEmail.id, maxContainers: 0, maxCores: null, maxMemoryMb: null, maxDiskGb: null });
    const pending = await pendingRequest(noEmail);
    const { agent, csrf } = await adminAgent();
    const res = await agent.post(`/containers/requests/${pending.requestId}/reject`).set('Accept', 'application/json').set('X-CSRF-Token', csrf).send({ reason: 'Not this quarter' }).expect(200);
    expect(res.body).to.deep.include({ success: true, emailed: false, warning: 'no email address' });
    const queued = await models().OutboxMessage.findByPk(res.body.outboxId);
    expect(queued).to.include({ category: 'container-rejected', forUser: noEmail.username });
    expect(JSON.parse(queued!.recipients)).to.deep.equal([]);
    await until(async () => (await models().OutboxMessage.findByPk(queued!.id))!.status === 'failed', 10_000, () => 'delivery did not give up on the message');
    expect((await models().OutboxMessage.findByPk(queued!.id))!.lastError).to.equal(`no email address for ${noEmail.username}`);
  });

  it('answers 404 for a request that does not exist, and 403 to a non-admin', async () => {
    const { agent, csrf } = await adminAgent();
    await agent.post('/containers/requests/999999999/approve').set('Accept', 'application/json').set('X-CSRF-Token', csrf).send({}).expect(404);
    const pending = await pendingRequest(await requester());
    const { user, password } = await createUser();
    const plain = request.agent(built.app);
    await login(plain, user.username, password);
    await plain.get('/containers/requests').set('Accept', 'application/json').expect(403);
    const page = await plain.get('/account').expect(200);
    expect(page.text).not.to.contain('href="/containers/requests"');
    await plain.post(`/containers/requests/${pending.requestId}/approve`).set('Accept', 'application/json').set('X-CSRF-Token', csrfFrom(page.text)).send({}).expect(403);
    expect((await models().ContainerRequest.findByPk(pending.requestId))!.status).to.equal('pending');
  });
});

describe('provisioning: an approved request is built', function () {
  this.timeout(60_000);

  it('approve → the container.create job runs as the requester and the container is running with its address', async () => {
    const w = await startProvisioningWorld();
    const built = buildApp();
    try {
      const { models } = testContext().db;
      const { user } = await createUser();
      await models.UserQuota.create({ userId: user.id, maxContainers: 0, maxCores: null, maxMemoryMb: null, maxDiskGb: null });
      const cmd = testCommand({ user: { id: user.id, username: user.username, isAdmin: false }, actor: { username: user.username } });
      const hostname = `q-${crypto.randomBytes(4).toString('hex')}.example.org`;
      const pending = await requestContainer(cmd, {
        hostname, osRelease: 'Debian 12', nodeId: w.n1.id, cores: 1, memoryMb: 512, diskGb: 4, httpPort: null,
        sshPublicKey: null, aiContainer: 'N', expiresAt: daysFromToday(3), purpose: null, submitForApproval: true,
      }, { isAdmin: false, chooseNode: () => Promise.reject(new Error('the node is given')) });

      const admin = await createAdminUser();
      const agent = request.agent(built.app);
      await login(agent, admin.user.username, admin.password);
      const csrf = csrfFrom((await agent.get('/containers/requests').expect(200)).text);
      const res = await agent.post(`/containers/requests/${pending.requestId}/approve`).set('Accept', 'application/json').set('X-CSRF-Token', csrf).send({}).expect(200);
      const job = await waitForJob(res.body.jobId, 30_000);
      expect(job.status, job.error ?? '').to.equal('success');
      expect(job.createdBy).to.equal(user.username);
      const container = (await models.Container.findByPk(pending.containerId))!;
      expect(container).to.include({ status: 'running', username: user.username, nodeId: w.n1.id });
      expect(container.vmid).to.be.a('number');
      expect(container.ipv4Address).to.be.a('string');
    } finally {
      await built.stop();
      await w.cleanup();
    }
  });
});
