import { expect } from 'chai';
import request from 'supertest';
import { createUser } from '../../factories/users.js';
import { testConfig, testContext } from '../../support/context.js';
import { csrfFrom, csrfToken, login } from '../../support/login.js';
import { outboxRows, startTestDeliverer } from '../../support/outbox.js';
import { startSmtpServer, type SmtpSink } from '../../support/smtp.js';
import { buildApp, smtpEnv, type BuiltApp } from './build-app.js';

// Mail is queued in the outbox with each change and delivered by the job runner's deliverer (here one
// in the test, on the same settings).
describe('accounts: account requests and mail, with a real SMTP server', () => {
  let smtp: SmtpSink;
  let built: BuiltApp;
  let deliverer: { close(): Promise<void> };
  beforeEach(async () => {
    smtp = await startSmtpServer();
    const env = { ...smtpEnv(smtp.port), ADMIN_EMAILS: 'ops@example.org', OUTBOX_POLL_MS: '50' };
    built = buildApp(env);
    deliverer = await startTestDeliverer(testConfig(testContext().scratch.url, env));
  });
  afterEach(async () => {
    await deliverer.close();
    await built.stop();
    await smtp.close();
  });

  it('request → admins emailed → approve → link emailed (from PUBLIC_URL) → password set → login', async () => {
    const admin = await createUser({ role: 'admin' });
    await admin.user.update({ email: 'admin@example.org' });
    const username = `intern${Date.now() % 100000}`;

    const visitor = request.agent(built.app);
    const form = await visitor.get('/register').expect(200);
    const submitted = await visitor.post('/register').type('form').send({
      name: 'Ines Intern', email: 'ines@example.org', username, reason: 'Summer internship on the build farm', endDate: '2099-08-31', _csrf: csrfFrom(form.text),
    }).expect(201);
    expect(submitted.text).to.contain('your request was sent');

    const notice = await smtp.waitFor((m) => m.subject.includes(username));
    expect(notice.to).to.include.members(['admin@example.org', 'ops@example.org']);
    expect(notice.text).to.contain('Ines Intern').and.contain('Summer internship').and.contain('https://berth.example.org/account-requests');

    const adminAgent = request.agent(built.app);
    await login(adminAgent, admin.user.username, admin.password);
    const list = await adminAgent.get('/account-requests').expect(200);
    const id = /action="\/account-requests\/(\d+)\/approve"/.exec(list.text)?.[1];
    expect(id, 'the pending request is listed').to.be.a('string');
    // The link is built from PUBLIC_URL, never from the Host header.
    await adminAgent.post(`/account-requests/${id}/approve`).set('Host', 'evil.example').type('form').send({ _csrf: csrfFrom(list.text) }).expect(303);
    const approved = await smtp.waitFor((m) => m.to.includes('ines@example.org'));
    const link = /https:\/\/berth\.example\.org\/set-password\?token=[A-Za-z0-9_-]{43}/.exec(approved.text)?.[0];
    expect(link, approved.text).to.be.a('string');
    expect(approved.text).not.to.contain('evil.example');
    const created = await testContext().db.models.User.findOne({ where: { username } });
    expect(created).to.include({ realm: 'local', role: 'user', email: 'ines@example.org', passwordHash: null });
    expect(created!.expiresAt!.toISOString()).to.equal('2099-08-31T23:59:59.000Z');

    // Approving twice is refused.
    await adminAgent.post(`/account-requests/${id}/approve`).set('X-CSRF-Token', csrfFrom(list.text)).set('Accept', 'application/json').expect(409);

    const path = new URL(link!).pathname + new URL(link!).search;
    const requester = request.agent(built.app);
    const page = await requester.get(path).expect(200);
    const mismatch = await requester.post('/set-password').type('form').send({ token: new URL(link!).searchParams.get('token'), newPassword: 'ines-long-password', confirmPassword: 'other-long-password', _csrf: csrfFrom(page.text) }).expect(422);
    expect(mismatch.text).to.contain('The two passwords differ.');
    await requester.post('/set-password').type('form').send({ token: new URL(link!).searchParams.get('token'), newPassword: 'ines-long-password', confirmPassword: 'ines-long-password', _csrf: csrfFrom(page.text) }).expect(303);
    await login(requester, username, 'ines-long-password');
    await requester.get('/account').expect(200);
    // The link works once.
    await request(built.app).get(path).expect(404);
  });

  it('rejects with a reason, emailed to the requester', async () => {
    const admin = await createUser({ role: 'admin' });
    const visitor = request.agent(built.app);
    const token = await csrfToken(visitor, '/register');
    const username = `reject${Date.now() % 100000}`;
    await visitor.post('/register').set('X-CSRF-Token', token).send({ name: 'Rex', email: 'rex@example.org', username, reason: 'I want one please' }).expect(201);
    const row = await testContext().db.models.AccountRequest.findOne({ where: { username } });
    const adminAgent = request.agent(built.app);
    await login(adminAgent, admin.user.username, admin.password);
    const csrf = csrfFrom((await adminAgent.get('/account-requests').expect(200)).text);
    const noReason = await adminAgent.post(`/account-requests/${row!.id}/reject`).set('X-CSRF-Token', csrf).send({ reason: '' }).expect(422);
    expect(noReason.body.fields.reason).to.equal('Give the requester a reason.');
    await adminAgent.post(`/account-requests/${row!.id}/reject`).set('X-CSRF-Token', csrf).send({ reason: 'Use the shared team account' }).expect(200);
    const mail = await smtp.waitFor((m) => m.to.includes('rex@example.org'));
    expect(mail.text).to.contain('Use the shared team account');
    expect(await testContext().db.models.User.count({ where: { username } })).to.equal(0);
  });

  it('validates the request form and refuses a taken username', async () => {
    const { user } = await createUser();
    const visitor = request.agent(built.app);
    const token = await csrfToken(visitor, '/register');
    const bad = await visitor.post('/register').type('form').send({ name: '<script>x</script>', email: 'not-an-email', username: 'A B', reason: '', endDate: '2001-01-01', _csrf: token }).expect(422);
    expect(bad.text).to.contain('Enter a valid email address.').and.contain('Use 2–64 letters').and.contain('The end date is in the past.').and.contain('Names cannot contain');
    expect(bad.text).not.to.contain('<script>x');
    const taken = await visitor.post('/register').set('X-CSRF-Token', token).send({ name: 'Dup', email: 'd@example.org', username: user.username, reason: 'again and again' }).expect(409);
    expect(taken.body.fields.username).to.equal('That username is already taken.');
  });

  it('with SMTP down, answers the request and keeps the mail queued with the reason', async () => {
    await smtp.stopListening();
    const admin = await createUser({ role: 'admin' });
    await admin.user.update({ email: 'admin@example.org' });
    const visitor = request.agent(built.app);
    const token = await csrfToken(visitor, '/register');
    const username = `nomail${Date.now() % 100000}`;
    await visitor.post('/register').set('X-CSRF-Token', token).send({ name: 'Nomail', email: 'n@example.org', username, reason: 'smtp is down today' }).expect(201);
    const { OutboxMessage } = testContext().db.models;
    const queued = await OutboxMessage.findOne({ where: { subject: `Berth account request: ${username}` } });
    expect(queued, 'queued with the request').to.be.an('object');
    // The deliverer tried, failed, and left it queued for a retry with the reason.
    for (let i = 0; i < 200 && !(await outboxRows([queued!.id]))[0].lastError; i++) await new Promise((r) => setTimeout(r, 25));
    const [row] = await outboxRows([queued!.id]);
    expect(row).to.include({ status: 'queued', attempts: 1 });
    expect(row.lastError).to.match(/unreachable.*(ECONNECTION|ESOCKET|ECONNREFUSED)/i);
    expect(row.nextAttemptAt.getTime()).to.be.greaterThan(Date.now());
  });

  it('POST /send-test-email sends to the admin (admins only, not in production)', async () => {
    const admin = await createUser({ role: 'admin' });
    await admin.user.update({ email: 'tester@example.org' });
    const agent = request.agent(built.app);
    await login(agent, admin.user.username, admin.password);
    const res = await agent.post('/send-test-email').set('X-CSRF-Token', await csrfToken(agent, '/account')).send({}).expect(202);
    expect(res.body).to.deep.include({ queued: true, to: 'tester@example.org' });
    expect(res.body.outboxId).to.be.a('number');
    // Audited on the outbox message, under the subject kind the outbox pages use.
    const event = await testContext().db.models.AuditEvent.findOne({ where: { action: 'mail.test', objectId: String(res.body.outboxId) } });
    expect(event).to.deep.include({ objectType: 'outboxMessage', objectLabel: 'tester@example.org', actor: admin.user.username });
    const mail = await smtp.waitFor((m) => m.subject === 'Berth test email');
    expect(mail.text).to.contain('https://berth.example.org');
    const prod = buildApp({ ...smtpEnv(smtp.port), NODE_ENV: 'production' });
    try {
      await request(prod.app).post('/send-test-email').set('Accept', 'application/json').expect(404);
    } finally {
      await prod.stop();
    }
  });
});
