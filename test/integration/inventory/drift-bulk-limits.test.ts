// The drift page's bulk actions at their edges: the 1000-item limit for lists and for "all" (JSON and
// page), "all" resolved once by the confirmation page, the owner checked before confirmation, the
// selection kept when the page is drawn again after a refusal, "select all" for gone records, and
// the re-link rule (one index for the page and the command).
import { expect } from 'chai';
import request from 'supertest';
import { createApp } from '../../../src/app.js';
import { DRIFT_BULK_MAX, DRIFT_PAGE_MACHINES, relinkMatcher } from '../../../src/inventory/drift-actions.js';
import { kindByKey, type InventoryRecord } from '../../../src/inventory/kinds.js';
import { createLogger } from '../../../src/lib/logger.js';
import type { MachineSnapshot } from '../../../models/index.js';
import { createContainer, createNode, createVm, randomMac } from '../../factories/inventory.js';
import { createAdminUser } from '../../factories/users.js';
import { useApp } from '../../support/app.js';
import { testContext } from '../../support/context.js';
import { withFreshDatabase } from '../../support/databases.js';
import { csrfFrom, csrfToken, login, signedInAgent, type SignedInAgent } from '../../support/login.js';
import { driftedVms, hex, refOf, unknownMachines } from './drift-bulk-fixture.js';

