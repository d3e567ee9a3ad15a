import crypto from 'node:crypto';
import { expect } from 'chai';
import { createContainer, createNode, createVm, randomIp, randomMac, uniqueVmid } from '../../factories/inventory.js';
import { createJob } from '../../factories/jobs.js';
import { createUser } from '../../factories/users.js';
import { useApp } from '../../support/app.js';
import { testContext } from '../../support/context.js';
import { signedInAgent } from '../../support/login.js';

describe('inventory: container and VM record pages', function () {
  this.timeout(30_000);
  const fixture = useApp();
  const models = () => testContext().db.models;
  const tag = () => `t-${crypto.randomBytes(4).toString('hex')}`;

  function agentFor(admin = false) {
    return signedInAgent(fixture.app, { admin });
  }
  const events = (objectType: string, objectId: number) => models().AuditEvent.findAll({ where: { objectType, objectId: String(objectId) }, order: [['id', 'ASC']] });

  it('creates a container from the form (owner forced to the caller), shows it, and audits the create', async () => {
    const { agent, user, csrf } = await agentFor();
    const node = await createNode();
    // /containers/new is the create form now; the API still records an existing container for anyone.
    const form = await agent.get('/containers/new').expect(200);
    expect(form.text).to.contain('name="hostname"').and.contain('action="/containers?init=true"').and.not.contain('name="username"');
    const hostname = `web-${tag()}.example.org`;
    const vmid = uniqueVmid();
    const res = await agent.post('/containers').type('form')
      .send({ _csrf: csrf, hostname: hostname.toUpperCase(), containerId: String(vmid), nodeId: String(node.id), ipv4Address: randomIp(), macAddress: 'BC-24-11-AA-BB-0C'.replace('0C', crypto.randomBytes(1).toString('hex')), status: '', environment: 'Production', expiresAt: '2099-01-31', purpose: 'Team wiki', tags: 'Web, team-a', notes: 'line one\nline two', username: 'someone-else' })
      .expect(303);
    const row = await models().Container.findOne({ where: { hostname } });
    expect(row, 'stored lower-cased').to.not.equal(null);
    expect(res.headers.location).to.equal(`/containers/${row!.id}`);
    expect(row!).to.include({ username: user.username, vmid, nodeId: node.id, environment: 'production', tags: 'web,team-a', status: 'unknown' });
    expect(row!.macAddress).to.match(/^bc:24:11:aa:bb:[0-9a-f]{2}$/);
    const page = await agent.get(res.headers.location).expect(200);
    expect(page.text).to.contain('Container ' + hostname + ' added.').and.contain(node.name).and.contain(String(vmid)).and.contain('Team wiki').and.contain('expires in').and.contain('line one\nline two');
    const [created] = await events('container', row!.id);
    expect(created).to.include({ action: 'container.create', actor: user.username, objectLabel: hostname });
    expect(JSON.parse(created.changes!).hostname).to.deep.equal({ after: hostname });
  });

  it('creates, reads, updates (partially) and deletes a VM over JSON', async () => {
    const { agent, csrf } = await agentFor(true);
    const name = `vm-${tag()}.example.org`;
    // The owner rule (src/inventory/owners.ts): an admin names a known user, here a Proxmox account.
    const carol = (await createUser({ username: `carol-${tag()}@pve`, realm: 'pve' })).user.username;
    const created = await agent.post('/vms').set('X-CSRF-Token', csrf).send({ name, username: carol, ipv4Address: randomIp(), rdpPort: 3390, tags: ['win', 'lab'] }).expect(201);
    expect(created.body).to.include({ id: created.body.vmId });
    expect(created.body.message).to.contain(name);
    const id = created.body.id as number;
    const shown = await agent.get(`/vms/${id}`).set('Accept', 'application/json').expect(200);
    expect(shown.body.vm).to.include({ id, name, owner: carol, rdpPort: 3390, status: 'unknown' });
    expect(shown.body.vm.tags).to.deep.equal(['win', 'lab']);
    expect(shown.body).to.have.keys('vm', 'services', 'credentials', 'history', 'jobs');
    expect(shown.body.history.map((e: { action: string }) => e.action)).to.deep.equal(['vm.create']);

    const updated = await agent.put(`/vms/${id}`).set('X-CSRF-Token', csrf).send({ purpose: 'Build agent', expiresAt: '2030-06-30' }).expect(200);
    expect(updated.body.success).to.equal(true);
    expect(updated.body.changes).to.deep.equal({ purpose: { before: null, after: 'Build agent' }, expiresAt: { before: null, after: '2030-06-30' } });
    const row = await models().VirtualMachine.findByPk(id);
    expect(row).to.include({ name, rdpPort: 3390, purpose: 'Build agent', expiresAt: '2030-06-30', username: carol });
    // Sending the same values again changes (and audits) nothing; '' clears a field.
    expect((await agent.put(`/vms/${id}`).set('X-CSRF-Token', csrf).send({ purpose: 'Build agent' }).expect(200)).body.changes).to.deep.equal({});
    await agent.put(`/vms/${id}`).set('X-CSRF-Token', csrf).send({ expiresAt: '' }).expect(200);
    expect((await row!.reload()).expiresAt).to.equal(null);

    const deleted = await agent.delete(`/vms/${id}`).set('X-CSRF-Token', csrf).expect(200);
    expect(deleted.body).to.include({ success: true });
    expect(await models().VirtualMachine.findByPk(id)).to.equal(null);
    await agent.get(`/vms/${id}`).set('Accept', 'application/json').expect(404);
    expect((await events('vm', id)).map((e) => e.action)).to.deep.equal(['vm.create', 'vm.update', 'vm.update', 'vm.delete']);
  });

  it('edits through the form: the edit page holds the current values, and an untouched form changes nothing', async () => {
    const { agent, user, csrf } = await agentFor();
    const ct = await createContainer({ username: user.username, tags: 'a,b', purpose: 'old' });
    const edit = await agent.get(`/containers/${ct.id}/edit`).expect(200);
    expect(edit.text).to.contain(`value="${ct.hostname}"`).and.contain('value="a, b"').and.contain('value="old"');
    const values = { _csrf: csrf, hostname: ct.hostname, containerId: '', osRelease: 'debian-12', ipv4Address: ct.ipv4Address, macAddress: ct.macAddress, nodeId: '', status: 'unknown', aiContainer: 'N', environment: '', expiresAt: '', purpose: 'old', tags: 'a, b', notes: '' };
    const same = await agent.post(`/containers/${ct.id}`).type('form').send(values).expect(303);
    expect((await agent.get(same.headers.location)).text).to.contain('Nothing changed.');
    expect(await events('container', ct.id)).to.have.length(0);
    await agent.post(`/containers/${ct.id}`).type('form').send({ ...values, purpose: 'new purpose', status: 'running' }).expect(303);
    await ct.reload();
    expect(ct).to.include({ purpose: 'new purpose', status: 'running', tags: 'a,b' });
    const [update] = await events('container', ct.id);
    expect(update.action).to.equal('container.update');
    expect(JSON.parse(update.changes!)).to.deep.equal({ purpose: { before: 'old', after: 'new purpose' }, status: { before: 'unknown', after: 'running' } });
  });

  const badInputs: Array<[string, Record<string, unknown>, string, RegExp]> = [
    ['a hostname with an underscore', { hostname: 'web_01.example.org' }, 'hostname', /letters, digits and hyphens/],
    ['a label over 63 characters', { hostname: `${'a'.repeat(64)}.example.org` }, 'hostname', /at most 63/],
    ['an FQDN over 253 characters', { hostname: Array.from({ length: 5 }, () => 'a'.repeat(60)).join('.') }, 'hostname', /at most 253/],
    ['IP 256.1.1.1', { ipv4Address: '256.1.1.1' }, 'ipv4Address', /IPv4 address/],
    ['IP 010.0.0.1 (leading zero)', { ipv4Address: '010.0.0.1' }, 'ipv4Address', /IPv4 address/],
    ['a bad MAC', { macAddress: 'bc:24:11:aa:bb' }, 'macAddress', /MAC address/],
    ['VMID 99', { containerId: 99 }, 'containerId', /at least 100/],
    ['VMID 1e10', { containerId: '1e10' }, 'containerId', /at most 999999999/],
    ['date 2026-02-30', { expiresAt: '2026-02-30' }, 'expiresAt', /YYYY-MM-DD/],
    ['a bad tag', { tags: 'ok, -bad!' }, 'tags', /Tags use a-z/],
    ['an unknown status', { status: 'exploded' }, 'status', /Status is one of/],
    ['a node that does not exist', { nodeId: 999_999_999 }, 'nodeId', /No such node/],
  ];
  for (const [what, body, field, message] of badInputs) {
    it(`refuses ${what} with a field message and writes nothing`, async () => {
      const { agent, csrf } = await agentFor(true);
      const marker = tag();
      const json = await agent.post('/containers').set('X-CSRF-Token', csrf).send({ hostname: `${marker}.example.org`, purpose: marker, ...body }).expect(422);
      expect(json.body.fields[field]).to.match(message);
      const form = await agent.post('/containers').type('form').send({ _csrf: csrf, hostname: `${marker}.example.org`, purpose: marker, ...body }).expect(422);
      expect(form.text).to.contain('class="field-error"').and.contain(`value="${marker}"`);
      expect(form.text).to.match(new RegExp(message.source.replace(/'/g, '&#39;')));
      expect(await models().Container.count({ where: { purpose: marker } })).to.equal(0);
    });
  }

  it('refuses the same bad values on update, leaving the record as it was', async () => {
    const { agent, user, csrf } = await agentFor();
    const vm = await createVm({ username: user.username });
    const res = await agent.put(`/vms/${vm.id}`).set('X-CSRF-Token', csrf).send({ name: 'bad_name', ipv4Address: '1.2.3.4', expiresAt: '2027-13-01' }).expect(422);
    expect(res.body.fields).to.have.keys('name', 'expiresAt');
    expect((await vm.reload()).ipv4Address).to.not.equal('1.2.3.4');
    await agent.get('/vms/abc').set('Accept', 'application/json').expect(404);
  });

  it('answers unique clashes (hostname, IP, MAC also against a VM, VMID on a node) with 409 and a field message, never 500', async () => {
    const { agent, csrf } = await agentFor(true);
    const node = await createNode();
    const existing = await createContainer({ nodeId: node.id, vmid: uniqueVmid() });
    const vm = await createVm();
    const cases: Array<[Record<string, unknown>, string, string]> = [
      [{ hostname: existing.hostname }, 'hostname', `Another container is already called ${existing.hostname}.`],
      [{ ipv4Address: existing.ipv4Address }, 'ipv4Address', `${existing.hostname} (container) already has the IP address`],
      [{ macAddress: vm.macAddress!.toUpperCase() }, 'macAddress', `${vm.name} (VM) already has the MAC address ${vm.macAddress}`],
      [{ nodeId: node.id, containerId: existing.vmid }, 'containerId', `VMID ${existing.vmid} on that node is already ${existing.hostname}.`],
    ];
    for (const [body, field, message] of cases) {
      const hostname = `clash-${tag()}.example.org`;
      const json = await agent.post('/containers').set('X-CSRF-Token', csrf).send({ hostname, ...body }).expect(409);
      expect(json.body.fields[field]).to.contain(message);
      const form = await agent.post('/containers').type('form').send({ _csrf: csrf, hostname, ...body }).expect(409);
      expect(form.text).to.contain(message.split(' ').slice(-2).join(' ')).and.contain('class="field-error"');
      expect(await models().Container.count({ where: { hostname } })).to.equal(0);
    }
    // The same VMID on another node is fine; a clash on update names the field too.
    const other = await createNode();
    const ok = await agent.post('/containers').set('X-CSRF-Token', csrf).send({ hostname: `ok-${tag()}.example.org`, nodeId: other.id, containerId: existing.vmid }).expect(201);
    const moved = await agent.put(`/containers/${ok.body.id}`).set('X-CSRF-Token', csrf).send({ nodeId: node.id }).expect(409);
    expect(moved.body.fields.containerId).to.contain(`VMID ${existing.vmid}`);
    const edit = await agent.post(`/containers/${ok.body.id}`).type('form').send({ _csrf: csrf, hostname: existing.hostname }).expect(409);
    expect(edit.text).to.contain(`Another container is already called ${existing.hostname}.`).and.contain(`action="/containers/${ok.body.id}"`);
  });

  it('deletes through the form only when confirmed, and keeps the audit history of the deleted record', async () => {
    const { agent, user, csrf } = await agentFor();
    const ct = await createContainer({ username: user.username });
    await agent.put(`/containers/${ct.id}`).set('X-CSRF-Token', csrf).send({ purpose: 'to be deleted' }).expect(200);
    const unconfirmed = await agent.post(`/containers/${ct.id}/delete`).type('form').send({ _csrf: csrf }).expect(422);
    expect(unconfirmed.text).to.contain('Tick the box to confirm');
    expect(await models().Container.findByPk(ct.id)).to.not.equal(null);
    const res = await agent.post(`/containers/${ct.id}/delete`).type('form').send({ _csrf: csrf, confirm: 'yes' }).expect(303);
    expect(res.headers.location).to.equal('/containers');
    expect(await models().Container.findByPk(ct.id)).to.equal(null);
    const history = await events('container', ct.id);
    expect(history.map((e) => e.action)).to.deep.equal(['container.update', 'container.delete']);
    expect(JSON.parse(history[1].changes!).hostname).to.deep.equal({ before: ct.hostname });
    expect(history[1].objectLabel).to.equal(ct.hostname);
  });

  it('escapes purpose, notes and tags-like text on the detail and edit pages', async () => {
    const { agent, user } = await agentFor();
    const xss = '<script>alert(1)</script>';
    const ct = await createContainer({ username: user.username, purpose: xss, notes: `${xss}\n"quoted" & <b>bold</b>` });
    const page = await agent.get(`/containers/${ct.id}`).expect(200);
    expect(page.text).to.not.contain(xss).and.not.contain('<b>bold</b>');
    expect(page.text).to.contain('&lt;script&gt;alert(1)&lt;/script&gt;').and.contain('&lt;b&gt;bold&lt;/b&gt;');
    const edit = await agent.get(`/containers/${ct.id}/edit`).expect(200);
    expect(edit.text).to.not.contain(xss);
    expect(edit.text).to.contain('&lt;script&gt;alert(1)&lt;/script&gt;');
  });

  it('shows drift, services, jobs and expiry on the detail page', async () => {
    const { agent, user } = await agentFor();
    const past = new Date(Date.now() - 3 * 86_400_000).toISOString().slice(0, 10);
    const drift = JSON.stringify({ gone: true, fields: { ipv4Address: { berth: '10.0.0.1', proxmox: '10.0.0.2' } } });
    const ct = await createContainer({ username: user.username, expiresAt: past, drift });
    await models().Service.create({ containerId: ct.id, type: 'http', internalPort: 8080, externalPort: null, externalHostname: `svc-${tag()}.example.org` });
    const job = await createJob({ command: 'sync', createdBy: user.username, status: 'success', subjectType: 'container', subjectId: ct.id });
    const page = await agent.get(`/containers/${ct.id}`).expect(200);
    expect(page.text).to.contain('Gone from Proxmox').and.contain('Proxmox differs').and.contain('10.0.0.1').and.contain('10.0.0.2');
    expect(page.text).to.contain('expired 3 days ago').and.contain('8080').and.contain(`href="/status/${job.id}"`);
    const json = await agent.get(`/containers/${ct.id}`).set('Accept', 'application/json').expect(200);
    expect(json.body.container.drift).to.deep.equal({ gone: true, fields: [{ field: 'ipv4Address', berth: '10.0.0.1', proxmox: '10.0.0.2' }] });
    expect(json.body.container.expiry).to.include({ expired: true, days: -3 });
    expect(json.body.services).to.have.length(1);
    expect(json.body.jobs.map((j: { id: number }) => j.id)).to.deep.equal([job.id]);
  });

  it('reads the detail page with the same number of queries however much the record holds', async () => {
    const { agent, user } = await agentFor();
    const { sequelize } = testContext().db;
    const count = async (id: number) => {
      let n = 0;
      const hook = () => void n++;
      sequelize.addHook('beforeQuery', 'count-queries', hook);
      try {
        await agent.get(`/containers/${id}`).set('Accept', 'application/json').expect(200);
      } finally {
        sequelize.removeHook('beforeQuery', 'count-queries');
      }
      return n;
    };
    const empty = await createContainer({ username: user.username });
    const full = await createContainer({ username: user.username, nodeId: (await createNode()).id });
    for (let i = 0; i < 5; i++) await models().Service.create({ containerId: full.id, type: 'tcp', internalPort: 1000 + i, externalPort: 20000 + crypto.randomInt(0, 40000), externalHostname: null });
    expect(await count(full.id)).to.equal(await count(empty.id));
  });

  it('uses the same MAC normalisation for the form as for sync (dashes and upper case)', async () => {
    const { agent, csrf } = await agentFor(true);
    const mac = randomMac();
    const res = await agent.post('/vms').set('X-CSRF-Token', csrf).send({ name: `mac-${tag()}.example.org`, macAddress: mac.toUpperCase().replace(/:/g, '-') }).expect(201);
    expect((await models().VirtualMachine.findByPk(res.body.id))!.macAddress).to.equal(mac);
  });
});
