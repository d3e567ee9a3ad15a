// The drift page's bulk actions: import many unknown machines with one owner (confirmation page,
// JSON API, all or nothing with every refusal listed), forget several records gone from Proxmox,
// and re-link gone records to the machine the last sync saw elsewhere; each audited per record.
import { expect } from 'chai';
import { Op } from 'sequelize';
import request from 'supertest';
import { createApp } from '../../../src/app.js';
import { createLogger } from '../../../src/lib/logger.js';
import { createContainer, createNode, createVm, randomMac } from '../../factories/inventory.js';
import { createAdminUser } from '../../factories/users.js';
import { useApp } from '../../support/app.js';
import { testContext } from '../../support/context.js';
import { withFreshDatabase } from '../../support/databases.js';
import { csrfFrom, csrfToken, login, signedInAgent, type SignedInAgent } from '../../support/login.js';
import { hex, refOf, unknownMachines } from './drift-bulk-fixture.js';

describe('inventory: drift page bulk actions', function () {
  this.timeout(60_000);
  const fixture = useApp();
  const models = () => testContext().db.models;
  let admin: SignedInAgent;
  before(async () => {
    admin = await signedInAgent(fixture.app, { admin: true });
  });

  const post = (path: string, body: object, who: SignedInAgent = admin) => who.agent.post(path).set('Accept', 'application/json').set('X-CSRF-Token', who.csrf).send(body);
  const containersAt = (node: string, vmids: number[]) =>
    models().Node.findOne({ where: { name: node } }).then((n) => (n ? models().Container.findAll({ where: { nodeId: n.id, vmid: vmids } }) : []));
  const events = (objectType: string, ids: number[], action: string) => models().AuditEvent.findAll({ where: { objectType, objectId: { [Op.in]: ids.map(String) }, action } });

  it('imports 50 unknown machines with one owner in one request, one audit event per record', async () => {
    const owner = await createAdminUser();
    const { node, snaps } = await unknownMachines(50);
    // One request (its time is measured in bench/drift-import.ts, not asserted here).
    const res = await post('/inventory/drift/import-bulk', { machines: snaps.map(refOf), username: owner.user.username }).expect(201);
    expect(res.body.refused).to.deep.equal([]);
    expect(res.body.imported).to.have.length(50);
    const records = await containersAt(node, snaps.map((s) => s.vmid));
    expect(records).to.have.length(50);
    expect(records.every((r) => r.username === owner.user.username)).to.equal(true);
    expect(res.body.imported.map((i: { id: number }) => i.id).sort()).to.deep.equal(records.map((r) => r.id).sort());
    expect(res.body.imported[0]).to.deep.equal({ id: res.body.imported[0].id, kind: 'container', href: `/containers/${res.body.imported[0].id}` });
    const audited = await events('container', records.map((r) => r.id), 'container.create');
    expect(audited).to.have.length(50);
    expect(audited.every((e) => e.actor === admin.user.username && e.requestId === res.headers['x-request-id'])).to.equal(true);
  });

  it('asks for confirmation in the browser (naming count and owner), then imports the packed selection', async () => {
    const owner = await createAdminUser();
    const { node, snaps } = await unknownMachines(3, { kind: 'qemu' });
    const refs = snaps.map(refOf);
    const page = await admin.agent.post('/inventory/drift/import-bulk').type('form').send({ _csrf: admin.csrf, machines: refs, username: owner.user.username }).expect(200);
    expect(page.text).to.contain('Import 3 machines?').and.contain(`Import 3 machines owned by ${owner.user.username}`).and.contain(snaps[0].name!);
    expect(await models().VirtualMachine.count({ where: { name: snaps.map((s) => s.name!) } })).to.equal(0);
    const packed = /name="machines" value="([^"]*)"/.exec(page.text)![1];
    expect(packed.split(' ')).to.deep.equal(refs);
    const done = await admin.agent.post('/inventory/drift/import-bulk').type('form').send({ _csrf: csrfFrom(page.text), machines: packed, username: owner.user.username, confirm: 'yes' }).expect(303);
    expect(done.headers.location).to.equal('/inventory/drift');
    const vms = await models().VirtualMachine.findAll({ where: { name: snaps.map((s) => s.name!) } });
    expect(vms.map((v) => v.username)).to.deep.equal([owner.user.username, owner.user.username, owner.user.username]);
    expect((await admin.agent.get('/inventory/drift').expect(200)).text).to.contain(`Imported 3 machines owned by ${owner.user.username}.`).and.not.contain(`data-machine="${refs[0]}"`);
    expect(node).to.be.a('string');
  });

  it('writes nothing when one machine cannot be imported, and lists each refusal with its reason', async () => {
    const { node, snaps } = await unknownMachines(4);
    const { snaps: ghosts } = await unknownMachines(1, { node: `ghost${hex(3)}` });
    const taken = await createContainer({ hostname: `taken-${hex()}` });
    const { snaps: clashing } = await unknownMachines(1, { node: (await models().Node.findOne({ where: { name: node } }))!, names: () => taken.hostname });
    const all = [...snaps, ...ghosts, ...clashing];
    const res = await post('/inventory/drift/import-bulk', { machines: all.map(refOf) }).expect(422);
    expect(res.body.imported).to.deep.equal([]);
    expect(res.body.error).to.equal('2 of the selected machines cannot be done; nothing was changed.');
    const byRef = new Map(res.body.refused.map((r: { ref: string }) => [r.ref, r]));
    expect(byRef.get(refOf(ghosts[0]))).to.include({ error: `Node ${ghosts[0].node} is not registered in Berth; register it first.` });
    expect((byRef.get(refOf(clashing[0])) as { fields: Record<string, string> }).fields.hostname).to.equal(`Another container is already called ${taken.hostname}.`);
    expect(await containersAt(node, all.map((s) => s.vmid))).to.deep.equal([]);
    expect(await models().AuditEvent.count({ where: { action: 'container.create', objectLabel: snaps.map((s) => s.name!) } })).to.equal(0);

    // The same on the page: the drift page with the list, nothing written.
    const page = await admin.agent.post('/inventory/drift/import-bulk').type('form').send({ _csrf: admin.csrf, machines: all.map(refOf).join(' '), confirm: 'yes' }).expect(422);
    expect(page.text).to.contain('nothing was changed').and.contain(`data-ref="${refOf(ghosts[0])}"`).and.contain(`Another container is already called ${taken.hostname}.`);
    expect(await containersAt(node, all.map((s) => s.vmid))).to.deep.equal([]);

    // Only clashes: 409.
    const onlyClash = await post('/inventory/drift/import-bulk', { machines: [refOf(snaps[0]), refOf(clashing[0])] }).expect(409);
    expect(onlyClash.body.refused.map((r: { ref: string }) => r.ref)).to.deep.equal([refOf(clashing[0])]);
    // Two selected machines with one name: the second is refused.
    const { snaps: twins } = await unknownMachines(2, { node: (await models().Node.findOne({ where: { name: node } }))!, names: () => `twin-${hex()}` });
    await models().MachineSnapshot.update({ name: twins[0].name }, { where: { id: twins[1].id } });
    const twice = await post('/inventory/drift/import-bulk', { machines: twins.map(refOf) }).expect(409);
    expect(twice.body.refused).to.have.length(1);
    expect(twins.map(refOf)).to.include(twice.body.refused[0].ref);
    expect(twice.body.refused[0].fields.hostname).to.equal(`Another container is already called ${twins[0].name}.`);
    expect(await containersAt(node, twins.map((s) => s.vmid))).to.deep.equal([]);
  });

  it('refuses bad input, non-admins and requests without the CSRF token', async () => {
    const { snaps } = await unknownMachines(1);
    for (const [body, field] of [
      [{}, 'machines'],
      [{ machines: 'garbage' }, 'machines.0.kind'],
      [{ machines: [{ kind: 'docker', node: 'pve1', vmid: 5 }] }, 'machines.0.kind'],
      [{ machines: [refOf(snaps[0])], username: 'no spaces' }, 'username'],
    ] as const) {
      const res = await post('/inventory/drift/import-bulk', body).expect(422);
      expect(res.body.fields).to.have.property(field);
    }
    const user = await signedInAgent(fixture.app);
    for (const path of ['/inventory/drift/import-bulk', '/inventory/drift/forget', '/inventory/drift/relink']) {
      await post(path, { machines: [refOf(snaps[0])], records: ['container/1'] }, user).expect(403);
      await admin.agent.post(path).set('Accept', 'application/json').send({ machines: [refOf(snaps[0])], records: ['container/1'] }).expect(403);
    }
    expect(await containersAt(snaps[0].node, [snaps[0].vmid])).to.deep.equal([]);
  });

  it('imports every unknown machine on a registered node with all=1', async () => {
    // A database of its own: "all" means all, and the run's database holds other files' machines.
    await withFreshDatabase(async (db, config) => {
      const { app, stop } = createApp({ config, logger: createLogger('silent'), sequelize: db.sequelize, models: db.models });
      try {
        const boss = await createAdminUser();
        const agent = request.agent(app);
        await login(agent, boss.user.username, boss.password);
        const csrf = await csrfToken(agent, '/inventory/drift');
        const { snaps } = await unknownMachines(5);
        await unknownMachines(2, { node: 'unregistered1' });
        const page = await agent.post('/inventory/drift/import-bulk').type('form').send({ _csrf: csrf, all: '1' }).expect(200);
        expect(page.text).to.contain('Import 5 machines?').and.contain('with no owner');
        const res = await agent.post('/inventory/drift/import-bulk').set('Accept', 'application/json').set('X-CSRF-Token', csrf).send({ all: true }).expect(201);
        expect(res.body.imported).to.have.length(5);
        expect(await db.models.Container.count()).to.equal(5);
        expect(await db.models.AuditEvent.count({ where: { action: 'container.create' } })).to.equal(5);
        expect(snaps).to.have.length(5);
        // Nothing left to import on registered nodes.
        expect((await agent.post('/inventory/drift/import-bulk').set('Accept', 'application/json').set('X-CSRF-Token', csrf).send({ all: true }).expect(422)).body.error).to.contain('no unknown machine');
      } finally {
        await stop();
      }
    });
  });

  it('forgets several gone records after a confirmation, audited per record; refuses a record that is not gone', async () => {
    const gone = JSON.stringify({ gone: true });
    const a = await createContainer({ drift: gone });
    const b = await createVm({ drift: gone });
    const here = await createContainer({ drift: null });
    const page = await admin.agent.post('/inventory/drift/forget').type('form').send({ _csrf: admin.csrf, records: [`container/${a.id}`, `vm/${b.id}`] }).expect(200);
    expect(page.text).to.contain('Forget 2 records?').and.contain(a.hostname).and.contain(b.name);

    const refused = await post('/inventory/drift/forget', { records: [`container/${a.id}`, `container/${here.id}`] }).expect(409);
    expect(refused.body.refused).to.deep.equal([{ ref: `container/${here.id}`, name: here.hostname, error: `${here.hostname} is not gone from Proxmox (the last sync found it).`, fields: {} }]);
    expect(await models().Container.count({ where: { id: [a.id, here.id] } })).to.equal(2);

    const done = await admin.agent.post('/inventory/drift/forget').type('form').send({ _csrf: admin.csrf, records: `container/${a.id} vm/${b.id}`, confirm: 'yes' }).expect(303);
    expect(done.headers.location).to.equal('/inventory/drift');
    expect(await models().Container.findByPk(a.id)).to.equal(null);
    expect(await models().VirtualMachine.findByPk(b.id)).to.equal(null);
    expect(await events('container', [a.id], 'container.delete')).to.have.length(1);
    expect(await events('vm', [b.id], 'vm.delete')).to.have.length(1);
  });

  it('re-links gone records to the machine seen elsewhere (same MAC, or same name without one), audited as sync-relink', async () => {
    const oldNode = await createNode({ name: `po${hex(3)}` });
    const newNode = await createNode({ name: `pn${hex(3)}` });
    const mac = randomMac();
    const ct = await createContainer({ nodeId: oldNode.id, vmid: 101, macAddress: mac, status: 'running', drift: JSON.stringify({ gone: true }) });
    const vm = await createVm({ nodeId: oldNode.id, vmid: 201, macAddress: null, drift: JSON.stringify({ gone: true }) });
    const { snaps: [ctSnap] } = await unknownMachines(1, { node: newNode, names: () => ct.hostname });
    await ctSnap.update({ macAddress: mac, ipv4Address: ct.ipv4Address, status: 'stopped' });
    const { snaps: [vmSnap] } = await unknownMachines(1, { node: newNode, kind: 'qemu', names: () => vm.name.toUpperCase() });
    await vmSnap.update({ ipv4Address: vm.ipv4Address });

    const drift = (await admin.agent.get('/inventory/drift').expect(200)).text;
    expect(drift).to.contain(`${ctSnap.vmid} on ${newNode.name} (same MAC address)`).and.contain(`${vmSnap.vmid} on ${newNode.name} (same name)`);
    const confirm = await admin.agent.post('/inventory/drift/relink').type('form').send({ _csrf: admin.csrf, records: [`container/${ct.id}`, `vm/${vm.id}`] }).expect(200);
    expect(confirm.text).to.contain('Re-link 2 records?');

    const res = await post('/inventory/drift/relink', { records: [{ kind: 'container', id: ct.id }, { kind: 'vm', id: vm.id }] }).expect(200);
    expect(res.body.relinked).to.have.length(2);
    await ct.reload();
    await vm.reload();
    expect(ct).to.include({ nodeId: newNode.id, vmid: ctSnap.vmid });
    expect(vm).to.include({ nodeId: newNode.id, vmid: vmSnap.vmid });
    // What still differs is shown as drift, not hidden: the status here.
    expect(JSON.parse(ct.drift!)).to.deep.equal({ fields: { status: { berth: 'running', proxmox: 'stopped' } } });
    const [event] = await events('container', [ct.id], 'container.sync-relink');
    expect(JSON.parse(event.changes!)).to.deep.include({ nodeId: { before: oldNode.id, after: newNode.id } });
    expect(await events('vm', [vm.id], 'vm.sync-relink')).to.have.length(1);

    // A gone record with no match: refused, nothing written.
    const lonely = await createContainer({ nodeId: oldNode.id, vmid: 102, drift: JSON.stringify({ gone: true }) });
    const refused = await post('/inventory/drift/relink', { records: [`container/${lonely.id}`] }).expect(409);
    expect(refused.body.refused[0].error).to.contain('saw no single unknown container');
    expect((await lonely.reload()).vmid).to.equal(102);
  });
});
