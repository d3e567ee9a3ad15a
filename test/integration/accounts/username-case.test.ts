// Proxmox user ids are case-sensitive: `OPS@pve` and `ops@pve` are two people. On MariaDB's
// default collation (utf8mb4_unicode_ci) they used to share one Berth account, with its records,
// credentials and tokens; usernames now compare byte for byte on both databases.
import { expect } from 'chai';
import request from 'supertest';
import { createContainer } from '../../factories/inventory.js';
import { testContext } from '../../support/context.js';
import { csrfFrom, csrfToken } from '../../support/login.js';
import { startSim, type StartedSim } from '../../support/pve-sim.js';
import { buildApp, type BuiltApp } from './build-app.js';

describe('accounts: usernames that differ only in case are two accounts', () => {
  let sim: StartedSim;
  let built: BuiltApp;
  beforeEach(async () => {
    const { User } = testContext().db.models;
    await User.destroy({ where: { username: ['OPS@pve', 'ops@pve'] } });
    sim = await startSim();
    // Two Proxmox users whose ids differ only in case, each with their own password.
    for (const [userid, password] of [['OPS@pve', 'upper-pass-123'], ['ops@pve', 'lower-pass-123']]) {
      sim.sim.state.users.set(userid, { userid, password, groups: [], enable: true, expire: 0 });
    }
    built = buildApp({ PROXMOX_URL: sim.url });
  });
  afterEach(async () => {
    await built.stop();
    await sim.close();
  });

  async function logIn(name: string, password: string) {
    const agent = request.agent(built.app);
    const token = await csrfToken(agent);
    await agent.post('/login').type('form').send({ username: name, realm: 'pve', password, _csrf: token }).expect(303);
    const me = await agent.get('/account').set('Accept', 'application/json').expect(200);
    return { agent, me: me.body.user as { id: number; username: string } };
  }

  it('gives OPS@pve and ops@pve separate accounts; neither sees the other\'s containers or tokens', async () => {
    const upper = await logIn('OPS', 'upper-pass-123');
    expect(upper.me.username).to.equal('OPS@pve');
    const ct = await createContainer({ username: 'OPS@pve' });
    const csrf = csrfFrom((await upper.agent.get('/tokens').expect(200)).text);
    const created = await upper.agent.post('/tokens').set('X-CSRF-Token', csrf).send({ name: 'upper-token' }).expect(201);

    const lower = await logIn('ops', 'lower-pass-123');
    expect(lower.me.username).to.equal('ops@pve');
    expect(lower.me.id).not.to.equal(upper.me.id);
    const { User } = testContext().db.models;
    expect((await User.findAll({ where: { username: ['OPS@pve', 'ops@pve'] } })).map((u) => u.username).sort()).to.deep.equal(['OPS@pve', 'ops@pve']);
    expect((await User.findOne({ where: { username: 'ops@pve' } }))!.id).to.equal(lower.me.id);

    const list = await lower.agent.get('/containers').set('Accept', 'application/json').expect(200);
    expect(list.body.containers.map((c: { id: number }) => c.id)).not.to.include(ct.id);
    await lower.agent.get(`/containers/${ct.id}`).set('Accept', 'application/json').expect(404);
    const tokens = await lower.agent.get('/tokens').set('Accept', 'application/json').expect(200);
    expect(JSON.stringify(tokens.body)).not.to.contain('upper-token');
    // The owner still sees both.
    const own = await upper.agent.get('/containers').set('Accept', 'application/json').expect(200);
    expect(own.body.containers.map((c: { id: number }) => c.id)).to.include(ct.id);
    const mine = await request(built.app).get('/account').set('Authorization', `Bearer ${created.body.token}`).set('Accept', 'application/json').expect(200);
    expect(mine.body.user.username).to.equal('OPS@pve');
  });

  it('compares every username column byte for byte in the database itself', async () => {
    const { Container, User } = testContext().db.models;
    await User.create({ username: 'OPS@pve', realm: 'pve', displayName: null, email: null, passwordHash: null, lastLoginAt: null });
    await User.create({ username: 'ops@pve', realm: 'pve', displayName: null, email: null, passwordHash: null, lastLoginAt: null });
    const ct = await createContainer({ username: 'OPS@pve' });
    expect(await Container.count({ where: { id: ct.id, username: 'ops@pve' } })).to.equal(0);
    expect(await Container.count({ where: { id: ct.id, username: 'OPS@pve' } })).to.equal(1);
    const { sequelize } = testContext().db;
    for (const [table, column] of [['Users', 'username'], ['AccountRequests', 'username'], ['Containers', 'username'], ['VirtualMachines', 'username'], ['Jobs', 'createdBy'], ['Credentials', 'createdBy'], ['CsvImports', 'username'], ['AuditEvents', 'actor']]) {
      if (sequelize.getDialect() === 'sqlite') {
        // SQLite compares with BINARY unless a column says otherwise.
        const [rows] = await sequelize.query('SELECT sql FROM sqlite_master WHERE type = \'table\' AND name = ?', { replacements: [table] });
        expect((rows as Array<{ sql: string }>)[0].sql, table).not.to.match(/NOCASE/i);
      } else {
        const [rows] = await sequelize.query(
          'SELECT COLLATION_NAME AS c FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND COLUMN_NAME = ?',
          { replacements: [table, column] },
        );
        expect((rows as Array<{ c: string }>)[0]?.c, `${table}.${column}`).to.equal('utf8mb4_bin');
      }
    }
  });
});
