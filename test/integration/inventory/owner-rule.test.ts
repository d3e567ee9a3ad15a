// One owner rule on every path that sets an owner (src/inventory/owners.ts): the record form (create
// and edit), drift import (single and bulk), CSV import, bulk edit and transfer. An admin names a
// Berth user, a Proxmox user who signed in, or a pending account request's username; anything else
// is refused on `username` and nothing is written. A non-admin transfers only to enabled accounts.
import { expect } from 'chai';
import { Op } from 'sequelize';
import { createContainer, createVm } from '../../factories/inventory.js';
import { createUser } from '../../factories/users.js';
import { useApp } from '../../support/app.js';
import { testContext } from '../../support/context.js';
import { signedInAgent, type SignedInAgent } from '../../support/login.js';
import { hex, refOf, unknownMachines } from './drift-bulk-fixture.js';

describe('inventory: one owner rule on every path', function () {
  this.timeout(60_000);
  const fixture = useApp();
  const models = () => testContext().db.models;
  let admin: SignedInAgent;
  let pending: string;
  let proxmoxUser: string;
  const HINT = 'a Berth user, a Proxmox user who has signed in to Berth, or the username of a pending account request';

  before(async () => {
    admin = await signedInAgent(fixture.app, { admin: true });
    pending = `pending-${hex()}@pve`;
    await models().AccountRequest.create({ name: 'Pending', email: 'pending@example.org', username: pending, reason: 'lab' });
    proxmoxUser = (await createUser({ username: `pveuser-${hex()}@pve`, realm: 'pve' })).user.username;
  });

  const send = (method: 'post' | 'put', path: string, body: object, who: SignedInAgent = admin) => who.agent[method](path).set('Accept', 'application/json').set('X-CSRF-Token', who.csrf).send(body);
  const csvUpload = (csv: string) => send('post', '/containers/import', { csv, filename: 'owners.csv' });
  const ownedBy = async (username: string) => (await models().Container.count({ where: { username } })) + (await models().VirtualMachine.count({ where: { username } }));
  const auditsFor = (objectType: string, id: number) => models().AuditEvent.count({ where: { objectType, objectId: String(id), action: { [Op.notLike]: '%.create' } } });

  it('refuses an unknown name on every admin path, with a field message naming what is accepted, writing nothing', async () => {
    const nobody = `nosuchuser-${hex()}`;
    const refused = (res: { body: { fields: Record<string, string> } }) => expect(res.body.fields.username).to.equal(`${nobody} is not known to Berth: an owner is ${HINT}.`);

    // Record form, create: JSON and the HTML form (re-rendered with the message).
    const name = `own-${hex()}.example.org`;
    refused(await send('post', '/vms', { name, username: nobody }).expect(422));
    const form = await admin.agent.post('/vms').type('form').send({ _csrf: admin.csrf, name, username: nobody }).expect(422);
    expect(form.text).to.contain(`${nobody} is not known to Berth`).and.contain(`value="${nobody}"`);
    expect(await models().VirtualMachine.count({ where: { name } })).to.equal(0);

    // Record form, edit.
    const ct = await createContainer({ username: null });
    refused(await send('put', `/containers/${ct.id}`, { username: nobody, purpose: 'x' }).expect(422));
    expect((await ct.reload()).get()).to.include({ username: null, purpose: null });

    // Drift import, single and bulk.
    const { snaps } = await unknownMachines(3);
    refused(await send('post', '/inventory/drift/import', { kind: 'lxc', node: snaps[0].node, vmid: snaps[0].vmid, username: nobody }).expect(422));
    const bulk = await send('post', '/inventory/drift/import-bulk', { machines: snaps.map(refOf), username: nobody }).expect(422);
    refused(bulk);
    expect(await models().Container.count({ where: { hostname: snaps.map((s) => s.name!) } })).to.equal(0);

    // CSV import: the row is an error, the file cannot be applied.
    const csvName = `csv-${hex()}.example.org`;
    const upload = await csvUpload(`hostname,owner\n${csvName},${nobody}\n`).expect(201);
    expect(upload.body.plan.ok).to.equal(false);
    expect(upload.body.plan.rows[0].errors.join(' ')).to.contain(nobody);
    await send('post', `/containers/import/${upload.body.id}/apply`, {}).expect(422);
    expect(await models().Container.count({ where: { hostname: csvName } })).to.equal(0);

    // Transfer and bulk edit.
    refused(await send('post', `/containers/${ct.id}/owner`, { username: nobody }).expect(422));
    const bulkEdit = await send('post', '/containers/bulk', { ids: [ct.id], owner: nobody }).expect(422);
    // The bulk form's field is `owner`: the message is given beside it.
    expect(bulkEdit.body.fields.owner).to.contain(nobody);
    expect((await ct.reload()).username).to.equal(null);
    expect(await auditsFor('container', ct.id)).to.equal(0);
    expect(await ownedBy(nobody)).to.equal(0);
  });

  for (const which of ['pending account request', 'Proxmox user'] as const) {
    it(`accepts a ${which}'s name from an admin on every path`, async () => {
      const owner = which === 'Proxmox user' ? proxmoxUser : pending;
      const vm = await send('post', '/vms', { name: `ok-${hex()}.example.org`, username: owner }).expect(201);
      expect((await models().VirtualMachine.findByPk(vm.body.id))!.username).to.equal(owner);

      const ct = await createContainer({ username: null });
      await send('put', `/containers/${ct.id}`, { username: owner }).expect(200);
      expect((await ct.reload()).username).to.equal(owner);

      const { snaps } = await unknownMachines(3);
      const one = await send('post', '/inventory/drift/import', { kind: 'lxc', node: snaps[0].node, vmid: snaps[0].vmid, username: owner }).expect(201);
      expect((await models().Container.findByPk(one.body.id))!.username).to.equal(owner);
      const many = await send('post', '/inventory/drift/import-bulk', { machines: snaps.slice(1).map(refOf), username: owner }).expect(201);
      expect(many.body.imported).to.have.length(2);
      expect((await models().Container.findAll({ where: { hostname: snaps.slice(1).map((s) => s.name!) } })).map((c) => c.username)).to.deep.equal([owner, owner]);

      const csvName = `csv-${hex()}.example.org`;
      const upload = await csvUpload(`hostname,owner\n${csvName},${owner}\n`).expect(201);
      expect(upload.body.plan.ok).to.equal(true);
      await send('post', `/containers/import/${upload.body.id}/apply`, {}).expect(200);
      expect((await models().Container.findOne({ where: { hostname: csvName } }))!.username).to.equal(owner);

      const other = await createVm({ username: null });
      await send('post', `/vms/${other.id}/owner`, { username: owner }).expect(200);
      expect((await other.reload()).username).to.equal(owner);
    });
  }

  it('keeps an owner a record already has (even one the rule would refuse now) and lets an admin clear it', async () => {
    const legacy = `legacy-${hex()}`;
    const ct = await createContainer({ username: legacy });
    await send('put', `/containers/${ct.id}`, { username: legacy, purpose: 'kept' }).expect(200);
    expect((await ct.reload()).get()).to.include({ username: legacy, purpose: 'kept' });
    await send('put', `/containers/${ct.id}`, { username: '' }).expect(200);
    expect((await ct.reload()).username).to.equal(null);
  });

  it('lets a non-admin transfer only to an enabled account: a pending request or a disabled account is refused alike', async () => {
    const user = await signedInAgent(fixture.app);
    const disabled = (await createUser({ disabled: true })).user.username;
    const vm = await createVm({ username: user.user.username });
    for (const username of [pending, disabled, `nosuchuser-${hex()}`]) {
      const res = await send('post', `/vms/${vm.id}/owner`, { username }, user).expect(422);
      expect(res.body.fields.username).to.equal(`No Berth user ${username} can receive it (the account must exist and be enabled).`);
    }
    expect((await vm.reload()).username).to.equal(user.user.username);
    // Their CSV import cannot name another owner; a non-admin's create is theirs whatever they send.
    const created = await send('post', '/vms', { name: `mine-${hex()}.example.org`, username: pending }, user).expect(201);
    expect((await models().VirtualMachine.findByPk(created.body.id))!.username).to.equal(user.user.username);
  });
});
