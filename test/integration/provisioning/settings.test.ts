// Admin settings for self-service containers: templates per node (typed in, or discovered on the
// nodes' storages through the simulator), IP pools (validation edge cases, used/free counts) and
// per-user quota overrides (what quotaFor then returns). Every write is audited.
import crypto from 'node:crypto';
import { expect } from 'chai';
import { quotaFor } from '../../../src/provisioning/quota.js';
import { suggestTemplateLabel } from '../../../src/provisioning/settings.js';
import { createContainer, createNode } from '../../factories/inventory.js';
import { createUser } from '../../factories/users.js';
import { useApp } from '../../support/app.js';
import { testContext } from '../../support/context.js';
import { signedInAgent } from '../../support/login.js';
import { DEBIAN, UBUNTU, startProvisioningWorld, type ProvisioningWorld } from './world.js';

const hex = () => crypto.randomBytes(3).toString('hex');
const models = () => testContext().db.models;
const volid = () => `local:vztmpl/settings-${hex()}_1.0_amd64.tar.zst`;

/** A /24 of its own for each pool test: the run's database is shared and addresses are unique. */
const subnet = () => `172.${crypto.randomInt(16, 32)}.${crypto.randomInt(0, 256)}.`;

describe('provisioning: admin settings', function () {
  this.timeout(60_000);
  const fixture = useApp();

  function agentFor(admin: boolean) {
    return signedInAgent(fixture.app, { admin });
  }
  type As = Awaited<ReturnType<typeof agentFor>>;
  const json = (a: As, path: string, body: Record<string, unknown>) => a.agent.post(path).set('Accept', 'application/json').set('X-CSRF-Token', a.csrf).send(body);
  const form = (a: As, path: string, body: Record<string, unknown>) => a.agent.post(path).type('form').send({ _csrf: a.csrf, ...body });
  const events = (action: string, objectId: number | string) => models().AuditEvent.findAll({ where: { action, objectId: String(objectId) } });

  it('shows the three pages to admins only; users get 403 for pages and writes', async () => {
    const admin = await agentFor(true);
    const user = await agentFor(false);
    for (const path of ['/admin/templates', '/admin/ip-pools', '/admin/quotas']) {
      const page = await admin.agent.get(path).expect(200);
      expect(page.text, path).to.include('Self-service settings').and.include('href="/admin/quotas"');
      await user.agent.get(path).expect(403);
    }
    await json(user, '/admin/templates', { nodeId: 1, volid: volid(), osRelease: 'X' }).expect(403);
    await json(user, '/admin/quotas', { username: user.user.username, cores: 100 }).expect(403);
    expect(await models().UserQuota.count({ where: { userId: user.user.id } })).to.equal(0);
  });

  describe('templates', () => {
    it('offers a template on a node from the form, audited, listed per node, and removes it again', async () => {
      const admin = await agentFor(true);
      const node = await createNode();
      const vol = volid();
      const res = await form(admin, '/admin/templates', { nodeId: node.id, volid: vol, osRelease: 'Debian 13' }).expect(303);
      expect(res.headers.location).to.equal('/admin/templates');
      const row = (await models().ContainerTemplate.findOne({ where: { nodeId: node.id, volid: vol } }))!;
      expect(row.osRelease).to.equal('Debian 13');
      const [created] = await events('containerTemplate.create', row.id);
      expect(created.actor).to.equal(admin.user.username);
      expect(JSON.parse(created.changes!).volid).to.deep.equal({ after: vol });

      const page = (await admin.agent.get('/admin/templates').expect(200)).text;
      expect(page).to.include(`<h2>${node.name}</h2>`).and.include(vol).and.include('Debian 13');
      const list = await admin.agent.get('/admin/templates').set('Accept', 'application/json').expect(200);
      expect(list.body.templates).to.deep.include({ id: row.id, nodeId: node.id, nodeName: node.name, volid: vol, osRelease: 'Debian 13' });

      await form(admin, `/admin/templates/${row.id}/delete`, {}).expect(303);
      expect(await models().ContainerTemplate.findByPk(row.id)).to.equal(null);
      expect(await events('containerTemplate.delete', row.id)).to.have.length(1);
      await json(admin, `/admin/templates/${row.id}/delete`, {}).expect(404);
    });

    it('refuses a volume offered twice on a node (409) and bad input (422), re-rendering the form with what was typed', async () => {
      const admin = await agentFor(true);
      const node = await createNode();
      const vol = volid();
      await json(admin, '/admin/templates', { nodeId: node.id, volid: vol, osRelease: 'Debian 12' }).expect(201);
      const twice = await json(admin, '/admin/templates', { nodeId: node.id, volid: vol, osRelease: 'Again' }).expect(409);
      expect(twice.body.fields.volid).to.equal(`Already offered on ${node.name}.`);
      const twiceForm = await form(admin, '/admin/templates', { nodeId: node.id, volid: vol, osRelease: 'Again' }).expect(409);
      expect(twiceForm.text).to.include(`is already offered on ${node.name}`).and.include('value="Again"');
      // The same volume on another node is another offer.
      await json(admin, '/admin/templates', { nodeId: (await createNode()).id, volid: vol, osRelease: 'Debian 12' }).expect(201);

      const bad = await json(admin, '/admin/templates', { nodeId: '', volid: '/var/lib/vz/template/cache/x.tar.zst', osRelease: '' }).expect(422);
      expect(bad.body.fields).to.have.keys('nodeId', 'volid', 'osRelease');
      expect(bad.body.fields.volid).to.include('storage:vztmpl/file');
      const gone = await json(admin, '/admin/templates', { nodeId: 999_999_999, volid: volid(), osRelease: 'X' }).expect(422);
      expect(gone.body.fields.nodeId).to.equal('Choose a registered node.');
      const page = await form(admin, '/admin/templates', { nodeId: node.id, volid: 'local:iso/x.iso', osRelease: '<b>Label</b>' }).expect(422);
      expect(page.text).to.include('A template volume id looks like').and.include('value="local:iso/x.iso"').and.include('&lt;b&gt;Label&lt;/b&gt;').and.not.include('<b>Label</b>');
      expect(await models().ContainerTemplate.count({ where: { volid: 'local:iso/x.iso' } })).to.equal(0);
    });

    it('suggests labels from pveam file names', () => {
      expect(suggestTemplateLabel('debian-12-standard_12.7-1_amd64.tar.zst')).to.equal('Debian 12');
      expect(suggestTemplateLabel('ubuntu-24.04-standard_24.04-2_amd64.tar.zst')).to.equal('Ubuntu 24.04');
      expect(suggestTemplateLabel('alpine-3.20-default_20240908_amd64.tar.xz')).to.equal('Alpine 3.20');
      expect(suggestTemplateLabel('rockylinux-9-default_20240912_amd64.tar.xz')).to.equal('Rocky Linux 9');
      expect(suggestTemplateLabel('centos-9-stream-default_20240828_amd64.tar.xz')).to.equal('CentOS 9 Stream');
      expect(suggestTemplateLabel('archlinux-base_20240911-1_amd64.tar.zst')).to.equal('Arch Linux');
      expect(suggestTemplateLabel('turnkey-wordpress_18.0-1_amd64.tar.gz')).to.equal('TurnKey wordpress');
    });

    describe('discovery', () => {
      let w: ProvisioningWorld;
      beforeEach(async () => {
        w = await startProvisioningWorld({ runner: false });
      });
      afterEach(async () => {
        await w.cleanup();
      });
      /** Discovery asks every node of the shared database: keep to this world's. */
      const mine = (rows: Array<{ nodeId: number; volid: string }>) => rows.filter((r) => r.nodeId === w.n1.id || r.nodeId === w.n2.id);

      it('lists the templates on the nodes\' storages that a node does not offer yet, with a suggested label, and adds the ticked ones', async () => {
        const admin = await agentFor(true);
        const found = await json(admin, '/admin/templates/discover', {}).expect(200);
        // The world offers Debian on both nodes and Ubuntu on the first: only Ubuntu on the second is new.
        expect(mine(found.body.found)).to.deep.equal([{ nodeId: w.n2.id, nodeName: w.n2.name, volid: UBUNTU, storage: 'local', size: 141033712, suggestedLabel: 'Ubuntu 24.04' }]);
        expect(found.body.problems.filter((p: { nodeId: number }) => p.nodeId === w.n1.id || p.nodeId === w.n2.id)).to.deep.equal([]);

        const key = `${w.n2.id}:${UBUNTU}`;
        const page = await form(admin, '/admin/templates/discover', {}).expect(200);
        expect(page.text).to.include(`value="${key}"`).and.include(`name="osRelease:${key}" value="Ubuntu 24.04"`);

        // Nothing ticked, or a ticked row without a label: the list again, with the message.
        const none = await form(admin, '/admin/templates/discovered', { [`osRelease:${key}`]: 'Ubuntu LTS' }).expect(422);
        expect(none.text).to.include('Tick at least one template to add.').and.include(`name="osRelease:${key}" value="Ubuntu LTS"`);
        const blank = await form(admin, '/admin/templates/discovered', { pick: key, [`osRelease:${key}`]: ' ' }).expect(422);
        expect(blank.text).to.include('Enter the label users choose by').and.match(new RegExp(`value="${key}" checked`));

        const added = await form(admin, '/admin/templates/discovered', { pick: key, [`osRelease:${key}`]: 'Ubuntu LTS' }).expect(303);
        expect(added.headers.location).to.equal('/admin/templates');
        const row = (await models().ContainerTemplate.findOne({ where: { nodeId: w.n2.id, volid: UBUNTU } }))!;
        expect(row.osRelease).to.equal('Ubuntu LTS');
        expect(await events('containerTemplate.create', row.id)).to.have.length(1);
        // Sent again (a double click): nothing added twice.
        const again = await json(admin, '/admin/templates/discovered', { templates: [{ nodeId: w.n2.id, volid: UBUNTU, osRelease: 'Ubuntu LTS' }] }).expect(201);
        expect(again.body.added).to.deep.equal([]);
        expect(again.body.skipped).to.have.length(1);
        expect(await models().ContainerTemplate.count({ where: { nodeId: w.n2.id, volid: UBUNTU } })).to.equal(1);
        expect(mine((await json(admin, '/admin/templates/discover', {}).expect(200)).body.found)).to.deep.equal([]);
      });

      it('names a node that cannot be asked and still lists the others', async () => {
        const admin = await agentFor(true);
        // Offer nothing on the first node, so it has something to list, and take the second away.
        await models().ContainerTemplate.destroy({ where: { nodeId: w.n1.id } });
        w.s.sim.setNodeOnline(w.n2.name, false);
        const found = await json(admin, '/admin/templates/discover', {}).expect(200);
        expect(mine(found.body.found).map((t: { volid: string }) => t.volid).sort()).to.deep.equal([DEBIAN, UBUNTU]);
        const problems = found.body.problems.filter((p: { nodeId: number }) => p.nodeId === w.n2.id);
        expect(problems).to.have.length(1);
        expect(problems[0].message).to.match(new RegExp(`^${w.n2.name} could not be asked for its templates: .*No route to host`));
        const page = await form(admin, '/admin/templates/discover', {}).expect(200);
        expect(page.text).to.include(`${w.n2.name} could not be asked for its templates`).and.include(`value="${w.n1.id}:${DEBIAN}"`);
      });
    });
  });

  describe('IP pools', () => {
    const poolBody = async (net = subnet(), overrides: Record<string, unknown> = {}) => ({
      nodeId: (await createNode()).id, bridge: 'vmbr0', cidr: `${net}0/24`, gateway: `${net}1`, rangeStart: `${net}10`, rangeEnd: `${net}19`, ...overrides,
    });

    it('creates a pool from the form, audited, and counts the addresses container records hold in its range', async () => {
      const admin = await agentFor(true);
      const net = subnet();
      const body = await poolBody(net);
      await form(admin, '/admin/ip-pools', body).expect(303);
      const pool = (await models().IpPool.findOne({ where: { nodeId: body.nodeId } }))!;
      expect(pool).to.include({ bridge: 'vmbr0', cidr: `${net}0/24`, gateway: `${net}1`, rangeStart: `${net}10`, rangeEnd: `${net}19` });
      const [created] = await events('ipPool.create', pool.id);
      expect(created.actor).to.equal(admin.user.username);
      // Two records inside the range (on any node: addresses are unique everywhere), one outside.
      await createContainer({ ipv4Address: `${net}10` });
      await createContainer({ ipv4Address: `${net}15` });
      await createContainer({ ipv4Address: `${net}50` });
      const list = await admin.agent.get('/admin/ip-pools').set('Accept', 'application/json').expect(200);
      expect(list.body.pools.find((p: { id: number }) => p.id === pool.id)).to.include({ size: 10, used: 2, free: 8 });
      const page = (await admin.agent.get('/admin/ip-pools').expect(200)).text;
      expect(page).to.include(`${net}0/24`).and.include('2 of 10');
      const edit = await admin.agent.get(`/admin/ip-pools/${pool.id}`).expect(200);
      expect(edit.text).to.include(`value="${net}19"`).and.include('8 free');
    });

    it('accepts a gateway inside the range and says it is skipped', async () => {
      const admin = await agentFor(true);
      const net = subnet();
      const res = await json(admin, '/admin/ip-pools', await poolBody(net, { gateway: `${net}12` })).expect(201);
      expect(res.body.pool).to.include({ size: 9, used: 0, free: 9 });
      expect(res.body.pool.notes).to.deep.equal([`The gateway ${net}12 lies inside the range; it is never handed out to a container.`]);
      const page = await form(admin, '/admin/ip-pools', await poolBody(subnet(), { gateway: '192.0.2.1' })).expect(422);
      expect(page.text).to.include('is outside');
      const again = await form(admin, '/admin/ip-pools', await poolBody(net, { gateway: `${net}12` })).expect(303);
      const flash = (await admin.agent.get(again.headers.location).expect(200)).text;
      expect(flash).to.include('it is never handed out to a container');
    });

    it('refuses each invalid pool with a message on the field, never a 500', async () => {
      const admin = await agentFor(true);
      const net = subnet();
      const cases: Array<[Record<string, unknown>, string, RegExp]> = [
        [{ cidr: `${net}5/24` }, 'cidr', new RegExp(`not a network address: with /24 the network is ${net.replace(/\./g, '\\.')}0/24`)],
        [{ cidr: `${net}0/31` }, 'cidr', /from \/8 to \/30/],
        [{ cidr: '10.0.0.0/7' }, 'cidr', /from \/8 to \/30/],
        [{ cidr: `${net}0` }, 'cidr', /address\/prefix/],
        [{ cidr: `${net}0/33` }, 'cidr', /address\/prefix/],
        [{ gateway: '192.0.2.1' }, 'gateway', /outside/],
        [{ gateway: `${net}0` }, 'gateway', /network address/],
        [{ rangeStart: '192.0.2.10' }, 'rangeStart', /outside/],
        [{ rangeEnd: `${net}255` }, 'rangeEnd', /broadcast address/],
        [{ rangeStart: `${net}20`, rangeEnd: `${net}10` }, 'rangeEnd', /ends .* before it starts/],
        [{ rangeStart: `${net}300` }, 'rangeStart', /IPv4 address/],
        [{ bridge: 'vmbr 0' }, 'bridge', /bridge is a name/],
        [{ nodeId: 'x' }, 'nodeId', /Choose a node/],
      ];
      for (const [overrides, field, message] of cases) {
        const res = await json(admin, '/admin/ip-pools', await poolBody(net, overrides));
        expect(res.status, JSON.stringify(overrides)).to.equal(422);
        expect(res.body.fields[field], JSON.stringify(overrides)).to.match(message);
      }
      const page = await form(admin, '/admin/ip-pools', await poolBody(net, { cidr: `${net}5/24` })).expect(422);
      expect(page.text).to.include('not a network address').and.include(`value="${net}5/24"`);
      expect(await models().IpPool.count({ where: { gateway: `${net}1` } })).to.equal(0);
    });

    it('keeps one pool per node and bridge, edits and deletes a pool, audited', async () => {
      const admin = await agentFor(true);
      const net = subnet();
      const body = await poolBody(net);
      const created = await json(admin, '/admin/ip-pools', body).expect(201);
      const id = created.body.pool.id as number;
      const clash = await json(admin, '/admin/ip-pools', body).expect(409);
      expect(clash.body.fields.bridge).to.include('already has a pool on vmbr0');
      // Another bridge on the same node is another pool.
      await json(admin, '/admin/ip-pools', { ...body, bridge: 'vmbr1' }).expect(201);

      await form(admin, `/admin/ip-pools/${id}`, { ...body, rangeEnd: `${net}29` }).expect(303);
      const pool = (await models().IpPool.findByPk(id))!;
      expect(pool.rangeEnd).to.equal(`${net}29`);
      const [updated] = await events('ipPool.update', id);
      expect(JSON.parse(updated.changes!)).to.deep.equal({ rangeEnd: { before: `${net}19`, after: `${net}29` } });
      const moved = await form(admin, `/admin/ip-pools/${id}`, { ...body, bridge: 'vmbr1' }).expect(409);
      expect(moved.text).to.include('already has an IP pool on vmbr1').and.include(`action="/admin/ip-pools/${id}"`);
      const bad = await form(admin, `/admin/ip-pools/${id}`, { ...body, rangeStart: `${net}40` }).expect(422);
      expect(bad.text).to.include('before it starts').and.include(`value="${net}40"`);

      await form(admin, `/admin/ip-pools/${id}/delete`, {}).expect(303);
      expect(await models().IpPool.findByPk(id)).to.equal(null);
      expect(await events('ipPool.delete', id)).to.have.length(1);
      await admin.agent.get(`/admin/ip-pools/${id}`).expect(404);
    });
  });

  describe('quotas', () => {
    it('shows the configured defaults and sets, shows and clears a user\'s override, which quotaFor then returns', async () => {
      const admin = await agentFor(true);
      const { config } = testContext();
      const { user } = await createUser();
      await createContainer({ username: user.username, cores: 2, memoryMb: 1024, diskGb: 10 });
      const defaults = { containers: config.QUOTA_CONTAINERS, cores: config.QUOTA_CORES, memoryMb: config.QUOTA_MEMORY_MB, diskGb: config.QUOTA_DISK_GB };

      const page = (await admin.agent.get('/admin/quotas').expect(200)).text;
      expect(page).to.include(`${config.QUOTA_MEMORY_MB} MB`);
      await form(admin, '/admin/quotas', { username: user.username, containers: '', cores: '3', memoryMb: '2048', diskGb: '' }).expect(303);
      expect(await quotaFor(models(), config, user.username)).to.deep.equal({ ...defaults, cores: 3, memoryMb: 2048 });
      const [set] = await events('user.quota', user.id);
      expect(set.actor).to.equal(admin.user.username);
      expect(JSON.parse(set.changes!)).to.deep.equal({ maxCores: { after: 3 }, maxMemoryMb: { after: 2048 } });

      const list = await admin.agent.get('/admin/quotas').set('Accept', 'application/json').expect(200);
      expect(list.body.defaults).to.deep.equal(defaults);
      const row = list.body.rows.find((r: { userId: number }) => r.userId === user.id);
      expect(row).to.deep.equal({
        userId: user.id, username: user.username,
        override: { containers: null, cores: 3, memoryMb: 2048, diskGb: null },
        effective: { ...defaults, cores: 3, memoryMb: 2048 },
        usage: { containers: 1, cores: 2, memoryMb: 1024, diskGb: 10 },
      });
      expect((await admin.agent.get('/admin/quotas').expect(200)).text).to.include(user.username).and.include('2 / 3');

      // By id (the row's form), JSON: a change, then every value blank: the defaults again.
      const changed = await json(admin, `/admin/quotas/${user.id}`, { containers: 1, cores: 3, memoryMb: 2048, diskGb: null }).expect(200);
      expect(changed.body.quota.effective.containers).to.equal(1);
      await form(admin, `/admin/quotas/${user.id}`, {}).expect(303);
      expect(await models().UserQuota.count({ where: { userId: user.id } })).to.equal(0);
      expect(await quotaFor(models(), config, user.username)).to.deep.equal(defaults);
      expect(await events('user.quota', user.id)).to.have.length(3);
    });

    it('refuses an unknown user and values that are not counts, re-rendering the form', async () => {
      const admin = await agentFor(true);
      const ghost = `ghost-${hex()}`;
      const unknown = await form(admin, '/admin/quotas', { username: ghost, cores: '2' }).expect(422);
      expect(unknown.text).to.include(`There is no user called ${ghost}.`).and.include(`value="${ghost}"`);
      const { user } = await createUser();
      const bad = await json(admin, '/admin/quotas', { username: user.username, cores: -1, memoryMb: 'lots', diskGb: 1.5 }).expect(422);
      expect(bad.body.fields).to.deep.include({ cores: 'Cores cannot be negative.', memoryMb: 'Memory must be a number (or blank for the default).', diskGb: 'Disk must be a whole number.' });
      const row = await form(admin, `/admin/quotas/${user.id}`, { containers: 'x' }).expect(422);
      expect(row.text).to.include('Containers must be a number').and.include(`value="${user.username}"`);
      await json(admin, '/admin/quotas/999999999', { cores: 1 }).expect(404);
      expect(await models().UserQuota.count({ where: { userId: user.id } })).to.equal(0);
    });
  });
});
