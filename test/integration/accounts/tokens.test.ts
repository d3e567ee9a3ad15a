import { expect } from 'chai';
import request from 'supertest';
import { createUser } from '../../factories/users.js';
import { useApp } from '../../support/app.js';
import { testContext } from '../../support/context.js';
import { csrfFrom, login } from '../../support/login.js';

describe('accounts: API tokens', () => {
  const fixture = useApp();

  async function loggedIn(role: 'user' | 'admin' = 'user') {
    const { user, password } = await createUser({ role });
    const agent = request.agent(fixture.app);
    await login(agent, user.username, password);
    const csrf = csrfFrom((await agent.get('/tokens').expect(200)).text);
    return { user, agent, csrf };
  }

  it('creates a token shown once, stored as an HMAC, that authenticates without a session row or CSRF token', async () => {
    const { user, agent, csrf } = await loggedIn('admin');
    const created = await agent.post('/tokens').set('X-CSRF-Token', csrf).send({ name: 'edge-cron', expiresInDays: 30 }).expect(201);
    const token: string = created.body.token;
    expect(token).to.match(/^berth_[A-Za-z0-9_-]{43}$/);
    const row = await testContext().db.models.ApiToken.findByPk(created.body.id);
    expect(row!.tokenHash).to.match(/^[0-9a-f]{64}$/).and.not.contain(token.slice(6));
    const list = await agent.get('/tokens').set('Accept', 'application/json').expect(200);
    expect(JSON.stringify(list.body)).not.to.contain(token);

    const { Session } = testContext().db.models;
    const sessionsBefore = await Session.count();
    const me = await request(fixture.app).get('/account').set('Authorization', `Bearer ${token}`).set('Accept', 'application/json').expect(200);
    expect(me.body.user.username).to.equal(user.username);
    expect(me.headers['set-cookie']).to.equal(undefined);
    // A POST with the token needs no CSRF token (it reaches the route: 422 for the bad body, not 403).
    const reached = await request(fixture.app).post(`/users/${user.id}/role`).set('Authorization', `Bearer ${token}`).send({}).expect(422);
    expect(reached.body.fields.role).to.equal('Choose admin or user.');
    expect(await Session.count()).to.equal(sessionsBefore);
    await row!.reload();
    expect(row!.lastUsedAt).to.be.instanceOf(Date);
  });

  it('refuses a wrong, revoked or expired token with 401, and never falls back to the cookie', async () => {
    const { agent, csrf } = await loggedIn();
    const created = await agent.post('/tokens').set('X-CSRF-Token', csrf).send({ name: 'short-lived' }).expect(201);
    const token: string = created.body.token;
    await request(fixture.app).get('/account').set('Authorization', `Bearer ${token.slice(0, -1)}x`).expect(401);
    await request(fixture.app).get('/account').set('Authorization', 'Bearer nonsense').expect(401);
    // Cookie valid, bearer invalid: 401 (the cookie is ignored when a bearer header is present).
    await agent.get('/account').set('Authorization', 'Bearer nonsense').expect(401);
    await testContext().db.models.ApiToken.update({ expiresAt: new Date(Date.now() - 1000) }, { where: { id: created.body.id } });
    await request(fixture.app).get('/account').set('Authorization', `Bearer ${token}`).expect(401);
    await testContext().db.models.ApiToken.update({ expiresAt: null }, { where: { id: created.body.id } });
    await request(fixture.app).get('/account').set('Authorization', `Bearer ${token}`).expect(200);
    await agent.post(`/tokens/${created.body.id}/revoke`).set('X-CSRF-Token', csrf).set('Accept', 'application/json').expect(200);
    const revoked = await request(fixture.app).get('/account').set('Authorization', `Bearer ${token}`).expect(401);
    expect(revoked.headers['www-authenticate']).to.contain('Bearer');
  });

  it('stops working when its user is disabled; read tokens only read; tokens cannot manage tokens', async () => {
    const { user, agent, csrf } = await loggedIn();
    const write = (await agent.post('/tokens').set('X-CSRF-Token', csrf).send({ name: 'w' }).expect(201)).body.token as string;
    const read = (await agent.post('/tokens').set('X-CSRF-Token', csrf).send({ name: 'r', scope: 'read' }).expect(201)).body.token as string;
    await request(fixture.app).get('/account').set('Authorization', `Bearer ${read}`).expect(200);
    await request(fixture.app).post('/logout').set('Authorization', `Bearer ${read}`).expect(403);
    await request(fixture.app).post('/tokens').set('Authorization', `Bearer ${write}`).send({ name: 'more' }).expect(403);
    await user.update({ disabled: true });
    await request(fixture.app).get('/account').set('Authorization', `Bearer ${write}`).expect(401);
  });

  it("answers 404 for another user's token, and validates the form", async () => {
    const a = await loggedIn();
    const b = await loggedIn();
    const created = await a.agent.post('/tokens').set('X-CSRF-Token', a.csrf).send({ name: 'mine' }).expect(201);
    await b.agent.post(`/tokens/${created.body.id}/revoke`).set('X-CSRF-Token', b.csrf).set('Accept', 'application/json').expect(404);
    expect((await testContext().db.models.ApiToken.findByPk(created.body.id))!.revokedAt).to.equal(null);
    const bad = await a.agent.post('/tokens').type('form').send({ name: '<b>', expiresInDays: '-3', _csrf: a.csrf }).expect(422);
    expect(bad.text).to.contain('Use letters, digits').and.contain('At least 1 day.').and.not.contain('<b>');
    const page = await a.agent.post('/tokens').type('form').send({ name: 'from the form', _csrf: a.csrf }).expect(201);
    expect(page.text).to.match(/<code id="new-token">berth_[A-Za-z0-9_-]{43}<\/code>/);
    expect(page.headers['cache-control']).to.equal('no-store');
  });
});
