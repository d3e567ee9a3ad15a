import crypto from 'node:crypto';
import { expect } from 'chai';
import request from 'supertest';
import { createContainer, createVm } from '../../factories/inventory.js';
import { createUser } from '../../factories/users.js';
import { useApp } from '../../support/app.js';
import { testContext } from '../../support/context.js';
import { login, signedInAgent } from '../../support/login.js';

describe('inventory: record ownership', function () {
  this.timeout(30_000);
  const fixture = useApp();
  const models = () => testContext().db.models;

  function agentFor(admin = false) {
    return signedInAgent(fixture.app, { admin });
  }

  for (const [base, build] of [['/containers', createContainer], ['/vms', createVm]] as const) {
    it(`gives another user 404 on every ${base}/:id route and changes nothing`, async () => {
      const owner = await agentFor();
      const other = await agentFor();
      const record = await build({ username: owner.user.username, purpose: 'mine' });
      const path = `${base}/${record.id}`;
      const json = (r: request.Test) => r.set('Accept', 'application/json').set('X-CSRF-Token', other.csrf);
      await json(other.agent.get(path)).expect(404);
      await json(other.agent.get(`${path}/edit`)).expect(404);
      await json(other.agent.post(path)).send({ purpose: 'theirs' }).expect(404);
      await json(other.agent.put(path)).send({ purpose: 'theirs' }).expect(404);
      await json(other.agent.post(`${path}/owner`)).send({ username: other.user.username }).expect(404);
      await json(other.agent.post(`${path}/delete`)).send({ confirm: 'yes' }).expect(404);
      await json(other.agent.delete(path)).expect(404);
      // A missing record answers exactly the same.
      const missing = await json(other.agent.get(`${base}/999999999`)).expect(404);
      const hidden = await json(other.agent.get(path)).expect(404);
      expect(hidden.body.error).to.equal(missing.body.error);
      await record.reload();
      expect(record).to.include({ username: owner.user.username, purpose: 'mine' });
      // Scoped by objectType too: the other user's session.login event has their user id as objectId, which can equal the record's id.
      expect(await models().AuditEvent.count({ where: { objectType: base === '/containers' ? 'container' : 'vm', objectId: String(record.id), actor: other.user.username } })).to.equal(0);
      await owner.agent.get(path).set('Accept', 'application/json').expect(200);
      await (await agentFor(true)).agent.get(path).set('Accept', 'application/json').expect(200);
    });
  }

  it('forces a non-admin to own what they create; an admin may name a known owner, even one not yet in Berth (a pending request)', async () => {
    const user = await agentFor();
    const admin = await agentFor(true);
    const mine = await user.agent.post('/vms').set('X-CSRF-Token', user.csrf).send({ name: `own-${crypto.randomBytes(4).toString('hex')}.example.org`, username: admin.user.username }).expect(201);
    expect((await models().VirtualMachine.findByPk(mine.body.id))!.username).to.equal(user.user.username);
    // The owner rule (src/inventory/owners.ts): a name with no account must be a pending account request's.
    const newcomer = `newcomer-${crypto.randomBytes(4).toString('hex')}@pve`;
    await models().AccountRequest.create({ name: 'Newcomer', email: 'newcomer@example.org', username: newcomer, reason: 'lab' });
    const theirs = await admin.agent.post('/vms').set('X-CSRF-Token', admin.csrf).send({ name: `pve-${crypto.randomBytes(4).toString('hex')}.example.org`, username: newcomer }).expect(201);
    expect((await models().VirtualMachine.findByPk(theirs.body.id))!.username).to.equal(newcomer);
    const bad = await admin.agent.post('/vms').set('X-CSRF-Token', admin.csrf).send({ name: `bad-${crypto.randomBytes(4).toString('hex')}.example.org`, username: 'no spaces' }).expect(422);
    expect(bad.body.fields.username).to.contain('A username uses letters');
    // The new form offers the owner field to admins only.
    expect((await admin.agent.get('/vms/new').expect(200)).text).to.contain('name="username"');
  });

  it('lets an owner change anything but the owner in an edit (that is a transfer)', async () => {
    const { agent, user, csrf } = await agentFor();
    const ct = await createContainer({ username: user.username });
    const res = await agent.put(`/containers/${ct.id}`).set('X-CSRF-Token', csrf).send({ username: 'somebody', purpose: 'x' }).expect(422);
    expect(res.body.fields.username).to.contain('Transfer ownership');
    expect((await ct.reload()).purpose).to.equal(null);
    await agent.put(`/containers/${ct.id}`).set('X-CSRF-Token', csrf).send({ username: user.username, purpose: 'x' }).expect(200);
    expect((await ct.reload()).purpose).to.equal('x');
    // An admin can reassign in an edit.
    const admin = await agentFor(true);
    const ops = (await createUser({ username: `ops-${crypto.randomBytes(4).toString('hex')}@pve`, realm: 'pve' })).user.username;
    await admin.agent.put(`/containers/${ct.id}`).set('X-CSRF-Token', admin.csrf).send({ username: ops }).expect(200);
    expect((await ct.reload()).username).to.equal(ops);
  });

  it('lets an owner transfer only to an existing, enabled Berth user, audited as a transfer; then they get 404', async () => {
    const from = await agentFor();
    const to = await createUser();
    const disabled = await createUser({ disabled: true });
    const vm = await createVm({ username: from.user.username });
    for (const username of ['nobody-here', disabled.user.username]) {
      const res = await from.agent.post(`/vms/${vm.id}/owner`).set('X-CSRF-Token', from.csrf).send({ username }).expect(422);
      expect(res.body.fields.username).to.match(/^No Berth user/);
    }
    const page = await from.agent.post(`/vms/${vm.id}/owner`).type('form').send({ _csrf: from.csrf, username: 'nobody-here' }).expect(422);
    expect(page.text).to.contain('No Berth user nobody-here').and.contain('value="nobody-here"').and.contain(vm.name);
    expect((await vm.reload()).username).to.equal(from.user.username);

    const done = await from.agent.post(`/vms/${vm.id}/owner`).type('form').send({ _csrf: from.csrf, username: to.user.username }).expect(303);
    expect(done.headers.location).to.equal('/vms');
    expect((await vm.reload()).username).to.equal(to.user.username);
    await from.agent.get(`/vms/${vm.id}`).set('Accept', 'application/json').expect(404);
    const receiver = request.agent(fixture.app);
    await login(receiver, to.user.username, to.password);
    await receiver.get(`/vms/${vm.id}`).set('Accept', 'application/json').expect(200);
    const event = await models().AuditEvent.findOne({ where: { objectType: 'vm', objectId: String(vm.id), action: 'vm.transfer' } });
    expect(event).to.include({ actor: from.user.username });
    expect(JSON.parse(event!.changes!)).to.deep.equal({ username: { before: from.user.username, after: to.user.username } });
  });

  it('lets an admin transfer to a known owner (here a pending account request) and stays on the page', async () => {
    const admin = await agentFor(true);
    const ct = await createContainer({ username: null });
    const future = `future.user-${crypto.randomBytes(4).toString('hex')}@pam`;
    await models().AccountRequest.create({ name: 'Future', email: 'future@example.org', username: future, reason: 'lab' });
    const res = await admin.agent.post(`/containers/${ct.id}/owner`).type('form').send({ _csrf: admin.csrf, username: future }).expect(303);
    expect(res.headers.location).to.equal(`/containers/${ct.id}`);
    expect((await ct.reload()).username).to.equal(future);
    const bad = await admin.agent.post(`/containers/${ct.id}/owner`).set('X-CSRF-Token', admin.csrf).send({ username: '<script>' }).expect(422);
    expect(bad.body.fields.username).to.contain('A username uses letters');
    const same = await admin.agent.post(`/containers/${ct.id}/owner`).set('X-CSRF-Token', admin.csrf).send({ username: future }).expect(200);
    expect(same.body.changes).to.deep.equal({});
  });

  it('hides records with no owner from non-admins', async () => {
    const user = await agentFor();
    const ct = await createContainer({ username: null });
    await user.agent.get(`/containers/${ct.id}`).set('Accept', 'application/json').expect(404);
  });
});
