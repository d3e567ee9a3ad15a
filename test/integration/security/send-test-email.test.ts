// Issue 10: `GET /send-test-email` sent mail when a logged-in admin was merely redirected to it from
// another site. It is a POST behind the CSRF check now: admins only, absent in production.
import { expect } from 'chai';
import request from 'supertest';
import { createUser } from '../../factories/users.js';
import { testConfig, testContext } from '../../support/context.js';
import { csrfFrom, login } from '../../support/login.js';
import { outboxMark, startTestDeliverer } from '../../support/outbox.js';
import { startSmtpServer, type SmtpSink } from '../../support/smtp.js';
import { buildApp, smtpEnv, type BuiltApp } from '../accounts/build-app.js';

const SUBJECT = 'Berth test email';

describe('security: the test email needs a POST with a CSRF token', () => {
  let smtp: SmtpSink;
  let built: BuiltApp;
  let deliverer: { close(): Promise<void>; deliverDue(): Promise<number> };
  let mark: number;
  beforeEach(async () => {
    smtp = await startSmtpServer();
    built = buildApp(smtpEnv(smtp.port));
    mark = await outboxMark();
    deliverer = await startTestDeliverer(testConfig(testContext().scratch.url, { ...smtpEnv(smtp.port), OUTBOX_POLL_MS: '50' }), { since: mark });
  });
  afterEach(async () => {
    await deliverer.close();
    await built.stop();
    await smtp.close();
  });

  /** The test mails queued since this test began (what the GETs and refused POSTs must not add to). */
  const queuedTestMails = async () => (await testContext().db.models.OutboxMessage.findAll({ where: { category: 'test-email' } })).filter((m) => m.id > mark);

  async function adminAgent(email = 'tester@example.org') {
    const { user, password } = await createUser({ role: 'admin' });
    await user.update({ email });
    const agent = request.agent(built.app);
    await login(agent, user.username, password);
    return agent;
  }

  it('sends nothing for a cross-site GET or a POST without the token; the account page form sends once', async () => {
    const agent = await adminAgent();
    // Another site redirects the admin's browser here, or posts a form of its own.
    const get = await agent.get('/send-test-email').set('Referer', 'https://evil.example/').set('Accept', 'application/json');
    expect(get.status).to.be.oneOf([404, 405]);
    await agent.post('/send-test-email').set('Origin', 'https://evil.example').type('form').send({ to: 'victim@example.org' }).expect(403);
    await agent.post('/send-test-email').set('Accept', 'application/json').send({}).expect(403);

    // The form on the account page carries the token.
    const page = await agent.get('/account').expect(200);
    expect(page.text).to.include('action="/send-test-email"');
    const sent = await agent.post('/send-test-email').type('form').send({ _csrf: csrfFrom(page.text), to: '' }).expect(303);
    expect(sent.headers.location).to.equal('/account');
    expect((await agent.get('/account').expect(200)).text).to.match(/A test email to tester@example.org is queued \(outbox message \d+\)/);
    const mail = await smtp.waitFor((m) => m.subject === SUBJECT);
    expect(mail.to).to.deep.equal(['tester@example.org']);
    // Each request above finished before the next was sent, and a queueing commits before its answer:
    // had the GET or the token-less POSTs queued anything, it would be in the outbox already.
    expect(await queuedTestMails()).to.have.length(1);
    expect(smtp.messages.filter((m) => m.subject === SUBJECT)).to.have.length(1);
  });

  it('answers JSON {queued, outboxId, to} to an admin with the token, refuses a non-admin', async () => {
    const agent = await adminAgent();
    const csrf = csrfFrom((await agent.get('/account').expect(200)).text);
    const res = await agent.post('/send-test-email').set('X-CSRF-Token', csrf).send({ to: 'other@example.org' }).expect(202);
    expect(res.body).to.deep.equal({ queued: true, outboxId: res.body.outboxId, to: 'other@example.org' });
    expect(res.body.outboxId).to.be.a('number');
    await smtp.waitFor((m) => m.subject === SUBJECT && m.to.includes('other@example.org'));
    const bad = await agent.post('/send-test-email').set('X-CSRF-Token', csrf).send({ to: 'not-an-address' }).expect(422);
    expect(bad.body.fields.to).to.be.a('string');

    const { user, password } = await createUser();
    await user.update({ email: 'plain@example.org' });
    const plain = request.agent(built.app);
    await login(plain, user.username, password);
    const page = await plain.get('/account').expect(200);
    expect(page.text, 'no test-email form for a non-admin').not.to.include('/send-test-email');
    await plain.post('/send-test-email').set('X-CSRF-Token', csrfFrom(page.text)).send({}).expect(403);
    await request(built.app).post('/send-test-email').set('Accept', 'application/json').send({}).expect((r) => expect(r.status).to.be.oneOf([401, 403]));

    // One admin send (the first), none for the refused requests.
    const again = await agent.post('/send-test-email').set('X-CSRF-Token', csrf).send({}).expect(202);
    expect(again.body).to.deep.include({ queued: true, to: 'tester@example.org' });
    await smtp.waitFor((m) => m.subject === SUBJECT && m.to.includes('tester@example.org'));
    expect((await queuedTestMails()).map((m) => m.id)).to.deep.equal([res.body.outboxId, again.body.outboxId]);
    expect(smtp.messages.filter((m) => m.subject === SUBJECT).map((m) => m.to.join())).to.deep.equal(['other@example.org', 'tester@example.org']);
  });

  it('does not exist in production, for GET or POST', async () => {
    const prod = buildApp({ ...smtpEnv(smtp.port), NODE_ENV: 'production' });
    try {
      const { user, password } = await createUser({ role: 'admin' });
      const agent = request.agent(prod.app);
      await login(agent, user.username, password);
      const page = await agent.get('/account').expect(200);
      expect(page.text).not.to.include('/send-test-email');
      await agent.get('/send-test-email').set('Accept', 'application/json').expect(404);
      await agent.post('/send-test-email').set('Accept', 'application/json').set('X-CSRF-Token', csrfFrom(page.text)).send({}).expect(404);
      expect(await queuedTestMails()).to.have.length(0);
      expect(smtp.messages).to.have.length(0);
    } finally {
      await prod.stop();
    }
  });
});
