import { expect } from 'chai';
import request from 'supertest';
import { createApp } from '../../src/app.js';
import { createLogger } from '../../src/lib/logger.js';
import { createUser } from '../factories/users.js';
import { useApp } from '../support/app.js';
import { testConfig, testContext } from '../support/context.js';
import { withFreshDatabase } from '../support/databases.js';
import { csrfFrom, csrfToken, login } from '../support/login.js';

const sessionId = (res: request.Response) => /berth\.sid=([^;]+)/.exec(String(res.headers['set-cookie']))?.[1];

describe('local login and sessions', () => {
  const fixture = useApp();

  it('shows how to create the first admin on a fresh install', async () => {
    // A database with no user at all: its own, so the run's users stay.
    await withFreshDatabase(async (db, config) => {
      const { app, stop } = createApp({ config, logger: createLogger('silent'), sequelize: db.sequelize, models: db.models });
      try {
        const res = await request(app).get('/login').expect(200);
        expect(res.text).to.contain('bin/create-admin --username admin');
        expect(res.text).not.to.contain('name="password"');
      } finally {
        await stop();
      }
    });
  });

  it('logs in with a good password, on a new session id, and shows the dashboard', async () => {
    const { user, password } = await createUser();
    const agent = request.agent(fixture.app);
    const page = await agent.get('/login').expect(200);
    const before = sessionId(page);
    const res = await agent.post('/login').type('form').send({ username: user.username, password, _csrf: csrfFrom(page.text) }).expect(303);
    expect(res.headers.location).to.equal('/');
    expect(sessionId(res)).to.be.a('string').and.not.equal(before);
    const home = await agent.get('/').expect(200);
    expect(home.text).to.contain('Dashboard').and.contain(user.username);
  });

  it('gives the same message for an unknown user and a wrong password', async () => {
    const { user } = await createUser();
    const agent = request.agent(fixture.app);
    const token = await csrfToken(agent);
    const wrong = await agent.post('/login').type('form').send({ username: user.username, password: 'not-it', _csrf: token }).expect(401);
    const unknown = await agent.post('/login').type('form').send({ username: 'nobody-here', password: 'not-it', _csrf: token }).expect(401);
    expect(wrong.text).to.contain('Invalid username or password.');
    expect(unknown.text).to.contain('Invalid username or password.');
  });

  it('re-renders the form with field errors for empty input', async () => {
    const agent = request.agent(fixture.app);
    const token = await csrfToken(agent);
    const res = await agent.post('/login').type('form').send({ username: '', password: '', _csrf: token }).expect(422);
    expect(res.text).to.contain('Enter your username.').and.contain('Enter your password.');
  });

  it('answers JSON logins as the seed does: {success, redirect}', async () => {
    const { user, password } = await createUser();
    const agent = request.agent(fixture.app);
    const token = await csrfToken(agent);
    const res = await agent.post('/login').set('X-CSRF-Token', token).send({ username: user.username, password }).expect(200);
    expect(res.body).to.deep.equal({ success: true, redirect: '/' });
    const other = request.agent(fixture.app);
    const otherToken = await csrfToken(other);
    const bad = await other.post('/login').set('X-CSRF-Token', otherToken).send({ username: user.username, password: 'x' }).expect(401);
    expect(bad.body.error).to.equal('Invalid username or password. Tried: Berth (local) accounts.');
  });

  it('never redirects off-site after login', async () => {
    const { user, password } = await createUser();
    const agent = request.agent(fixture.app);
    const token = await csrfToken(agent);
    const res = await agent.post('/login').type('form').send({ username: user.username, password, next: '//evil.example/x', _csrf: token }).expect(303);
    expect(res.headers.location).to.equal('/');
  });

  it('sends an anonymous visitor of a page to the login form, and back after login', async () => {
    const { user, password } = await createUser();
    const agent = request.agent(fixture.app);
    const res = await agent.get('/').set('Accept', 'text/html').expect(303);
    expect(res.headers.location).to.equal('/login?next=%2F');
    const page = await agent.get(res.headers.location);
    expect(page.text).to.contain('name="next" value="/"');
    const json = await request(fixture.app).get('/').set('Accept', 'application/json').expect(401);
    expect(json.body.error).to.equal('Please log in.');
    await login(agent, user.username, password);
  });

  it('logout destroys the session server-side', async () => {
    const { user, password } = await createUser();
    const agent = request.agent(fixture.app);
    await login(agent, user.username, password);
    const { Session } = testContext().db.models;
    expect(await Session.count({ where: { userId: user.id } })).to.equal(1);
    const home = await agent.get('/').expect(200);
    await agent.post('/logout').type('form').send({ _csrf: csrfFrom(home.text) }).expect(303);
    expect(await Session.count({ where: { userId: user.id } })).to.equal(0);
    await agent.get('/').set('Accept', 'application/json').expect(401);
  });

  it('ends the session of a user disabled meanwhile, at the next request', async () => {
    const { user, password } = await createUser();
    const agent = request.agent(fixture.app);
    await login(agent, user.username, password);
    await agent.get('/').expect(200);
    await user.update({ disabled: true });
    await agent.get('/').set('Accept', 'application/json').expect(401);
    const token = await csrfToken(agent);
    await agent.post('/login').type('form').send({ username: user.username, password, _csrf: token }).expect(401);
  });

  it('marks the cookie Secure behind a trusted TLS proxy', async () => {
    const config = testConfig(testContext().scratch.url, { TRUST_PROXY: '1' });
    const { app, stop } = createApp({ config, logger: createLogger('silent'), sequelize: testContext().db.sequelize, models: testContext().db.models });
    try {
      const res = await request(app).get('/login').set('X-Forwarded-Proto', 'https');
      expect(String(res.headers['set-cookie'])).to.match(/; Secure/);
      const plain = await request(app).get('/login');
      expect(String(plain.headers['set-cookie'])).not.to.match(/; Secure/);
    } finally {
      stop();
    }
  });
});