describe('inventory: drift page bulk actions, limits and refusals', function () {
  this.timeout(120_000);
  const fixture = useApp();
  const models = () => testContext().db.models;
  let admin: SignedInAgent;
  before(async () => {
    admin = await signedInAgent(fixture.app, { admin: true });
  });
  const post = (path: string, body: object) => admin.agent.post(path).set('Accept', 'application/json').set('X-CSRF-Token', admin.csrf).send(body);
  const form = (path: string, body: object) => admin.agent.post(path).type('form').send({ _csrf: admin.csrf, ...body });
  const limitMessage = (n: number, what: string) => `${n} ${what} selected: at most ${DRIFT_BULK_MAX} are taken at a time.`;

  it('refuses more than the limit, for a list and for "all", in JSON and on the page, naming the count and the limit', async () => {
    // A database of its own: "all" means all, and the run's database holds other files' machines.
    await withFreshDatabase(async (db, config) => {
      const { app, stop } = createApp({ config, logger: createLogger('silent'), sequelize: db.sequelize, models: db.models });
      try {
        const boss = await createAdminUser();
        const agent = request.agent(app);
        await login(agent, boss.user.username, boss.password);
        const csrf = await csrfToken(agent, '/inventory/drift');
        const { snaps } = await unknownMachines(DRIFT_BULK_MAX + 1);

        const all = await agent.post('/inventory/drift/import-bulk').set('Accept', 'application/json').set('X-CSRF-Token', csrf).send({ all: true }).expect(422);
        expect(all.body.error).to.contain(limitMessage(DRIFT_BULK_MAX + 1, 'machines'));
        expect(all.body.fields.all).to.contain('Narrow the selection');
        const list = await agent.post('/inventory/drift/import-bulk').set('Accept', 'application/json').set('X-CSRF-Token', csrf).send({ machines: snaps.map(refOf) }).expect(422);
        expect(list.body.fields.machines).to.contain(limitMessage(DRIFT_BULK_MAX + 1, 'machines'));

        // The page: refused before the confirmation page, the "all" box still ticked.
        const page = await agent.post('/inventory/drift/import-bulk').type('form').send({ _csrf: csrf, all: '1', username: boss.user.username }).expect(422);
        expect(page.text).to.contain(limitMessage(DRIFT_BULK_MAX + 1, 'machines')).and.contain(`value="${boss.user.username}"`);
        expect(page.text).to.match(/name="all" value="1" form="drift-import-form" data-select-all="machines" checked>/);
        expect(await db.models.Container.count()).to.equal(0);

        // At the limit, "all" is confirmed as the list it names, and that list is what is imported.
        await db.models.MachineSnapshot.destroy({ where: { id: snaps[0].id } });
        const confirm = await agent.post('/inventory/drift/import-bulk').type('form').send({ _csrf: csrf, all: '1' }).expect(200);
        expect(confirm.text).to.contain(`Import ${DRIFT_BULK_MAX} machines?`).and.contain('(every unknown machine on a registered node)');
        const packed = /name="machines" value="([^"]*)"/.exec(confirm.text)![1].split(' ');
        expect(packed).to.have.length(DRIFT_BULK_MAX);
        expect(confirm.text).not.to.match(/name="all"/);
        // A sync finds one more machine before the person confirms: it is not imported with the others.
        const { snaps: late } = await unknownMachines(1);
        await agent.post('/inventory/drift/import-bulk').type('form').send({ _csrf: csrfFrom(confirm.text), machines: packed.join(' '), confirm: 'yes' }).expect(303);
        expect(await db.models.Container.count()).to.equal(DRIFT_BULK_MAX);
        expect(await db.models.Container.count({ where: { vmid: late[0].vmid } })).to.equal(0);
        expect((await agent.get('/inventory/drift').expect(200)).text).to.contain(`data-machine="${refOf(late[0])}"`);
      } finally {
        await stop();
      }
    });
  });

  it('checks the owner before the confirmation page, and keeps the ticked boxes and the owner on the redrawn page', async () => {
    const { snaps } = await unknownMachines(3);
    const nobody = `nosuchuser${hex(3)}`;
    const refs = snaps.map(refOf);
    const page = await form('/inventory/drift/import-bulk', { machines: refs.slice(0, 2), username: nobody }).expect(422);
    expect(page.text).not.to.contain('?</h1>');
    expect(page.text).to.contain(`${nobody} is not known to Berth`).and.contain('id="drift-owner-error"').and.contain(`value="${nobody}"`);
    for (const ref of refs.slice(0, 2)) expect(page.text).to.contain(`value="${ref}" form="drift-import-form"`).and.match(new RegExp(`value="${ref}" form="drift-import-form" aria-label="[^"]*" checked>`));
    expect(page.text).to.match(new RegExp(`value="${refs[2]}" form="drift-import-form" aria-label="[^"]*">`));
    // A packed selection (the page's script) comes back ticked too.
    const packedPage = await form('/inventory/drift/import-bulk', { machines: refs.join(' '), username: nobody }).expect(422);
    for (const ref of refs) expect(packedPage.text).to.match(new RegExp(`value="${ref}" form="drift-import-form" aria-label="[^"]*" checked>`));
    expect(await models().MachineSnapshot.count({ where: { id: snaps.map((s) => s.id) } })).to.equal(3);
    // A known owner gets the confirmation page.
    const owner = await createAdminUser();
    expect((await form('/inventory/drift/import-bulk', { machines: refs, username: owner.user.username }).expect(200)).text).to.contain('Import 3 machines?');
  });

  it('keeps the ticked gone records when a forget is refused, and refuses too many records', async () => {
    const gone = await createContainer({ drift: JSON.stringify({ gone: true }) });
    const here = await createContainer({ drift: null });
    const page = await form('/inventory/drift/forget', { records: `container/${gone.id} container/${here.id}`, confirm: 'yes' }).expect(409);
    expect(page.text).to.contain(`${here.hostname} is not gone from Proxmox`).and.match(new RegExp(`value="container/${gone.id}" form="drift-gone-form" aria-label="[^"]*" checked>`));
    expect(await models().Container.count({ where: { id: [gone.id, here.id] } })).to.equal(2);
    const many = Array.from({ length: DRIFT_BULK_MAX + 1 }, (_, i) => `vm/${i + 1}`);
    for (const path of ['/inventory/drift/forget', '/inventory/drift/relink']) {
      expect((await post(path, { records: many }).expect(422)).body.fields.records).to.contain(limitMessage(DRIFT_BULK_MAX + 1, 'records'));
    }
  });

  it('"select all" on gone records works as a plain all=1 box: every gone record to forget, every matched one to re-link', async () => {
    await withFreshDatabase(async (db, config) => {
      const { app, stop } = createApp({ config, logger: createLogger('silent'), sequelize: db.sequelize, models: db.models });
      try {
        const boss = await createAdminUser();
        const agent = request.agent(app);
        await login(agent, boss.user.username, boss.password);
        const csrf = await csrfToken(agent, '/inventory/drift');
        const drift = JSON.stringify({ gone: true });
        const node = await createNode({ name: `pa${hex(3)}` });
        const mac = randomMac();
        const matched = await createContainer({ nodeId: node.id, macAddress: mac, drift });
        const lonely = await createVm({ nodeId: node.id, macAddress: randomMac(), drift });
        const { snaps: [seen] } = await unknownMachines(1, { node });
        await seen.update({ macAddress: mac.toUpperCase().replace(/:/g, '-') });

        const drawn = (await agent.get('/inventory/drift').expect(200)).text;
        expect(drawn).to.match(/name="all" value="1" form="drift-gone-form" data-select-all="records">/);
        const forget = await agent.post('/inventory/drift/forget').type('form').send({ _csrf: csrf, all: '1' }).expect(200);
        expect(forget.text).to.contain('Forget 2 records?').and.contain(`value="container/${matched.id} vm/${lonely.id}"`);
        const relink = await agent.post('/inventory/drift/relink').type('form').send({ _csrf: csrf, all: '1' }).expect(200);
        expect(relink.text).to.contain('Re-link 1 record?').and.contain(`value="container/${matched.id}"`).and.contain('(same MAC address)');
        const done = await agent.post('/inventory/drift/relink').set('Accept', 'application/json').set('X-CSRF-Token', csrf).send({ all: true }).expect(200);
        expect(done.body.relinked).to.deep.equal([{ id: matched.id, kind: 'container', href: `/containers/${matched.id}`, node: node.name, vmid: seen.vmid }]);
        expect((await agent.post('/inventory/drift/relink').set('Accept', 'application/json').set('X-CSRF-Token', csrf).send({ all: true }).expect(422)).body.error).to.contain('No record gone from Proxmox has a match');
      } finally {
        await stop();
      }
    });
  });

  it('matches by MAC (normalised), else by name (any case), per kind, and only a single candidate', () => {
    const snap = (kind: 'lxc' | 'qemu', name: string | null, macAddress: string | null, vmid: number) => ({ kind, node: 'pve1', vmid, name, macAddress }) as MachineSnapshot;
    const ct = kindByKey('container')!;
    const vm = kindByKey('vm')!;
    const unknown = [snap('lxc', 'web', 'AA-BB-CC-00-00-01', 1), snap('qemu', 'web', null, 2), snap('lxc', 'twin', null, 3), snap('lxc', 'Twin', null, 4), snap('qemu', 'db', 'aa:bb:cc:00:00:02', 5)];
    const match = relinkMatcher(unknown);
    const rec = (fields: Record<string, unknown>) => ({ ...fields, get: (key: string) => fields[key] }) as unknown as InventoryRecord;
    expect(match(ct, rec({ hostname: 'other', macAddress: 'aa:bb:cc:00:00:01' }))).to.deep.include({ by: 'MAC address', machine: unknown[0] });
    expect(match(vm, rec({ name: 'WEB', macAddress: null }))).to.deep.include({ by: 'name', machine: unknown[1] });
    expect(match(ct, rec({ hostname: 'twin', macAddress: null })), 'two candidates offer none').to.equal(null);
    expect(match(ct, rec({ hostname: 'db', macAddress: 'aa:bb:cc:00:00:02' })), 'another kind').to.equal(null);
    expect(match(vm, rec({ name: 'web', macAddress: 'aa:bb:cc:99:99:99' })), 'a MAC with no match does not fall back to the name').to.equal(null);

    // Indexed once (by MAC and by name), then looked up: 5000 machines and 2000 records are matched at once.
    const many = Array.from({ length: 5000 }, (_, i) => snap('lxc', `n${i}`, `aa:bb:cc:dd:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`, i));
    const big = relinkMatcher(many);
    let found = 0;
    for (let i = 0; i < 2000; i++) if (big(ct, rec({ hostname: `x${i}`, macAddress: many[i * 2].macAddress }))) found++;
    expect(found).to.equal(2000);
  });
});

