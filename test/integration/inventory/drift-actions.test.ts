// The drift page and its actions over HTTP: import an unknown machine (choosing the owner), accept
// Proxmox's values for a drifted record (fields and node), each audited and clearing the drift;
// refusals (unregistered node, clash, gone record, bad input) shown on the page or as 4xx JSON.
import { expect } from 'chai';
import request from 'supertest';
import { syncInventory } from '../../../src/inventory/sync.js';
import { Vault } from '../../../src/lib/vault.js';
import { createContainer, randomIp, randomMac } from '../../factories/inventory.js';
import { createUser } from '../../factories/users.js';
import { useApp } from '../../support/app.js';
import { testContext } from '../../support/context.js';
import { csrfFrom, csrfToken, login } from '../../support/login.js';
import { useSyncWorld } from './sync-fixture.js';

describe('inventory: drift page and actions', () => {
  const fixture = useApp();
  const w = useSyncWorld();

  const sync = () => {
    const { db, config } = testContext();
    return syncInventory({ models: db.models, sequelize: db.sequelize, vault: Vault.fromConfig(config), config }, { nodeIds: [w.n1.id, w.n2.id] });
  };
  async function admin() {
    const { user, password } = await createUser({ role: 'admin' });
    const agent = request.agent(fixture.app);
    await login(agent, user.username, password);
    return { user, agent, csrf: await csrfToken(agent, '/inventory/drift') };
  }
  const json = (agent: ReturnType<typeof request.agent>, csrf: string, path: string, body: object) => agent.post(path).set('Accept', 'application/json').set('X-CSRF-Token', csrf).send(body);
  const audits = (objectType: string, id: number, action: string) => testContext().db.models.AuditEvent.findAll({ where: { objectType, objectId: String(id), action } });

  it('lists unknown machines with an import form; importing one creates the record with the chosen owner, audited', async () => {
    const { user, agent, csrf } = await admin();
    const owner = await createUser();
    await sync();
    const page = (await agent.get('/inventory/drift').expect(200)).text;
    expect(page).to.include(`data-machine="lxc/${w.n1.name}/100"`).and.include(w.name('web01')).and.include('Import');
    expect(page).to.include(`<option value="${owner.user.username}">`);

    const res = await agent.post('/inventory/drift/import').type('form').send({ _csrf: csrf, kind: 'lxc', node: w.n1.name, vmid: '100', username: owner.user.username }).expect(303);
    expect(res.headers.location).to.equal('/inventory/drift');
    const { models } = testContext().db;
    const record = (await models.Container.findOne({ where: { nodeId: w.n1.id, vmid: 100 } }))!;
    const snap = (await models.MachineSnapshot.findOne({ where: { node: w.n1.name, vmid: 100 } }))!;
    expect(record).to.include({ hostname: w.name('web01'), username: owner.user.username, status: 'running', ipv4Address: w.ip('10.20.0.100'), macAddress: snap.macAddress, osRelease: 'debian', drift: null });
    const [created] = await audits('container', record.id, 'container.create');
    expect(created.actor).to.equal(user.username);
    expect(created.requestId).to.equal(res.headers['x-request-id']);
    expect(JSON.parse(created.changes!).hostname).to.deep.equal({ after: w.name('web01') });

    const after = (await agent.get('/inventory/drift').expect(200)).text;
    expect(after).to.include(`Imported ${w.name('web01')} as container #${record.id}.`);
    expect(after).not.to.include(`data-machine="lxc/${w.n1.name}/100"`);

    const vm = await json(agent, csrf, '/inventory/drift/import', { kind: 'qemu', node: w.n1.name, vmid: 200 }).expect(201);
    expect(vm.body).to.deep.equal({ id: vm.body.id, kind: 'vm', href: `/vms/${vm.body.id}` });
    const row = (await models.VirtualMachine.findByPk(vm.body.id))!;
    expect(row).to.include({ name: w.name('win-rdp01'), vmid: 200, nodeId: w.n1.id, username: null, osName: 'win11', ipv4Address: w.ip('10.20.0.50') });
    expect(await audits('vm', row.id, 'vm.create')).to.have.length(1);
  });

  it('refuses imports it cannot do: unregistered node, already imported, unknown machine, bad input', async () => {
    const { agent, csrf } = await admin();
    await sync();
    const { models } = testContext().db;
    await models.MachineSnapshot.create({ kind: 'lxc', node: `ghost${w.n1.name}`, vmid: 555, name: 'ghost-ct', status: 'running', macAddress: randomMac(), ipv4Address: randomIp(), osName: null, syncJobId: null, seenAt: new Date() });
    try {
      const unregistered = await json(agent, csrf, '/inventory/drift/import', { kind: 'lxc', node: `ghost${w.n1.name}`, vmid: 555 }).expect(422);
      expect(unregistered.body.error).to.equal(`Node ghost${w.n1.name} is not registered in Berth; register it first.`);
      const page = await agent.post('/inventory/drift/import').type('form').send({ _csrf: csrf, kind: 'lxc', node: `ghost${w.n1.name}`, vmid: '555' }).expect(422);
      expect(page.text).to.include(`Register node ghost${w.n1.name} in Berth first.`).and.include('In Proxmox, unknown to Berth');
    } finally {
      await models.MachineSnapshot.destroy({ where: { node: `ghost${w.n1.name}` } });
    }

    await json(agent, csrf, '/inventory/drift/import', { kind: 'lxc', node: w.n2.name, vmid: 102 }).expect(201);
    const twice = await json(agent, csrf, '/inventory/drift/import', { kind: 'lxc', node: w.n2.name, vmid: 102 }).expect(409);
    expect(twice.body.fields).to.include({ hostname: `Another container is already called ${w.name('db01')}.`, containerId: `VMID 102 on that node is already ${w.name('db01')}.` });
    const twicePage = await agent.post('/inventory/drift/import').type('form').send({ _csrf: csrf, kind: 'lxc', node: w.n2.name, vmid: '102' }).expect(409);
    expect(twicePage.text).to.include(`VMID 102 on that node is already ${w.name('db01')}.`);
    expect(await models.Container.count({ where: { hostname: w.name('db01') } })).to.equal(1);

    const missing = await json(agent, csrf, '/inventory/drift/import', { kind: 'qemu', node: w.n2.name, vmid: 999 }).expect(404);
    expect(missing.body.error).to.equal(`The last sync saw no VM 999 on ${w.n2.name}.`);
    // A browser gets the drift page again (the machine went away since it was drawn), not an error page.
    const missingPage = await agent.post('/inventory/drift/import').type('form').send({ _csrf: csrf, kind: 'qemu', node: w.n2.name, vmid: '999' }).expect(404);
    expect(missingPage.text).to.include(`The last sync saw no VM 999 on ${w.n2.name}.`).and.include('In Proxmox, unknown to Berth');
    const bad = await json(agent, csrf, '/inventory/drift/import', { kind: 'docker', node: 'pve 1', vmid: 5, username: 'a b' }).expect(422);
    expect(bad.body.fields).to.have.keys('kind', 'node', 'vmid', 'username');
  });

  it('accepts Proxmox values for drifted fields and a migrated node, audited, clearing the drift', async () => {
    const { user, agent, csrf } = await admin();
    await sync();
    for (const [kind, node, vmid] of [['lxc', w.n2.name, 102], ['qemu', w.n2.name, 201]] as const) await json(agent, csrf, '/inventory/drift/import', { kind, node, vmid }).expect(201);
    const newIp = w.ip('10.20.0.88');
    await w.pve.containers.updateConfig(w.n2.name, 102, { net0: `name=eth0,bridge=vmbr0,hwaddr=BC:24:11:DD:EE:FF,ip=${newIp}/24` });
    w.s.sim.state.guests.get(201)!.node = w.n1.name;
    await sync();
    const { models } = testContext().db;
    const ct = (await models.Container.findOne({ where: { nodeId: w.n2.id, vmid: 102 } }))!;
    const vm = (await models.VirtualMachine.findOne({ where: { vmid: 201, nodeId: w.n2.id } }))!;
    const oldMac = ct.macAddress;

    const page = (await agent.get('/inventory/drift').expect(200)).text;
    expect(page).to.include(`data-record="container/${ct.id}"`).and.include('bc:24:11:dd:ee:ff').and.include(`data-record="vm/${vm.id}"`);

    await agent.post('/inventory/drift/accept').type('form').send({ _csrf: csrf, kind: 'container', id: String(ct.id) }).expect(303).expect('Location', '/inventory/drift');
    await ct.reload();
    expect(ct).to.include({ macAddress: 'bc:24:11:dd:ee:ff', ipv4Address: newIp, drift: null });
    const [accepted] = await audits('container', ct.id, 'container.sync-accept');
    expect(accepted.actor).to.equal(user.username);
    expect(JSON.parse(accepted.changes!)).to.deep.equal({ macAddress: { before: oldMac, after: 'bc:24:11:dd:ee:ff' }, ipv4Address: { before: w.ip('10.20.0.12'), after: newIp } });

    const moved = await json(agent, csrf, '/inventory/drift/accept', { kind: 'vm', id: vm.id }).expect(200);
    expect(moved.body).to.deep.equal({ success: true, changes: { nodeId: { before: w.n2.id, after: w.n1.id } } });
    await vm.reload();
    expect(vm).to.include({ nodeId: w.n1.id, drift: null });
    expect(await audits('vm', vm.id, 'vm.sync-accept')).to.have.length(1);

    const again = (await agent.get('/inventory/drift').expect(200)).text;
    expect(again).not.to.include(`data-record="container/${ct.id}"`).and.not.include(`data-record="vm/${vm.id}"`);
    // In step now: the next sync finds nothing to report for them.
    await sync();
    await ct.reload();
    await vm.reload();
    expect([ct.drift, vm.drift]).to.deep.equal([null, null]);
    const nothing = await json(agent, csrf, '/inventory/drift/accept', { kind: 'container', id: ct.id }).expect(409);
    expect(nothing.body.error).to.equal(`${ct.hostname} has no drift to accept.`);
  });

  it('refuses to accept for a gone record or a value another record holds, changing nothing', async () => {
    const { agent, csrf } = await admin();
    await sync();
    await json(agent, csrf, '/inventory/drift/import', { kind: 'lxc', node: w.n1.name, vmid: 101 }).expect(201);
    await json(agent, csrf, '/inventory/drift/import', { kind: 'lxc', node: w.n1.name, vmid: 100 }).expect(201);
    const { models } = testContext().db;
    const holder = await createContainer({ macAddress: 'bc:24:11:12:34:56' });
    try {
      await w.pve.tasks.wait(await w.pve.containers.delete(w.n1.name, 101), { pollMs: 10 });
      await w.pve.containers.updateConfig(w.n1.name, 100, { net0: 'name=eth0,bridge=vmbr0,hwaddr=BC:24:11:12:34:56,ip=dhcp' });
      await sync();
      const gone = (await models.Container.findOne({ where: { nodeId: w.n1.id, vmid: 101 } }))!;
      expect(JSON.parse(gone.drift!)).to.have.keys('gone', 'missedAt').and.include({ gone: true });
      const page = (await agent.get('/inventory/drift').expect(200)).text;
      expect(page).to.match(new RegExp(`data-record="container/${gone.id}"[\\s\\S]*?${w.name('build01')}`));
      const refused = await json(agent, csrf, '/inventory/drift/accept', { kind: 'container', id: gone.id }).expect(409);
      expect(refused.body.error).to.include('is gone from Proxmox');

      const web = (await models.Container.findOne({ where: { nodeId: w.n1.id, vmid: 100 } }))!;
      const clash = await json(agent, csrf, '/inventory/drift/accept', { kind: 'container', id: web.id }).expect(409);
      expect(clash.body.fields.macAddress).to.equal(`${holder.hostname} (container) already has the MAC address bc:24:11:12:34:56.`);
      const clashPage = await agent.post('/inventory/drift/accept').type('form').send({ _csrf: csrf, kind: 'container', id: String(web.id) }).expect(409);
      expect(clashPage.text).to.include('already has the MAC address bc:24:11:12:34:56');
      const before = web.macAddress;
      await web.reload();
      expect(web.macAddress).to.equal(before);
      expect(web.drift).not.to.equal(null);
      expect(await audits('container', web.id, 'container.sync-accept')).to.have.length(0);
    } finally {
      await holder.destroy();
    }
  });

  it('escapes what Proxmox reports, and is for admins only', async () => {
    const { agent } = await admin();
    const { models } = testContext().db;
    await models.MachineSnapshot.create({ kind: 'qemu', node: w.n1.name, vmid: 777, name: '<script>alert(1)</script>', status: 'running', macAddress: null, ipv4Address: null, osName: null, syncJobId: null, seenAt: new Date() });
    const page = (await agent.get('/inventory/drift').expect(200)).text;
    expect(page).to.include('&lt;script&gt;alert(1)&lt;/script&gt;').and.not.include('<script>alert(1)</script>');

    const { user, password } = await createUser();
    const plain = request.agent(fixture.app);
    await login(plain, user.username, password);
    const csrf = csrfFrom((await plain.get('/account')).text);
    await plain.get('/inventory/drift').expect(403);
    for (const path of ['/inventory/sync', '/inventory/drift/import', '/inventory/drift/accept']) await json(plain, csrf, path, {}).expect(403);
  });
});
