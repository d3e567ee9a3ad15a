// An admin may set an owner name that has no account yet. Approving an account request for that
// name would hand the new account those records and their credentials: the admin sees what the
// name owns and must confirm the take-over, approve under another username, or reject.
import crypto from 'node:crypto';
import { expect } from 'chai';
import request from 'supertest';
import { createCredential } from '../../factories/credentials.js';
import { createContainer, createVm } from '../../factories/inventory.js';
import { createAdminUser } from '../../factories/users.js';
import { useApp } from '../../support/app.js';
import { testContext } from '../../support/context.js';
import { csrfFrom, login } from '../../support/login.js';

describe('accounts: approving a username that already owns records', function () {
  this.timeout(30_000);
  const fixture = useApp();
  const models = () => testContext().db.models;

  /** Records owned by a fresh "carol…" name, her account request, and a logged-in admin. */
  async function setUp() {
    const carol = `carol${crypto.randomBytes(3).toString('hex')}`;
    const ct = await createContainer({ username: carol });
    const vm = await createVm({ username: carol });
    await createCredential({ containerId: ct.id });
    const visitor = request.agent(fixture.app);
    const form = await visitor.get('/register').expect(200);
    await visitor.post('/register').type('form')
      .send({ name: 'Carol New', email: `${carol}@example.org`, username: carol, reason: 'I need an account please', _csrf: csrfFrom(form.text) })
      .expect(201);
    const req = (await models().AccountRequest.findOne({ where: { username: carol } }))!;
    const admin = await createAdminUser();
    const agent = request.agent(fixture.app);
    await login(agent, admin.user.username, admin.password);
    const page = await agent.get('/account-requests').expect(200);
    return { carol, ct, vm, req, admin: admin.user, agent, page: page.text, csrf: csrfFrom(page.text) };
  }

  it('shows what the name owns and refuses approval without an explicit take-over (409, JSON and form), then approves with it and audits it', async () => {
    const s = await setUp();
    const block = s.page.slice(s.page.indexOf(`id="request-${s.req.id}"`));
    expect(block).to.contain('already owns records').and.contain(s.ct.hostname).and.contain(s.vm.name).and.contain('name="takeOver"');

    const json = await s.agent.post(`/account-requests/${s.req.id}/approve`).set('Accept', 'application/json').set('X-CSRF-Token', s.csrf).expect(409);
    expect(json.body.error).to.contain(`${s.carol} already owns records`);
    expect(json.body.owned.containers).to.deep.equal({ count: 1, items: [{ id: s.ct.id, name: s.ct.hostname }] });
    expect(json.body.owned.vms).to.deep.equal({ count: 1, items: [{ id: s.vm.id, name: s.vm.name }] });
    expect(json.body.owned.credentials).to.equal(1);
    expect(json.body.error).to.contain('1 container, 1 VM, 1 credential');

    const form = await s.agent.post(`/account-requests/${s.req.id}/approve`).type('form').send({ _csrf: s.csrf }).expect(409);
    expect(form.text).to.contain('already owns records').and.contain(s.ct.hostname).and.contain('Confirm that the new account takes over');
    expect(await models().User.count({ where: { username: s.carol } })).to.equal(0);
    expect((await s.req.reload()).status).to.equal('pending');

    const ok = await s.agent.post(`/account-requests/${s.req.id}/approve`).type('form').send({ _csrf: s.csrf, takeOver: '1' }).expect(303);
    expect(ok.headers.location).to.equal('/account-requests');
    const user = (await models().User.findOne({ where: { username: s.carol } }))!;
    expect(user).to.not.equal(null);
    expect((await s.req.reload()).status).to.equal('approved');
    const event = (await models().AuditEvent.findOne({ where: { action: 'user.take-over', objectId: String(user.id) } }))!;
    expect(event).to.include({ actor: s.admin.username, objectType: 'user', objectLabel: s.carol });
    expect(JSON.parse(event.changes!)).to.deep.include({ containers: { after: [s.ct.hostname] }, vms: { after: [s.vm.name] } });
  });

  it('approves under another username, leaving the records with the name they had', async () => {
    const s = await setUp();
    const other = `${s.carol}-2`;
    const bad = await s.agent.post(`/account-requests/${s.req.id}/approve`).type('form').send({ _csrf: s.csrf, username: 'No Spaces!' }).expect(422);
    expect(bad.text).to.contain('Use 2–64 letters');
    // Another name that owns records needs the same confirmation.
    await createContainer({ username: other });
    await s.agent.post(`/account-requests/${s.req.id}/approve`).set('Accept', 'application/json').set('X-CSRF-Token', s.csrf).send({ username: other }).expect(409);
    const fresh = `${s.carol}-new`;
    const res = await s.agent.post(`/account-requests/${s.req.id}/approve`).set('Accept', 'application/json').set('X-CSRF-Token', s.csrf).send({ username: fresh }).expect(200);
    expect(res.body).to.include({ success: true, username: fresh, tookOver: null });
    expect(await models().User.count({ where: { username: s.carol } })).to.equal(0);
    expect((await s.ct.reload()).username).to.equal(s.carol);
    expect(await models().AuditEvent.count({ where: { action: 'user.take-over', objectLabel: fresh } })).to.equal(0);
  });
});
