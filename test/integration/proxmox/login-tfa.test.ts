// Berth's login for a Proxmox user with a second factor: the node answers the right password with
// a half ticket and NeedTFA, which Berth must neither take as a login nor call "rejected".
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import request from 'supertest';
import type { SeedInput } from '../../../tools/pve-sim/index.js';
import { testContext } from '../../support/context.js';
import { clearLoginFailures, csrfToken } from '../../support/login.js';
import { SEED_FILE, startSim, type StartedSim } from '../../support/pve-sim.js';
import { buildApp, type BuiltApp } from '../accounts/build-app.js';

function seedWithTfaUser(): SeedInput {
  const seed = JSON.parse(readFileSync(SEED_FILE, 'utf8')) as { users: object[] };
  seed.users.push({ userid: 'dave@pve', password: 'davepass123', groups: ['developers'], totp: 'JBSWY3DPEHPK3PXP' });
  return seed as SeedInput;
}

describe('login: Proxmox user with two-factor authentication', () => {
  let sim: StartedSim;
  let built: BuiltApp;
  beforeEach(async () => {
    await clearLoginFailures('dave@pve');
    sim = await startSim({ seed: seedWithTfaUser() });
    built = buildApp({ PROXMOX_URL: sim.url, LOGIN_MAX_FAILURES: '2' });
  });
  afterEach(async () => {
    await built.stop();
    await sim.close();
  });

  it('answers a JSON login with a clear two-factor message and starts no session', async () => {
    const agent = request.agent(built.app);
    const token = await csrfToken(agent);
    const res = await agent.post('/login').set('X-CSRF-Token', token).send({ username: 'dave@pve', password: 'davepass123' }).expect(403);
    expect(res.body.error).to.contain('two-factor login is required');
    expect(res.body.error).not.to.match(/rejected|Invalid username/);
    await agent.get('/account').set('Accept', 'application/json').expect(401);
    expect(await testContext().db.models.User.count({ where: { username: 'dave@pve' } })).to.equal(0);
    expect(sim.sim.logins).to.deep.equal([{ username: 'dave@pve', ok: true, renewal: false, tfa: 'challenge' }]);
    // The half ticket was never used for an API call.
    expect(sim.sim.requests.filter((r) => r.user === 'dave@pve')).to.deep.equal([]);
  });

  it('answers a form login with the message on the form, does not count it as a failure, and starts no session', async () => {
    const agent = request.agent(built.app);
    const token = await csrfToken(agent);
    for (let i = 0; i < 3; i++) {
      const res = await agent.post('/login').type('form').send({ username: 'dave', realm: 'pve', password: 'davepass123', _csrf: token }).expect(403);
      expect(res.text).to.contain('two-factor login is required').and.not.contain('Invalid username or password');
    }
    await agent.get('/account').set('Accept', 'application/json').expect(401);
    // A wrong password is still the usual failure.
    const wrong = await agent.post('/login').type('form').send({ username: 'dave', realm: 'pve', password: 'nope', _csrf: token }).expect(401);
    expect(wrong.text).to.contain('Invalid username or password').and.not.contain('two-factor');
  });
});