describe('inventory: drift bulk actions beyond the drift page\'s windows', function () {
  this.timeout(300_000);
  useApp();

  async function freshApp<T>(work: (agent: ReturnType<typeof request.agent>, csrf: string, models: ReturnType<typeof testContext>['db']['models']) => Promise<T>) {
    await withFreshDatabase(async (db, config) => {
      const { app, stop } = createApp({ config, logger: createLogger('silent'), sequelize: db.sequelize, models: db.models });
      try {
        const boss = await createAdminUser();
        const agent = request.agent(app);
        await login(agent, boss.user.username, boss.password);
        await work(agent, await csrfToken(agent, '/inventory/drift'), db.models);
      } finally {
        await stop();
      }
    });
  }

  it('labels a gone record beyond the page\'s window on the confirmation page, and forgets it only once confirmed', async () => {
    await freshApp(async (agent, csrf, models) => {
      const node = await createNode({ name: `pw${hex(3)}` });
      await driftedVms(1000);
      const late = await createVm({ nodeId: node.id, vmid: 4242, drift: JSON.stringify({ gone: true }) });
      const seen = await createContainer({ nodeId: node.id, vmid: 4343, drift: JSON.stringify({ gone: true }) });

      const drawn = (await agent.get('/inventory/drift').expect(200)).text;
      expect(drawn, 'the page lists the first 1000 VMs with drift only').not.to.contain(`data-record="vm/${late.id}"`);
      expect(drawn).to.contain(`data-record="container/${seen.id}"`).and.contain('data-complete="no" name="all" value="1" form="drift-gone-form"');

      for (const body of [{ records: `vm/${late.id}` }, { all: '1' }]) {
        const confirm = await agent.post('/inventory/drift/forget').type('form').send({ _csrf: csrf, ...body }).expect(200);
        expect(confirm.text).to.contain(`<td>${late.name}</td><td class="wrap">VM 4242 on ${node.name}</td>`).and.not.contain('not a record gone');
        expect(await models.VirtualMachine.count({ where: { id: late.id } }), 'not forgotten before confirming').to.equal(1);
      }
      const all = await agent.post('/inventory/drift/forget').type('form').send({ _csrf: csrf, all: '1' }).expect(200);
      expect(all.text).to.contain('Forget 2 records?').and.contain(`value="container/${seen.id} vm/${late.id}"`).and.not.match(/name="all"/);

      // What is confirmed is what is forgotten: the confirmed list, not "all" as it is now.
      const after = await createContainer({ nodeId: node.id, vmid: 4444, drift: JSON.stringify({ gone: true }) });
      const packed = /name="records" value="([^"]*)"/.exec(all.text)![1];
      await agent.post('/inventory/drift/forget').type('form').send({ _csrf: csrfFrom(all.text), records: packed, confirm: 'yes' }).expect(303);
      expect(await models.VirtualMachine.count({ where: { id: late.id } })).to.equal(0);
      expect(await models.Container.count({ where: { id: [seen.id, after.id] } })).to.equal(1);
    });
  });

  it('refuses to re-link a record whose MAC two unknown machines share, the second beyond the page\'s snapshots', async () => {
    await freshApp(async (agent, csrf, models) => {
      const node = await createNode({ name: `pa${hex(3)}` });
      const far = await createNode({ name: `zz${hex(3)}` });
      const mac = randomMac();
      const gone = await createContainer({ nodeId: node.id, vmid: 4545, macAddress: mac, drift: JSON.stringify({ gone: true }) });
      const { snaps } = await unknownMachines(DRIFT_PAGE_MACHINES, { node });
      await snaps[0].update({ macAddress: mac.toUpperCase() });
      // Sorted after the page's first DRIFT_PAGE_MACHINES snapshots (by node, then VMID).
      const { snaps: [twin] } = await unknownMachines(1, { node: far });
      await twin.update({ macAddress: mac.replace(/:/g, '-') });

      const drawn = (await agent.get('/inventory/drift').expect(200)).text;
      expect(drawn).to.contain(`data-record="container/${gone.id}"`);
      const confirm = await agent.post('/inventory/drift/relink').type('form').send({ _csrf: csrf, records: `container/${gone.id}` }).expect(200);
      expect(confirm.text).to.contain(': no single match in the last sync');
      const refused = await agent.post('/inventory/drift/relink').set('Accept', 'application/json').set('X-CSRF-Token', csrf).send({ records: [`container/${gone.id}`] }).expect(409);
      expect(refused.body.refused[0].error).to.contain(`no single unknown container with the MAC address ${mac}`);
      expect((await agent.post('/inventory/drift/relink').set('Accept', 'application/json').set('X-CSRF-Token', csrf).send({ all: true }).expect(422)).body.error).to.contain('No record gone from Proxmox has a match');
      expect((await models.Container.findByPk(gone.id))!.vmid).to.equal(4545);

      // With the twin gone, the one candidate past the window is re-linked.
      await snaps[0].destroy();
      const done = await agent.post('/inventory/drift/relink').set('Accept', 'application/json').set('X-CSRF-Token', csrf).send({ records: [`container/${gone.id}`] }).expect(200);
      expect(done.body.relinked).to.deep.equal([{ id: gone.id, kind: 'container', href: `/containers/${gone.id}`, node: far.name, vmid: twin.vmid }]);
    });
  });

  it('imports "all" past the page\'s snapshots: counted first, refused above the limit', async () => {
    await freshApp(async (agent, csrf) => {
      // The registered node's machines sort after the page's first DRIFT_PAGE_MACHINES snapshots.
      const node = await createNode({ name: `zz${hex(3)}` });
      await unknownMachines(DRIFT_PAGE_MACHINES, { node: `aa${hex(3)}` });
      const { snaps } = await unknownMachines(2, { node });
      const confirm = await agent.post('/inventory/drift/import-bulk').type('form').send({ _csrf: csrf, all: '1' }).expect(200);
      expect(confirm.text).to.contain('Import 2 machines?');
      expect(/name="machines" value="([^"]*)"/.exec(confirm.text)![1].split(' ')).to.have.members(snaps.map(refOf));
      await unknownMachines(DRIFT_BULK_MAX - 1, { node: await createNode({ name: `zy${hex(3)}` }) });
      const over = await agent.post('/inventory/drift/import-bulk').set('Accept', 'application/json').set('X-CSRF-Token', csrf).send({ all: true }).expect(422);
      expect(over.body.fields.all).to.contain(`${DRIFT_BULK_MAX + 1} machines selected: at most ${DRIFT_BULK_MAX}`);
    });
  });
});
