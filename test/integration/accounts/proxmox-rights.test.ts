// Rights that come from Proxmox (being in PROXMOX_ADMIN_GROUP, being an enabled Proxmox user) are
// re-read within PROXMOX_RECHECK_MINUTES for sessions and API tokens, and at each inventory sync,
// against the real simulator. Time passing is simulated by moving the user's proxmoxCheckedAt back.
import { expect } from 'chai';
import request from 'supertest';
import type { User } from '../../../models/index.js';
import { Auditor } from '../../../src/audit/index.js';
import { syncInventory } from '../../../src/inventory/sync.js';
import { Vault } from '../../../src/lib/vault.js';
import { createNode } from '../../factories/inventory.js';
import { testConfig, testContext } from '../../support/context.js';
import { clearLoginFailures, csrfFrom, csrfToken } from '../../support/login.js';
import { ADMIN_TOKEN, startSim, type StartedSim } from '../../support/pve-sim.js';
import { buildApp, type BuiltApp } from './build-app.js';

const MINUTE = 60_000;
const CAROL = 'carol@pve';
const DAVE = 'dave@pve';

describe('accounts: rights from Proxmox are re-checked', () => {
  let sim: StartedSim;
  let built: BuiltApp;
  let nodeId: number;

  beforeEach(async () => {
    const { models } = testContext().db;
    await models.User.destroy({ where: { username: [CAROL, DAVE] } });
    await clearLoginFailures(CAROL, DAVE);
    sim = await startSim();
    sim.sim.state.users.set(CAROL, { userid: CAROL, password: 'carolpass123', groups: ['administrators'], enable: true, expire: 0 });
    sim.sim.state.users.set(DAVE, { userid: DAVE, password: 'davepass123', groups: ['developers'], enable: true, expire: 0 });
    // The Node at PROXMOX_URL, whose token (Sys.Audit) Berth reads /access/users with.
    nodeId = (await createNode({ apiUrl: sim.url, apiTokenId: ADMIN_TOKEN.tokenId, apiTokenSecret: ADMIN_TOKEN.secret })).id;
    built = buildApp({ PROXMOX_URL: sim.url, PROXMOX_RECHECK_MINUTES: '1', PROXMOX_ADMIN_GRACE_MINUTES: '10' });
  });
  afterEach(async () => {
    await built.stop();
    await sim.close();
    await testContext().db.models.Node.destroy({ where: { id: nodeId } });
  });

  async function logIn(name: string, password: string) {
    const agent = request.agent(built.app);
    const loginCsrf = await csrfToken(agent);
    await agent.post('/login').type('form').send({ username: name, password, _csrf: loginCsrf }).expect(303);
    const csrf = csrfFrom((await agent.get('/tokens').expect(200)).text);
    const token = (await agent.post('/tokens').set('X-CSRF-Token', csrf).send({ name: 'automation' }).expect(201)).body.token as string;
    const user = (await testContext().db.models.User.findOne({ where: { username: name } }))!;
    return { agent, csrf, token, user };
  }

  /** As if `minutes` had passed since Proxmox last confirmed the user's rights. */
  const age = (user: User, minutes: number) => user.update({ proxmoxCheckedAt: new Date(Date.now() - minutes * MINUTE) });
  const bearer = (token: string) => ({ get: (path: string) => request(built.app).get(path).set('Authorization', `Bearer ${token}`).set('Accept', 'application/json') });
  const rawJob = (token: string) => request(built.app).post('/jobs').set('Authorization', `Bearer ${token}`).set('Accept', 'application/json').send({ command: 'id' });

  it('demotes the session and the API token of a user removed from the admin group, within the bound; POST /jobs is refused', async () => {
    const carol = await logIn(CAROL, 'carolpass123');
    expect(carol.user.proxmoxAdmin).to.equal(true);
    expect(carol.user.proxmoxCheckedAt).to.be.an.instanceOf(Date);
    await carol.agent.get('/users').set('Accept', 'application/json').expect(200);
    await bearer(carol.token).get('/users').expect(200);

    sim.sim.state.users.get(CAROL)!.groups = ['developers'];
    await age(carol.user, 2);
    // The token's next request re-reads the groups: no admin any more, and no raw command.
    await bearer(carol.token).get('/users').expect(403);
    const { Job } = testContext().db.models;
    const jobsBefore = await Job.count();
    await rawJob(carol.token).expect(403);
    expect(await Job.count()).to.equal(jobsBefore);
    // The live session: demoted too (the row says so now), and it still works as a user.
    await carol.agent.get('/users').set('Accept', 'application/json').expect(403);
    await carol.agent.post('/jobs').set('X-CSRF-Token', carol.csrf).set('Accept', 'application/json').send({ command: 'id' }).expect(403);
    await carol.agent.get('/account').set('Accept', 'application/json').expect(200);
    await carol.user.reload();
    expect(carol.user.proxmoxAdmin).to.equal(false);
    expect(Date.now() - carol.user.proxmoxCheckedAt!.getTime()).to.be.below(MINUTE);
    const event = await testContext().db.models.AuditEvent.findOne({ where: { action: 'user.proxmox-demote', objectId: String(carol.user.id) } });
    expect(event, 'the demotion is audited').not.to.equal(null);
  });

  it('re-checks a session on its own (no token) after the bound', async () => {
    const carol = await logIn(CAROL, 'carolpass123');
    sim.sim.state.users.get(CAROL)!.groups = [];
    await age(carol.user, 2);
    await carol.agent.get('/users').set('Accept', 'application/json').expect(403);
  });

  it('disables in Berth a user deleted in Proxmox: session and token refused, sessions deleted', async () => {
    const carol = await logIn(CAROL, 'carolpass123');
    sim.sim.state.users.delete(CAROL);
    await age(carol.user, 2);
    await bearer(carol.token).get('/account').expect(401);
    await carol.agent.get('/account').set('Accept', 'application/json').expect(401);
    await carol.user.reload();
    expect(carol.user).to.include({ disabled: true, proxmoxAdmin: false });
    expect(await testContext().db.models.Session.count({ where: { userId: carol.user.id } })).to.equal(0);
  });

  it('demotes and disables at each inventory sync, due or not', async () => {
    const carol = await logIn(CAROL, 'carolpass123');
    const dave = await logIn(DAVE, 'davepass123');
    sim.sim.state.users.get(CAROL)!.groups = [];
    sim.sim.state.users.get(DAVE)!.enable = false;
    const { db } = testContext();
    const config = testConfig(testContext().scratch.url, { PROXMOX_URL: sim.url });
    const lines: string[] = [];
    await syncInventory(
      { models: db.models, sequelize: db.sequelize, vault: Vault.fromConfig(config), config, auditor: new Auditor(db.models, null) },
      { nodeIds: [nodeId], stdout: (t) => lines.push(t) },
    );
    expect(lines.join('')).to.contain(`Proxmox account ${CAROL}: demoted`).and.contain(`Proxmox account ${DAVE}: disabled`);
    await carol.user.reload();
    await dave.user.reload();
    expect(carol.user).to.include({ proxmoxAdmin: false, disabled: false });
    expect(dave.user.disabled).to.equal(true);
    // Checked just now, so no request re-reads: the row alone takes the rights away.
    await carol.agent.get('/users').set('Accept', 'application/json').expect(403);
    await bearer(carol.token).get('/users').expect(403);
    await dave.agent.get('/account').set('Accept', 'application/json').expect(401);
    await bearer(dave.token).get('/account').expect(401);
  });

  it('keeps the last known rights while Proxmox is unreachable, but drops admin after the grace period', async () => {
    const carol = await logIn(CAROL, 'carolpass123');
    await sim.close();
    // Due, but within the bound plus the 10-minute grace: still an admin, still a user.
    await age(carol.user, 5);
    await bearer(carol.token).get('/users').expect(200);
    await carol.agent.get('/users').set('Accept', 'application/json').expect(200);
    // Past it: fail closed for admin; the account itself keeps working.
    await age(carol.user, 12);
    await bearer(carol.token).get('/users').expect(403);
    await rawJob(carol.token).expect(403);
    await carol.agent.get('/account').set('Accept', 'application/json').expect(200);
    await carol.user.reload();
    expect(carol.user).to.include({ proxmoxAdmin: false, disabled: false });
  });
});
