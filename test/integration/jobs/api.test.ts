import { expect } from 'chai';
import request from 'supertest';
import { SYNC_TASK } from '../../../src/jobs/tasks/inventory-sync.js';
import { useApp } from '../../support/app.js';
import { testContext } from '../../support/context.js';
import { signedInAgent } from '../../support/login.js';
import { insertShellJob, startRunner, waitForJob } from '../../support/runner.js';

describe('jobs API', function () {
  this.timeout(30_000);
  const fixture = useApp();

  function agentFor(admin: boolean) {
    return signedInAgent(fixture.app, { admin });
  }

  it('POST /jobs (admin) → 201 {id, status}; the runner runs it; GET /jobs/:id and /jobs/:id/status show it', async () => {
    const { agent, user, csrf } = await agentFor(true);
    const res = await agent.post('/jobs').set('X-CSRF-Token', csrf).send({ command: 'echo Hello; echo World' }).expect(201);
    expect(res.body).to.deep.equal({ id: res.body.id, status: 'pending' });
    const runner = await startRunner();
    await waitForJob(res.body.id);
    await runner.close();
    const meta = await agent.get(`/jobs/${res.body.id}`).expect(200);
    expect(meta.body).to.include({ id: res.body.id, command: 'echo Hello; echo World', status: 'success', createdBy: user.username, exitCode: 0 });
    const rows = await agent.get(`/jobs/${res.body.id}/status?offset=0&limit=10`).expect(200);
    expect(rows.body.map((r: any) => r.output).join('')).to.equal('Hello\nWorld\n');
    expect(rows.body[0]).to.have.keys('id', 'jobId', 'seq', 'stream', 'output', 'createdAt', 'updatedAt');
  });

  it('pages output rows in order and rejects limit > 1000', async () => {
    const { agent } = await agentFor(true);
    const id = await insertShellJob('x');
    const { JobOutput } = testContext().db.models;
    await JobOutput.bulkCreate(Array.from({ length: 30 }, (_, i) => ({ jobId: id, seq: i + 1, stream: 'stdout' as const, output: `row ${i + 1}\n` })));
    const page = await agent.get(`/jobs/${id}/status?offset=10&limit=5`).expect(200);
    expect(page.body.map((r: any) => r.seq)).to.deep.equal([11, 12, 13, 14, 15]);
    const bad = await agent.get(`/jobs/${id}/status?limit=1001`).set('Accept', 'application/json').expect(422);
    expect(bad.body.fields.limit).to.match(/1000/);
  });

  it('non-admins cannot enqueue; others get 404 for a job that is not theirs; unowned jobs are admin-only', async () => {
    const owner = await agentFor(false);
    const other = await agentFor(false);
    const admin = await agentFor(true);
    await owner.agent.post('/jobs').set('X-CSRF-Token', owner.csrf).send({ command: 'id' }).expect(403);
    const mine = await insertShellJob('echo mine', { createdBy: owner.user.username });
    const unowned = await insertShellJob('echo legacy');
    await owner.agent.get(`/jobs/${mine}`).expect(200);
    await other.agent.get(`/jobs/${mine}`).expect(404);
    await other.agent.get(`/jobs/${mine}/status`).expect(404);
    await other.agent.get(`/api/stream/${mine}`).expect(404);
    await other.agent.get(`/status/${mine}`).expect(404);
    await other.agent.post(`/jobs/${mine}/cancel`).set('X-CSRF-Token', other.csrf).set('Accept', 'application/json').expect(404);
    await owner.agent.get(`/jobs/${unowned}`).expect(404);
    await admin.agent.get(`/jobs/${unowned}`).expect(200);
    await request(fixture.app).get(`/jobs/${mine}`).set('Accept', 'application/json').expect(401);
    await admin.agent.post('/jobs').set('X-CSRF-Token', admin.csrf).send({}).expect(422);
    await admin.agent.post('/jobs').send({ command: 'id' }).expect(403); // no CSRF token
  });

  it('POST /jobs {task: inventory-sync} keeps to one sync at a time: a second request answers with the pending one', async () => {
    const admin = await agentFor(true);
    const user = await agentFor(false);
    const { Job, AuditEvent } = testContext().db.models;
    const active = { task: SYNC_TASK, status: ['pending', 'running'] };
    // Another file's sync may still be waiting in the run's database: ended first, so the first request here starts one.
    await Job.update({ status: 'cancelled', finishedAt: new Date() }, { where: active });
    await user.agent.post('/jobs').set('X-CSRF-Token', user.csrf).set('Accept', 'application/json').send({ task: SYNC_TASK }).expect(403);
    await admin.agent.post('/jobs').set('X-CSRF-Token', admin.csrf).set('Accept', 'application/json').send({ task: SYNC_TASK, params: { nodeIds: [1] } }).expect(422);
    const [a, b] = await Promise.all([1, 2].map(() => admin.agent.post('/jobs').set('X-CSRF-Token', admin.csrf).send({ task: SYNC_TASK })));
    // One starts the sync (201); the other is answered with it (200, existing).
    expect([a.status, b.status].sort()).to.deep.equal([200, 201]);
    expect(a.body.id).to.equal(b.body.id);
    expect([a.body.existing, b.body.existing].filter(Boolean)).to.deep.equal([true]);
    expect((await Job.findAll({ where: active })).map((j) => j.id)).to.deep.equal([a.body.id]);
    expect(await AuditEvent.count({ where: { action: 'job.enqueue', objectId: String(a.body.id) } })).to.equal(1);
    // While it runs, too.
    await Job.update({ status: 'running', startedAt: new Date() }, { where: { id: a.body.id } });
    const c = await admin.agent.post('/jobs').set('X-CSRF-Token', admin.csrf).send({ task: SYNC_TASK }).expect(200);
    expect(c.body).to.include({ id: a.body.id, existing: true });
    // Ours: ended here so that no other test finds a sync pending.
    await Job.update({ status: 'cancelled', finishedAt: new Date() }, { where: { id: a.body.id } });
  });

  it('the owner cancels a pending job at once and a running job through its runner; a finished job answers 409', async () => {
    const owner = await agentFor(false);
    const pending = await insertShellJob('sleep 300', { createdBy: owner.user.username });
    const res = await owner.agent.post(`/jobs/${pending}/cancel`).set('X-CSRF-Token', owner.csrf).set('Accept', 'application/json').expect(202);
    expect(res.body.status).to.equal('cancelled');
    const running = await insertShellJob('echo started; sleep 300', { createdBy: owner.user.username });
    const runner = await startRunner({ cancelGraceSeconds: 1 });
    await waitForJob(running, 10_000, (j) => j.status === 'running');
    await owner.agent.post(`/jobs/${running}/cancel`).set('X-CSRF-Token', owner.csrf).set('Accept', 'application/json').expect(202);
    const job = await waitForJob(running);
    await runner.close();
    expect(job.status).to.equal('cancelled');
    expect(job.error).to.equal(`cancelled by ${owner.user.username}`);
    await owner.agent.post(`/jobs/${running}/cancel`).set('X-CSRF-Token', owner.csrf).set('Accept', 'application/json').expect(409);
  });

  it('GET /jobs lists my jobs (admins: all, filterable by status) and GET /status/:id renders the page', async () => {
    const user = await agentFor(false);
    const admin = await agentFor(true);
    const mine = await insertShellJob('echo listed-mine', { createdBy: user.user.username });
    const theirs = await insertShellJob('echo listed-theirs', { createdBy: 'someone-else' });
    const page = await user.agent.get('/jobs').set('Accept', 'text/html').expect(200);
    expect(page.text).to.contain('listed-mine').and.not.contain('listed-theirs');
    const all = await admin.agent.get('/jobs?status=pending').set('Accept', 'text/html').expect(200);
    expect(all.text).to.contain('listed-mine').and.contain('listed-theirs');
    const none = await admin.agent.get('/jobs?status=success').set('Accept', 'application/json').expect(200);
    expect(none.body.jobs.map((j: any) => j.id)).to.not.include(mine).and.not.include(theirs);
    const status = await user.agent.get(`/status/${mine}`).set('Accept', 'text/html').expect(200);
    expect(status.text).to.contain('/js/job-status.js').and.contain(`/jobs/${mine}/cancel`).and.not.match(/<script>(?!<\/script>)/);
  });

  it('/health/ready reports runner heartbeats without failing readiness when none is fresh', async () => {
    const before = await request(fixture.app).get('/health/ready').expect(200);
    expect(before.body.checks.jobRunner.ok).to.equal(false);
    expect(before.body.failing).to.deep.equal([]);
    const runner = await startRunner();
    const during = await request(fixture.app).get('/health/ready').expect(200);
    await runner.close();
    expect(during.body.checks.jobRunner).to.deep.equal({ ok: true, runners: 1 });
  });
});
