import { expect } from 'chai';
import crypto from 'node:crypto';
import { Op } from 'sequelize';
import request from 'supertest';
import { MASK } from '../../../src/audit/index.js';
import { createAdminUser, createUser } from '../../factories/users.js';
import { useApp } from '../../support/app.js';
import { testContext } from '../../support/context.js';
import { csrfToken, login } from '../../support/login.js';

/** What the account and job routes put in their events: the right fields, never a secret. */
describe('audit trail of accounts, sessions and jobs', function () {
  this.timeout(30_000);
  const fixture = useApp({ LOGIN_MAX_FAILURES: '2' });

  async function adminAgent() {
    const { user, password } = await createAdminUser();
    const agent = request.agent(fixture.app);
    await login(agent, user.username, password);
    return { admin: user, agent, csrf: await csrfToken(agent, '/') };
  }
  const eventsFor = (where: Record<string, unknown>) => testContext().db.models.AuditEvent.findAll({ where, order: [['id', 'ASC']] });
  const changesOf = (e: { changes: string | null }) => JSON.parse(e.changes ?? 'null');

  it('records a role change with before and after, and a password reset masked', async () => {
    const { admin, agent, csrf } = await adminAgent();
    const { user } = await createUser();
    await agent.post(`/users/${user.id}/role`).set('Accept', 'application/json').set('X-CSRF-Token', csrf).send({ role: 'admin' }).expect(200);
    await agent.post(`/users/${user.id}/reset-password`).set('Accept', 'application/json').set('X-CSRF-Token', csrf).send({}).expect(200);
    const events = await eventsFor({ objectType: 'user', objectId: String(user.id) });
    expect(events.map((e) => [e.actor, e.action, e.objectLabel])).to.deep.equal([
      [admin.username, 'user.role', user.username],
      [admin.username, 'user.password-reset', user.username],
    ]);
    expect(changesOf(events[0])).to.deep.equal({ role: { before: 'user', after: 'admin' } });
    expect(changesOf(events[1])).to.deep.equal({ password: { before: MASK, after: null } });
  });

  it('records a token by name, scope and expiry, never the token or its hash', async () => {
    const { agent, csrf } = await adminAgent();
    const res = await agent.post('/tokens').set('Accept', 'application/json').set('X-CSRF-Token', csrf).send({ name: 'ci', scope: 'read', expiresInDays: 2 }).expect(201);
    const [event] = await eventsFor({ action: 'token.create', objectId: String(res.body.id) });
    const stored = JSON.stringify(event.get());
    const row = await testContext().db.models.ApiToken.findByPk(res.body.id);
    expect(stored).not.to.contain(res.body.token).and.not.contain(row!.tokenHash);
    expect(Object.keys(changesOf(event)).sort()).to.deep.equal(['expiresAt', 'name', 'scope', 'userId']);
  });

  it('records an account request from an anonymous visitor with no actor, and its approval', async () => {
    const username = `req-${crypto.randomBytes(4).toString('hex')}`;
    const anon = request.agent(fixture.app);
    const csrf = await csrfToken(anon, '/register');
    await anon.post('/register').set('Accept', 'application/json').set('X-CSRF-Token', csrf).send({ name: 'New Person', email: 'new@example.org', username, reason: 'joining the team' }).expect(201);
    const request_ = await testContext().db.models.AccountRequest.findOne({ where: { username } });
    const { admin, agent, csrf: adminCsrf } = await adminAgent();
    const approved = await agent.post(`/account-requests/${request_!.id}/approve`).set('Accept', 'application/json').set('X-CSRF-Token', adminCsrf).send({}).expect(200);
    const events = await eventsFor({ objectType: 'account-request', objectId: String(request_!.id) });
    expect(events.map((e) => [e.actor, e.action, e.objectLabel])).to.deep.equal([
      [null, 'account-request.create', username],
      [admin.username, 'account-request.approve', username],
    ]);
    expect(changesOf(events[1])).to.deep.equal({ status: { before: 'pending', after: 'approved' }, userId: { before: null, after: approved.body.userId } });
  });

  it('records a job by task and the start of its description, never its parameters', async () => {
    const { agent, csrf } = await adminAgent();
    const command = `echo ${'x'.repeat(300)} --password=hunter2-${'y'.repeat(10)}`;
    const res = await agent.post('/jobs').set('Accept', 'application/json').set('X-CSRF-Token', csrf).send({ command }).expect(201);
    await agent.post(`/jobs/${res.body.id}/cancel`).set('Accept', 'application/json').set('X-CSRF-Token', csrf).send({}).expect(202);
    const events = await eventsFor({ objectType: 'job', objectId: String(res.body.id) });
    expect(events.map((e) => e.action)).to.deep.equal(['job.enqueue', 'job.cancel']);
    expect(events[0].objectLabel).to.equal(command.slice(0, 200));
    expect(JSON.stringify(events.map((e) => e.get()))).not.to.contain('hunter2');
    expect(changesOf(events[0])).to.deep.equal({ task: { after: 'shell' } });
    expect(changesOf(events[1]).status).to.deep.equal({ before: 'pending', after: 'cancelled' });
  });

  it('records logins and counted login failures, without the password, and nothing once locked out', async () => {
    const { user, password } = await createUser();
    const agent = request.agent(fixture.app);
    const csrf = await csrfToken(agent, '/login');
    const start = Number((await testContext().db.models.AuditEvent.max('id')) ?? 0);
    const attempt = (pw: string) => agent.post('/login').set('Accept', 'application/json').set('X-CSRF-Token', csrf).send({ username: user.username, password: pw });
    await attempt('wrong-password-1').expect(401);
    await attempt('wrong-password-2').expect(401);
    // LOGIN_MAX_FAILURES=2: locked now, and a locked-out guesser writes nothing more.
    await attempt('wrong-password-3').expect(429);
    await attempt(password).expect(429);
    const events = await eventsFor({ id: { [Op.gt]: start }, objectLabel: user.username });
    expect(events.map((e) => [e.actor, e.action])).to.deep.equal([
      [null, 'session.login-failed'],
      [null, 'session.login-failed'],
    ]);
    expect(JSON.stringify(events.map((e) => e.get()))).not.to.contain('wrong-password');

    await testContext().db.models.RateLimit.destroy({ where: { key: `login-account:${user.username.toLowerCase()}` } });
    await attempt(password).expect(200);
    const [ok] = await eventsFor({ id: { [Op.gt]: start }, action: 'session.login', objectLabel: user.username });
    expect(ok).to.include({ actor: user.username, objectType: 'session', objectId: String(user.id) });
  });
});
