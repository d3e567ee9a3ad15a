import { expect } from 'chai';
import request from 'supertest';
import { randomIp } from '../../factories/inventory.js';
import { createUser } from '../../factories/users.js';
import { useApp } from '../../support/app.js';
import { testContext } from '../../support/context.js';
import { clearLoginFailures, csrfFrom, csrfToken, login } from '../../support/login.js';
import { startSim, type StartedSim } from '../../support/pve-sim.js';
import { buildApp, type BuiltApp } from './build-app.js';

const sessionId = (res: request.Response) => /berth\.sid=([^;]+)/.exec(String(res.headers['set-cookie']))?.[1];

describe('accounts: local login, sessions and CSRF', () => {
  const fixture = useApp({ LOGIN_MAX_FAILURES: '3', LOGIN_MAX_FAILURES_PER_IP: '1000' });

  it('gives a new session id at login (session fixation)', async () => {
    const { user, password } = await createUser();
    const agent = request.agent(fixture.app);
    const page = await agent.get('/login').expect(200);
    const planted = sessionId(page);
    expect(planted).to.be.a('string');
    const res = await agent.post('/login').type('form').send({ username: user.username, password, realm: 'local', _csrf: csrfFrom(page.text) }).expect(303);
    expect(sessionId(res)).to.be.a('string').and.not.equal(planted);
    // The planted id is not a logged-in session.
    await request(fixture.app).get('/account').set('Cookie', `berth.sid=${planted}`).set('Accept', 'application/json').expect(401);
  });

  it('refuses a state change without a CSRF token or with a wrong one (403), for forms and JSON', async () => {
    const { user, password } = await createUser();
    const agent = request.agent(fixture.app);
    await agent.get('/login');
    await agent.post('/login').type('form').send({ username: user.username, password }).expect(403);
    await agent.post('/login').type('form').send({ username: user.username, password, _csrf: 'x'.repeat(64) }).expect(403);
    await agent.post('/login').send({ username: user.username, password }).expect(403);
    await login(agent, user.username, password);
    // Logged in, with the session cookie but no token: still 403.
    const res = await agent.post('/tokens').set('Accept', 'application/json').send({ name: 'x' }).expect(403);
    expect(res.body.error).to.match(/CSRF/);
    expect(await testContext().db.models.ApiToken.count({ where: { userId: user.id } })).to.equal(0);
  });

  it('never redirects off-site after login', async () => {
    const { user, password } = await createUser();
    for (const next of ['https://evil.example/', '//evil.example', '/\\evil.example', 'javascript:alert(1)', '/%0d%0aSet-Cookie:x=y']) {
      const agent = request.agent(fixture.app);
      const token = await csrfToken(agent);
      const res = await agent.post('/login').type('form').send({ username: user.username, password, next, _csrf: token }).expect(303);
      expect(res.headers.location, next).to.match(/^\/(?![/\\])/);
      expect(res.headers.location).not.to.contain('evil');
    }
    const agent = request.agent(fixture.app);
    const token = await csrfToken(agent);
    const ok = await agent.post('/login').type('form').send({ username: user.username, password, next: '/tokens?x=1', _csrf: token }).expect(303);
    expect(ok.headers.location).to.equal('/tokens?x=1');
  });

  it('validates usernames and realms with clear messages', async () => {
    const agent = request.agent(fixture.app);
    const token = await csrfToken(agent);
    const bad = await agent.post('/login').type('form').send({ username: 'bad name<script>', password: 'x', _csrf: token }).expect(422);
    expect(bad.text).to.contain('Usernames are letters, digits').and.not.contain('<script>');
    const realm = await agent.post('/login').set('X-CSRF-Token', token).send({ username: 'alice@pve', password: 'x' }).expect(422);
    expect(realm.body.fields.realm).to.match(/Unknown realm 'pve'/);
  });

  it('locks an account after LOGIN_MAX_FAILURES failures, even with the right password, and unlocks when the window is reset', async () => {
    const { user, password } = await createUser();
    const agent = request.agent(fixture.app);
    const token = await csrfToken(agent);
    for (let i = 0; i < 3; i++) {
      const res = await agent.post('/login').type('form').send({ username: user.username, password: 'wrong', _csrf: token }).expect(401);
      expect(res.text).to.contain('Invalid username or password.');
    }
    const locked = await agent.post('/login').type('form').send({ username: user.username, password, _csrf: token }).expect(429);
    expect(locked.text).to.match(/Too many failed logins .* Try again in \d+ minutes?\./);
    // Counters live in the shared RateLimits table: another instance sees the lock too.
    const { RateLimit } = testContext().db.models;
    const row = await RateLimit.findByPk(`login-account:${user.username.toLowerCase()}`);
    expect(row?.hits).to.equal(3);
    // When the window ends the account works again, and a success clears its counter.
    await row!.update({ resetAt: new Date(Date.now() - 1000) });
    await agent.post('/login').type('form').send({ username: user.username, password, _csrf: token }).expect(303);
    expect(await RateLimit.findByPk(`login-account:${user.username.toLowerCase()}`)).to.equal(null);
  });

  it('throttles per client IP across accounts', async () => {
    const built = buildApp({ LOGIN_MAX_FAILURES: '100', LOGIN_MAX_FAILURES_PER_IP: '2', TRUST_PROXY: '1' });
    try {
      const { user, password } = await createUser();
      const agent = request.agent(built.app);
      const token = await csrfToken(agent);
      // Addresses of this test alone: the counters live in the shared RateLimits table.
      const [ip, otherIp] = [randomIp(), randomIp()];
      for (const name of ['nobody-a', 'nobody-b']) {
        await agent.post('/login').set('X-Forwarded-For', ip).type('form').send({ username: name, password: 'x', _csrf: token }).expect(401);
      }
      await agent.post('/login').set('X-Forwarded-For', ip).type('form').send({ username: user.username, password, _csrf: token }).expect(429);
      // Another client address is not affected.
      await agent.post('/login').set('X-Forwarded-For', otherIp).type('form').send({ username: user.username, password, _csrf: token }).expect(303);
    } finally {
      await built.stop();
    }
  });

  it('tells a disabled account apart only after the right password', async () => {
    const { user, password } = await createUser({ disabled: true });
    const agent = request.agent(fixture.app);
    const token = await csrfToken(agent);
    const wrong = await agent.post('/login').type('form').send({ username: user.username, password: 'nope', _csrf: token }).expect(401);
    expect(wrong.text).to.contain('Invalid username or password.');
    const right = await agent.post('/login').type('form').send({ username: user.username, password, _csrf: token }).expect(401);
    expect(right.text).to.contain('disabled or has expired');
  });

  it('ends the access of an expired account at the next request', async () => {
    const { user, password } = await createUser();
    const agent = request.agent(fixture.app);
    await login(agent, user.username, password);
    await agent.get('/account').expect(200);
    await user.update({ expiresAt: new Date(Date.now() - 1000) });
    await agent.get('/account').set('Accept', 'application/json').expect(401);
  });

  it('applies a demotion at the next request and rotates the session id on a privilege change', async () => {
    const { user, password } = await createUser({ role: 'admin' });
    const agent = request.agent(fixture.app);
    await login(agent, user.username, password);
    await agent.get('/users').set('Accept', 'application/json').expect(200);
    await user.update({ role: 'user' });
    const res = await agent.get('/users').set('Accept', 'application/json').expect(403);
    expect(sessionId(res), 'a new session id after the privilege change').to.be.a('string');
    await agent.get('/account').expect(200);
    await user.update({ role: 'admin' });
    const promoted = await agent.get('/users').set('Accept', 'application/json').expect(200);
    expect(sessionId(promoted)).to.be.a('string').and.not.equal(sessionId(res));
  });

  it('changes a password: the old one stops working and other sessions end', async () => {
    const { user, password } = await createUser();
    const a = request.agent(fixture.app);
    const b = request.agent(fixture.app);
    await login(a, user.username, password);
    await login(b, user.username, password);
    const page = await a.get('/account').expect(200);
    const bad = await a.post('/account/password').type('form').send({ currentPassword: 'wrong', newPassword: 'a-new-long-password', confirmPassword: 'a-new-long-password', _csrf: csrfFrom(page.text) }).expect(422);
    expect(bad.text).to.contain('Not your current password.');
    const short = await a.post('/account/password').type('form').send({ currentPassword: password, newPassword: 'short', confirmPassword: 'short', _csrf: csrfFrom(page.text) }).expect(422);
    expect(short.text).to.contain('at least 12 characters');
    await a.post('/account/password').type('form').send({ currentPassword: password, newPassword: 'a-new-long-password', confirmPassword: 'a-new-long-password', _csrf: csrfFrom(page.text) }).expect(303);
    await a.get('/account').expect(200);
    await b.get('/account').set('Accept', 'application/json').expect(401);
    const c = request.agent(fixture.app);
    const token = await csrfToken(c);
    await c.post('/login').type('form').send({ username: user.username, password, _csrf: token }).expect(401);
    await login(c, user.username, 'a-new-long-password');
  });

  it('lets an admin disable and enable a user, ending their sessions at once', async () => {
    const admin = await createUser({ role: 'admin' });
    const { user, password } = await createUser();
    const adminAgent = request.agent(fixture.app);
    await login(adminAgent, admin.user.username, admin.password);
    const victim = request.agent(fixture.app);
    await login(victim, user.username, password);
    const page = await adminAgent.get(`/users/${user.id}`).expect(200);
    await adminAgent.post(`/users/${user.id}/disable`).type('form').send({ _csrf: csrfFrom(page.text) }).expect(303);
    expect(await testContext().db.models.Session.count({ where: { userId: user.id } })).to.equal(0);
    await victim.get('/account').set('Accept', 'application/json').expect(401);
    // An admin cannot disable themselves.
    await adminAgent.post(`/users/${admin.user.id}/disable`).set('X-CSRF-Token', csrfFrom(page.text)).set('Accept', 'application/json').expect(403);
    await adminAgent.post(`/users/${user.id}/enable`).type('form').send({ _csrf: csrfFrom(page.text) }).expect(303);
    await login(victim, user.username, password);
  });
});

