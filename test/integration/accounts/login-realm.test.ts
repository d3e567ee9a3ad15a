// With Proxmox configured, a local account logs in with the form's defaults (Berth (local) is
// preselected, not the node's default realm), a failed login says which realm was tried, and the
// realm of this browser's last login is preselected next time.
import { expect } from 'chai';
import request from 'supertest';
import { createUser } from '../../factories/users.js';
import { clearLoginFailures, csrfFrom } from '../../support/login.js';
import { startSim, type StartedSim } from '../../support/pve-sim.js';
import { buildApp, type BuiltApp } from './build-app.js';

/** The value of the realm option the form preselects. */
const selectedRealm = (html: string) => /<option value="([^"]+)" selected>/.exec(html)?.[1];

describe('accounts: the login form realm', () => {
  let sim: StartedSim;
  let built: BuiltApp;
  beforeEach(async () => {
    await clearLoginFailures('alice@pve');
    sim = await startSim();
    built = buildApp({ PROXMOX_URL: sim.url });
  });
  afterEach(async () => {
    await built.stop();
    await sim.close();
  });

  it('logs a local account in with the form as served (Berth (local) preselected although the node has a default realm)', async () => {
    expect(sim.sim.state.realms.some((r) => r.default === 1), 'the seed marks a default realm').to.equal(true);
    const { user, password } = await createUser();
    const agent = request.agent(built.app);
    const page = await agent.get('/login').expect(200);
    const realm = selectedRealm(page.text);
    expect(realm).to.equal('local');
    await agent.post('/login').type('form').send({ username: user.username, password, realm, _csrf: csrfFrom(page.text) }).expect(303);
    await agent.get('/account').set('Accept', 'application/json').expect(200);
  });

  it('says which realm a failed login tried', async () => {
    const { user } = await createUser();
    const agent = request.agent(built.app);
    const csrf = csrfFrom((await agent.get('/login').expect(200)).text);
    const local = await agent.post('/login').type('form').send({ username: user.username, password: 'wrong', realm: 'local', _csrf: csrf }).expect(401);
    expect(local.text).to.contain('Invalid username or password. Tried: Berth (local) accounts.');
    const pve = await agent.post('/login').set('X-CSRF-Token', csrf).send({ username: user.username, password: 'wrong', realm: 'pve' }).expect(401);
    expect(pve.body.error).to.equal('Invalid username or password. Tried: Proxmox realm pve.');
  });

  it('preselects the realm of the last login in this browser, and only a realm the node offers', async () => {
    const agent = request.agent(built.app);
    const csrf = csrfFrom((await agent.get('/login').expect(200)).text);
    const res = await agent.post('/login').type('form').send({ username: 'alice', realm: 'pve', password: 'alicepass123', _csrf: csrf }).expect(303);
    expect(String(res.headers['set-cookie'])).to.match(/berth\.realm=pve;.*HttpOnly/);
    const loggedIn = await agent.get('/account').expect(200);
    await agent.post('/logout').type('form').send({ _csrf: csrfFrom(loggedIn.text) }).expect(303);
    expect(selectedRealm((await agent.get('/login').expect(200)).text)).to.equal('pve');
    // A cookie naming a realm the node does not offer falls back to Berth (local).
    const forged = await request(built.app).get('/login').set('Cookie', 'berth.realm=ldap').expect(200);
    expect(selectedRealm(forged.text)).to.equal('local');
  });
});
