// POST /containers?init=true: validation, the hostname reservation, quotas, IP pools, identical and
// concurrent repeats, Idempotency-Key. The job is not run here (no runner): create-task.test.ts runs it.
import crypto from 'node:crypto';
import { expect } from 'chai';
import { CREATE_TASK } from '../../../src/provisioning/params.js';
import { useApp } from '../../support/app.js';
import { testContext } from '../../support/context.js';
import { csrfToken, signedInAgent } from '../../support/login.js';
import { startProvisioningWorld, type ProvisioningWorld } from './world.js';

const ED25519 = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGx5Tbb3m6dQm1vQnYc6YVv3v9oJ8wq1ZbX7x8y0nQ2z alice@laptop';

describe('provisioning: requesting a container', function () {
  this.timeout(60_000);
  const fixture = useApp();
  const models = () => testContext().db.models;
  let w: ProvisioningWorld;

  beforeEach(async () => {
    w = await startProvisioningWorld({ runner: false, pool: { from: 10, to: 12 } });
  });
  afterEach(async () => {
    await w.cleanup();
  });

  function agentFor(admin = false) {
    return signedInAgent(fixture.app, { admin });
  }

  const host = () => `ct-${crypto.randomBytes(4).toString('hex')}.example.org`;
  const post = (a: Awaited<ReturnType<typeof agentFor>>, body: Record<string, unknown>, headers: Record<string, string> = {}) => {
    let r = a.agent.post('/containers?init=true').set('Accept', 'application/json').set('X-CSRF-Token', a.csrf);
    for (const [k, v] of Object.entries(headers)) r = r.set(k, v);
    return r.send(body);
  };

  it('accepts the seed\'s body: 202 {jobId, containerId, statusUrl}, a provisioning row, its request and a pending container.create job', async () => {
    const alice = await agentFor();
    const hostname = host();
    const res = await post(alice, { hostname, osRelease: 'Ubuntu 24.04', httpPort: 8080, aiContainer: 'N' }).expect(202);
    expect(res.body).to.include.keys('jobId', 'containerId', 'statusUrl');
    expect(res.body.statusUrl).to.equal(`/status/${res.body.jobId}`);
    const row = (await models().Container.findByPk(res.body.containerId))!;
    expect(row).to.include({ hostname, username: alice.user.username, status: 'provisioning', managed: true, nodeId: w.n1.id, httpPort: 8080, cores: 1, memoryMb: 512, diskGb: 8 });
    // Ubuntu is only on the first node, whose pool gives the address before the first boot.
    expect(row.ipv4Address).to.equal(w.ip('10.20.0.10'));
    expect(row.macAddress).to.match(/^bc:24:11(:[0-9a-f]{2}){3}$/);
    expect(row.expiresAt, 'a non-admin gets the default expiry').to.be.a('string');
    const job = (await models().Job.findByPk(res.body.jobId))!;
    expect(job).to.include({ task: CREATE_TASK, status: 'pending', createdBy: alice.user.username, subjectType: 'container', subjectId: row.id });
    const req = (await models().ContainerRequest.findOne({ where: { containerId: row.id } }))!;
    expect(req.status).to.equal('submitted');
    expect(JSON.parse(req.params).net0).to.equal(`name=eth0,bridge=vmbr0,hwaddr=${row.macAddress!.toUpperCase()},ip=${row.ipv4Address}/24,gw=${w.ip('10.20.0.1')}`);
    expect(await models().AuditEvent.count({ where: { action: 'container.request', objectId: String(row.id) } })).to.equal(1);
  });

  it('sends a browser to the status page, and re-renders the form with each problem', async () => {
    const bob = await agentFor();
    const form = await bob.agent.get('/containers/new').expect(200);
    expect(form.text).to.contain('Ubuntu 24.04').and.to.contain('action="/containers?init=true"');
    const csrf = await csrfToken(bob.agent, '/containers/new');
    const ok = await bob.agent.post('/containers?init=true').type('form').send({ _csrf: csrf, hostname: host(), osRelease: 'Debian 12', nodeId: String(w.n2.id), cores: '1', memoryMb: '256', diskGb: '4', sshPublicKey: `${ED25519}\r\n\r\n`, expiresAt: new Date(Date.now() + 86400_000).toISOString().slice(0, 10) }).expect(303);
    expect(ok.headers.location).to.match(/^\/status\/\d+$/);
    const job = (await models().Job.findByPk(Number(ok.headers.location.split('/').pop())))!;
    const asked = (await models().ContainerRequest.findOne({ where: { containerId: job.subjectId } }))!;
    expect(JSON.parse(asked.params).sshPublicKeys, 'one key per line, blank lines dropped').to.equal(ED25519);
    const bad = await bob.agent.post('/containers?init=true').type('form').send({ _csrf: csrf, hostname: 'no_underscores!', osRelease: 'Debian 12', cores: '0', sshPublicKey: 'ssh-rsa not-a-key', expiresAt: '' }).expect(422);
    expect(bad.text).to.contain('no_underscores!').and.to.contain('class="field-error" id="hostname-error"').and.to.contain('id="cores-error"').and.to.contain('id="sshPublicKey-error"');
    const noExpiry = await bob.agent.post('/containers?init=true').type('form').send({ _csrf: csrf, hostname: host(), osRelease: 'Debian 12', expiresAt: '' }).expect(422);
    expect(noExpiry.text).to.contain('Choose an expiry date.');
    const tooFar = await post(bob, { hostname: host(), osRelease: 'Debian 12', expiresAt: '2999-01-01' }).expect(422);
    expect(tooFar.body.fields.expiresAt).to.match(/^At most \d{4}-\d\d-\d\d/);
    const notHere = await post(bob, { hostname: host(), osRelease: 'Ubuntu 24.04', nodeId: w.n2.id }).expect(422);
    expect(notHere.body.fields.osRelease).to.equal(`Not available on ${w.n2.name}.`);
    await post(bob, { hostname: host(), osRelease: 'Windows 95' }).expect(422);
    await post(bob, { hostname: `${'a'.repeat(64)}.example.org`, osRelease: 'Debian 12' }).expect(422);
    // Nothing half-written: only the accepted request left a row.
    expect(await models().Container.count({ where: { username: bob.user.username } })).to.equal(1);
  });

  it('refuses a taken host name without saying whose it is', async () => {
    const alice = await agentFor();
    const bob = await agentFor();
    const hostname = host();
    await post(alice, { hostname, osRelease: 'Debian 12' }).expect(202);
    const res = await post(bob, { hostname, osRelease: 'Debian 12' }).expect(409);
    expect(res.body.error).to.equal(`The host name ${hostname} is already taken.`);
    expect(JSON.stringify(res.body)).not.to.contain(alice.user.username);
    // The same user asking for the same name with other resources is a clash too, not a repeat.
    await post(alice, { hostname, osRelease: 'Debian 12', cores: 2 }).expect(409);
  });

  for (const withKey of [false, true]) {
    it(`answers five identical requests at once with one container and one job (${withKey ? 'with' : 'without'} Idempotency-Key)`, async () => {
      const alice = await agentFor();
      const body = { hostname: host(), osRelease: 'Debian 12', nodeId: w.n2.id, cores: 1 };
      const headers: Record<string, string> = withKey ? { 'Idempotency-Key': crypto.randomUUID() } : {};
      const answers = await Promise.all(Array.from({ length: 5 }, () => post(alice, body, headers)));
      expect(answers.map((a) => a.status)).to.deep.equal([202, 202, 202, 202, 202]);
      expect(new Set(answers.map((a) => a.body.jobId)).size).to.equal(1);
      expect(new Set(answers.map((a) => a.body.containerId)).size).to.equal(1);
      expect(await models().Container.count({ where: { hostname: body.hostname } })).to.equal(1);
      expect(await models().Job.count({ where: { subjectType: 'container', subjectId: answers[0].body.containerId } })).to.equal(1);
    });
  }

  it('replays the first answer for an Idempotency-Key and refuses the key with another body', async () => {
    const alice = await agentFor();
    const key = crypto.randomUUID();
    const first = await post(alice, { hostname: host(), osRelease: 'Debian 12', nodeId: w.n2.id }, { 'Idempotency-Key': key }).expect(202);
    const again = await post(alice, { hostname: host(), osRelease: 'Debian 12', nodeId: w.n2.id }, { 'Idempotency-Key': key }).expect(409);
    expect(again.body.error).to.contain('already used for a different request');
    const { hostname } = (await models().Container.findByPk(first.body.containerId))!;
    const same = await post(alice, { hostname, osRelease: 'Debian 12', nodeId: w.n2.id }, { 'Idempotency-Key': key }).expect(202);
    expect(same.body.jobId).to.equal(first.body.jobId);
    await post(alice, { hostname: host(), osRelease: 'Debian 12' }, { 'Idempotency-Key': 'bad key with spaces' }).expect(422);
    // Still the first answer after what it was checked against changed (the template withdrawn).
    await models().ContainerTemplate.destroy({ where: { nodeId: w.n2.id, osRelease: 'Debian 12' } });
    const later = await post(alice, { hostname, osRelease: 'Debian 12', nodeId: w.n2.id }, { 'Idempotency-Key': key }).expect(202);
    expect(later.body.jobId).to.equal(first.body.jobId);
  });

  it('keeps the form and says why when "automatic" cannot ask any node for its free memory', async () => {
    const bob = await agentFor();
    const csrf = await csrfToken(bob.agent, '/containers/new');
    w.s.sim.setUnreachable('reset');
    const hostname = host();
    const res = await bob.agent.post('/containers?init=true').type('form').send({ _csrf: csrf, hostname, osRelease: 'Debian 12', nodeId: 'auto' }).expect(502);
    w.s.sim.setUnreachable('off');
    expect(res.text).to.contain('No node that offers this template answered').and.to.contain(`value="${hostname}"`);
    expect(await models().Container.count({ where: { hostname } })).to.equal(0);
  });

  it('counts everything a user has or has pending against the quota, and queues an over-quota request for approval', async () => {
    const alice = await agentFor();
    await models().UserQuota.create({ userId: alice.user.id, maxContainers: 2, maxCores: 3, maxMemoryMb: null, maxDiskGb: null });
    await post(alice, { hostname: host(), osRelease: 'Debian 12', nodeId: w.n2.id, cores: 2 }).expect(202);
    const over = await post(alice, { hostname: host(), osRelease: 'Debian 12', nodeId: w.n2.id, cores: 2 }).expect(422);
    expect(over.body.fields.quota).to.equal('cores: 2 used + 2 asked > 3 allowed');
    const queued = await post(alice, { hostname: host(), osRelease: 'Debian 12', nodeId: w.n2.id, cores: 2, submitForApproval: true }).expect(202);
    expect(queued.body).to.include({ state: 'pending', jobId: null, statusUrl: null });
    const row = (await models().Container.findByPk(queued.body.containerId))!;
    expect(row.status).to.equal('pending-approval');
    const req = (await models().ContainerRequest.findOne({ where: { containerId: row.id } }))!;
    expect(req.status).to.equal('pending');
    expect(JSON.parse(req.overage!).map((o: { resource: string }) => o.resource)).to.deep.equal(['cores']);
    // The pending request holds its share: now the count is reached too.
    const full = await post(alice, { hostname: host(), osRelease: 'Debian 12', nodeId: w.n2.id, cores: 1 }).expect(422);
    expect(full.body.fields.quota).to.contain('containers: 2 used + 1 asked > 2 allowed');
    // Withdrawn by its requester while it waits: the name and the quota share are free again.
    await alice.agent.delete(`/containers/${row.id}`).set('Accept', 'application/json').set('X-CSRF-Token', alice.csrf).expect(200);
    expect(await models().Container.findByPk(row.id)).to.equal(null);
    expect(await req.reload()).to.include({ status: 'withdrawn', decidedBy: alice.user.username, containerId: null });
    await post(alice, { hostname: row.hostname, osRelease: 'Debian 12', nodeId: w.n2.id, cores: 1 }).expect(202);
  });

  it('gives each request its own address from the pool and says so when the pool is exhausted', async () => {
    const admin = await agentFor(true);
    const ips = [];
    for (let i = 0; i < 3; i++) {
      const res = await post(admin, { hostname: host(), osRelease: 'Ubuntu 24.04' }).expect(202);
      ips.push((await models().Container.findByPk(res.body.containerId))!.ipv4Address);
    }
    expect(ips).to.deep.equal(['10.20.0.10', '10.20.0.11', '10.20.0.12'].map(w.ip));
    const res = await post(admin, { hostname: host(), osRelease: 'Ubuntu 24.04' }).expect(422);
    expect(res.body.error).to.contain('has no free address left');
    // An admin may leave the expiry out.
    expect((await models().Container.findOne({ where: { ipv4Address: ips[0] } }))!.expiresAt).to.equal(null);
  });

  it('lets "automatic" pick the node with the template and the most free memory', async () => {
    const alice = await agentFor();
    const free = new Map((await w.pve.cluster.nodeResources()).map((r) => [r.node, r.free]));
    const expected = free.get(w.n1.name)! >= free.get(w.n2.name)! ? w.n1 : w.n2;
    const res = await post(alice, { hostname: host(), osRelease: 'Debian 12', nodeId: 'auto' }).expect(202);
    expect((await models().Container.findByPk(res.body.containerId))!.nodeId).to.equal(expected.id);
  });

  it('keeps the expiry rule on later edits by the owner, and refuses edits while the container is being built', async () => {
    const alice = await agentFor();
    const res = await post(alice, { hostname: host(), osRelease: 'Debian 12', nodeId: w.n2.id }).expect(202);
    const put = (a: Awaited<ReturnType<typeof agentFor>>, body: Record<string, unknown>) => a.agent.put(`/containers/${res.body.containerId}`).set('Accept', 'application/json').set('X-CSRF-Token', a.csrf).send(body);
    expect((await put(alice, { purpose: 'changed' }).expect(409)).body.error).to.contain('is provisioning');
    const row = (await models().Container.findByPk(res.body.containerId))!;
    await row.update({ status: 'running' });
    expect((await put(alice, { expiresAt: '' }).expect(422)).body.fields.expiresAt).to.equal('Choose an expiry date.');
    expect((await put(alice, { expiresAt: '2999-01-01' }).expect(422)).body.fields.expiresAt).to.match(/^At most /);
    const soon = new Date(Date.now() + 10 * 86400_000).toISOString().slice(0, 10);
    await put(alice, { expiresAt: soon }).expect(200);
    // An admin may go further, or clear it.
    await put(await agentFor(true), { expiresAt: '' }).expect(200);
    expect((await row.reload()).expiresAt).to.equal(null);
  });

  it('keeps POST /containers without init as the register call for scripts, and the register form for admins', async () => {
    const alice = await agentFor();
    const res = await alice.agent.post('/containers').set('Accept', 'application/json').set('X-CSRF-Token', alice.csrf).send({ hostname: host() }).expect(201);
    expect(res.body).to.include.keys('containerId', 'message');
    expect((await models().Container.findByPk(res.body.containerId))!.managed).to.equal(false);
    await alice.agent.get('/containers/register').expect(403);
    const admin = await agentFor(true);
    expect((await admin.agent.get('/containers/register').expect(200)).text).to.contain('Nothing is created on Proxmox');
  });
});