describe('accounts: Proxmox logins against the simulator', () => {
  let sim: StartedSim;
  let built: BuiltApp;
  beforeEach(async () => {
    // Each test starts with no failed logins counted for the seed accounts it uses (shared by every file).
    await clearLoginFailures('root@pam', 'alice@pve', 'bob@pve');
    sim = await startSim();
    built = buildApp({ PROXMOX_URL: sim.url, LOGIN_MAX_FAILURES: '2' });
  });
  afterEach(async () => {
    await built.stop();
    await sim.close();
  });

  it('offers the node realms and Berth (local) on the login form, Berth (local) preselected', async () => {
    const res = await request(built.app).get('/login').expect(200);
    expect(res.text).to.contain('<option value="local" selected>Berth (local)');
    expect(res.text).to.contain('value="pve"').and.contain('value="pam"').and.not.contain('value="pve" selected');
  });

  it('logs in root@pam as an admin (administrators group) and alice@pve as a user, creating their Users rows', async () => {
    const { User } = testContext().db.models;
    await User.destroy({ where: { username: ['root@pam', 'alice@pve'] } });
    const root = request.agent(built.app);
    const token = await csrfToken(root);
    await root.post('/login').type('form').send({ username: 'root', realm: 'pam', password: 'rootpass123', _csrf: token }).expect(303);
    const me = await root.get('/account').set('Accept', 'application/json').expect(200);
    expect(me.body.user).to.include({ username: 'root@pam', realm: 'pam', isAdmin: true, adminVia: 'proxmox', isLocal: false });
    await root.get('/users').set('Accept', 'application/json').expect(200);

    const alice = request.agent(built.app);
    const t2 = await csrfToken(alice);
    const res = await alice.post('/login').set('X-CSRF-Token', t2).send({ username: 'alice@pve', password: 'alicepass123' }).expect(200);
    expect(res.body).to.deep.equal({ success: true, redirect: '/' });
    await alice.get('/users').set('Accept', 'application/json').expect(403);
    const row = await User.findOne({ where: { username: 'alice@pve' } });
    expect(row).to.include({ realm: 'pve', role: 'user', proxmoxAdmin: false, passwordHash: null });
    // No password or ticket is stored anywhere in the session row.
    const sessions = await testContext().db.models.Session.findAll({ where: { userId: row!.id } });
    expect(sessions).to.have.length(1);
    expect(sessions[0].data).not.to.contain('alicepass123').and.not.to.contain('PVE:');
  });

  it('answers a wrong Proxmox password like a wrong local one, and throttles the account', async () => {
    const agent = request.agent(built.app);
    const token = await csrfToken(agent);
    for (let i = 0; i < 2; i++) {
      const res = await agent.post('/login').type('form').send({ username: 'bob', realm: 'pve', password: 'wrong', _csrf: token }).expect(401);
      expect(res.text).to.contain('Invalid username or password.');
    }
    await agent.post('/login').type('form').send({ username: 'bob', realm: 'pve', password: 'bobpass123', _csrf: token }).expect(429);
    const unknownRealm = await agent.post('/login').type('form').send({ username: 'bob', realm: 'ldap', password: 'x', _csrf: token }).expect(422);
    expect(unknownRealm.text).to.contain('Unknown realm');
  });

  it('keeps a Berth-disabled Proxmox user out', async () => {
    const agent = request.agent(built.app);
    const token = await csrfToken(agent);
    await agent.post('/login').type('form').send({ username: 'bob@pve', password: 'bobpass123', _csrf: token }).expect(303);
    await testContext().db.models.User.update({ disabled: true }, { where: { username: 'bob@pve' } });
    await agent.get('/account').set('Accept', 'application/json').expect(401);
    const again = await csrfToken(agent);
    const res = await agent.post('/login').type('form').send({ username: 'bob@pve', password: 'bobpass123', _csrf: again }).expect(401);
    expect(res.text).to.contain('disabled');
    await testContext().db.models.User.update({ disabled: false }, { where: { username: 'bob@pve' } });
  });

  it('says so clearly when the Proxmox node is down', async () => {
    await sim.close();
    const agent = request.agent(built.app);
    const token = await csrfToken(agent);
    const res = await agent.post('/login').type('form').send({ username: 'alice', realm: 'pve', password: 'alicepass123', _csrf: token }).expect(502);
    expect(res.text).to.contain('The Proxmox node did not answer');
  });
});
