import crypto from 'node:crypto';
import { expect } from 'chai';
import request from 'supertest';
import { createJob } from '../../factories/jobs.js';
import { useApp } from '../../support/app.js';
import { testContext } from '../../support/context.js';
import { signedInAgent, type SignedInAgent } from '../../support/login.js';

/** The jobs page (GET /jobs): the admins' "Run command" form (POST /jobs/command) and a refused filter. */
describe('jobs page: run a command, and a refused filter', function () {
  this.timeout(30_000);
  const fixture = useApp();
  const usernames: string[] = [];

  async function agentFor(admin: boolean): Promise<SignedInAgent> {
    const signed = await signedInAgent(fixture.app, { admin });
    usernames.push(signed.user.username);
    return signed;
  }

  /** A command no other test queues, to find its job (and prove there is none). */
  const uniqueCommand = () => `echo run-command-${crypto.randomBytes(4).toString('hex')}`;
  const jobsWith = (command: string) => testContext().db.models.Job.findAll({ where: { command } });

  after(async () => {
    // The pending jobs the form queued: cancel them, so no later runner test meets them.
    if (usernames.length) await testContext().db.models.Job.update({ status: 'cancelled', finishedAt: new Date() }, { where: { createdBy: usernames, status: 'pending' } });
  });

  describe('the "Run command" form', () => {
    it('is on the jobs page for admins only, with the confirmation box and the CSRF token', async () => {
      const admin = await agentFor(true);
      const user = await agentFor(false);
      const page = await admin.agent.get('/jobs').set('Accept', 'text/html').expect(200);
      expect(page.text).to.contain('action="/jobs/command"').and.contain('name="confirm"').and.contain(`name="_csrf" value="${admin.csrf}"`);
      expect(page.text).to.contain("runs a shell on the job runner's host, as the runner's user");
      expect(page.text).to.match(/<form method="post" action="\/jobs\/command"[^>]*data-busy=/);
      const theirs = await user.agent.get('/jobs').set('Accept', 'text/html').expect(200);
      expect(theirs.text).not.to.contain('/jobs/command').and.not.contain('name="confirm"');
    });

    it('an admin who confirms queues the command (audited) and is sent to its status page', async () => {
      const admin = await agentFor(true);
      const command = uniqueCommand();
      const res = await admin.agent.post('/jobs/command').type('form').send({ _csrf: admin.csrf, command, timeoutSeconds: '90', confirm: 'yes' }).expect(303);
      const [job] = await jobsWith(command);
      expect(job, 'the job').to.exist;
      expect(res.headers.location).to.equal(`/status/${job.id}`);
      expect(job).to.include({ status: 'pending', createdBy: admin.user.username, task: null, timeoutSeconds: 90 });
      const events = await testContext().db.models.AuditEvent.findAll({ where: { action: 'job.enqueue', objectType: 'job', objectId: String(job.id) } });
      expect(events.map((e) => e.actor)).to.deep.equal([admin.user.username]);
      const status = await admin.agent.get(res.headers.location).set('Accept', 'text/html').expect(200);
      expect(status.text).to.contain(`Job ${job.id} queued`);
    });

    it('without the confirmation: the form again (422) with the box marked, what was typed kept, and no job', async () => {
      const admin = await agentFor(true);
      const command = uniqueCommand();
      const res = await admin.agent.post('/jobs/command').type('form').send({ _csrf: admin.csrf, command }).expect(422);
      expect(res.text).to.match(/<input type="checkbox" name="confirm"[^>]*aria-invalid="true" aria-describedby="run-confirm-error"/);
      expect(res.text).to.contain('id="run-confirm-error"').and.contain('Tick the box to confirm');
      expect(res.text).to.contain(`>${command}</textarea>`);
      expect(res.text).to.contain('<a href="#run-command">');
      expect(await jobsWith(command)).to.deep.equal([]);
    });

    it('bad input: the form again (422) with each field marked; JSON clients get 422 {error, fields}', async () => {
      const admin = await agentFor(true);
      const res = await admin.agent.post('/jobs/command').type('form').send({ _csrf: admin.csrf, command: '   ', timeoutSeconds: 'soon', confirm: 'yes' }).expect(422);
      expect(res.text).to.match(/<textarea id="run-command-text"[^>]*aria-invalid="true"/);
      expect(res.text).to.contain('id="run-command-error">Enter a command.');
      expect(res.text).to.match(/<input id="run-timeoutSeconds"[^>]*aria-invalid="true"/);
      expect(res.text).to.contain('id="run-timeoutSeconds-error">Give a number of seconds.');
      const tooLong = await admin.agent.post('/jobs/command').set('X-CSRF-Token', admin.csrf).set('Accept', 'application/json').send({ command: 'x'.repeat(2001), confirm: true }).expect(422);
      expect(tooLong.body.fields).to.have.keys('command');
      const unconfirmed = await admin.agent.post('/jobs/command').set('X-CSRF-Token', admin.csrf).set('Accept', 'application/json').send({ command: 'true', confirm: 'maybe' }).expect(422);
      expect(unconfirmed.body).to.have.keys('error', 'fields', 'requestId');
      expect(unconfirmed.body.fields).to.have.keys('confirm');
    });

    it('refuses non-admins (403), anonymous visitors (401) and a post without the CSRF token (403), queuing nothing', async () => {
      const user = await agentFor(false);
      const admin = await agentFor(true);
      const command = uniqueCommand();
      await user.agent.post('/jobs/command').type('form').send({ _csrf: user.csrf, command, confirm: 'yes' }).expect(403);
      await user.agent.post('/jobs/command').set('X-CSRF-Token', user.csrf).set('Accept', 'application/json').send({ command, confirm: true }).expect(403);
      await request(fixture.app).post('/jobs/command').set('Accept', 'application/json').send({ command, confirm: true }).expect((res) => expect(res.status).to.be.oneOf([401, 403]));
      await admin.agent.post('/jobs/command').type('form').send({ command, confirm: 'yes' }).expect(403);
      await admin.agent.post('/jobs/command').type('form').send({ _csrf: 'not-the-token', command, confirm: 'yes' }).expect(403);
      expect(await jobsWith(command)).to.deep.equal([]);
    });
  });

  describe('a refused filter on GET /jobs', () => {
    it('?status=bogus: the list again (422) with the status field marked and its message; JSON: 422 {error, fields}', async () => {
      const admin = await agentFor(true);
      const mine = await createJob({ command: uniqueCommand(), createdBy: admin.user.username, status: 'cancelled' });
      const res = await admin.agent.get('/jobs?status=bogus').set('Accept', 'text/html').expect(422);
      expect(res.text).to.match(/<select id="status" name="status" class="invalid" aria-invalid="true" aria-describedby="status-error">/);
      expect(res.text).to.match(/id="status-error">Choose one of: any, pending, running, success, failure, cancelled\./);
      expect(res.text).to.contain('<li>Status: Choose one of');
      // The list is still there, unfiltered.
      expect(res.text).to.contain(`href="/status/${mine.id}"`);
      const json = await admin.agent.get('/jobs?status=bogus').set('Accept', 'application/json').expect(422);
      expect(json.body.error).to.be.a('string');
      expect(json.body.fields).to.have.keys('status');
    });

    it('a bad page number: the message names it, the first page is shown; a valid status is kept', async () => {
      const admin = await agentFor(true);
      const mine = await createJob({ command: uniqueCommand(), createdBy: admin.user.username, status: 'failure' });
      for (const bad of ['0', 'abc', '1.5', '-3']) {
        const res = await admin.agent.get(`/jobs?status=failure&page=${bad}`).set('Accept', 'text/html').expect(422);
        expect(res.text, bad).to.contain('<li>Page number (in the address): The page number');
        expect(res.text, bad).to.contain(`href="/status/${mine.id}"`);
        expect(res.text, bad).to.contain('<option value="failure" selected>');
        const json = await admin.agent.get(`/jobs?page=${bad}`).set('Accept', 'application/json').expect(422);
        expect(json.body.fields, bad).to.have.keys('page');
      }
    });

    it('?within=N: only jobs that finished in the last N days (the dashboard links here); a bad N is marked', async () => {
      const user = await agentFor(false);
      const day = 86_400_000;
      const recent = await createJob({ command: uniqueCommand(), createdBy: user.user.username, status: 'failure', finishedAt: new Date(Date.now() - day / 2) });
      const older = await createJob({ command: uniqueCommand(), createdBy: user.user.username, status: 'failure', finishedAt: new Date(Date.now() - 3 * day) });
      const running = await createJob({ command: uniqueCommand(), createdBy: user.user.username, status: 'running' });
      const ids = async (url: string) => (await user.agent.get(url).set('Accept', 'application/json').expect(200)).body.jobs.map((j: { id: number }) => j.id);
      expect(await ids('/jobs?status=failure&within=1')).to.deep.equal([recent.id]);
      expect(await ids('/jobs?status=failure&within=7')).to.deep.equal([older.id, recent.id]);
      expect(await ids('/jobs?within=1')).to.deep.equal([recent.id]);
      expect(await ids('/jobs')).to.include(running.id);
      const page = await user.agent.get('/jobs?status=failure&within=1').set('Accept', 'text/html').expect(200);
      expect(page.text).to.contain('<option value="1" selected>').and.contain(`href="/status/${recent.id}"`).and.not.contain(`href="/status/${older.id}"`);
      const bad = await user.agent.get('/jobs?status=failure&within=0').set('Accept', 'text/html').expect(422);
      expect(bad.text).to.match(/<select id="within" name="within" class="invalid" aria-invalid="true" aria-describedby="within-error">/);
      expect(bad.text).to.contain('id="within-error">At least 1 day.');
      expect(bad.text).to.contain('<option value="failure" selected>');
    });

    it('an empty filter is "any"; a page past the end says so and links to the first page', async () => {
      const user = await agentFor(false);
      await createJob({ command: uniqueCommand(), createdBy: user.user.username, status: 'success' });
      const any = await user.agent.get('/jobs?status=&page=').set('Accept', 'application/json').expect(200);
      expect(any.body).to.include({ total: 1, page: 1 });
      const past = await user.agent.get('/jobs?page=7').set('Accept', 'text/html').expect(200);
      expect(past.text).to.contain('No jobs on page 7: the list has 1 page.').and.contain('href="/jobs?page=1"');
    });

    it('the list: the table in a scrolling region, every header named, the filter labelled', async () => {
      const user = await agentFor(false);
      await createJob({ command: uniqueCommand(), createdBy: user.user.username });
      const page = await user.agent.get('/jobs').set('Accept', 'text/html').expect(200);
      expect(page.text).to.match(/<div class="table-scroll"[^>]*>\s*<table class="table">/);
      expect(page.text).not.to.match(/<th[^>]*>\s*<\/th>/);
      expect(page.text).to.contain('<label for="status">Status</label>');
    });
  });
});
