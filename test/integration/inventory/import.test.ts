import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { Op } from 'sequelize';
import request from 'supertest';
import { createNode, createContainer, createVm, randomIp, randomMac } from '../../factories/inventory.js';
import { createUser } from '../../factories/users.js';
import { useApp } from '../../support/app.js';
import { testContext } from '../../support/context.js';
import { csrfFrom, login } from '../../support/login.js';

const fixture = (name: string) => fs.readFileSync(path.join(import.meta.dirname, '../../fixtures/inventory', name), 'utf8');
const unique = () => Math.random().toString(36).slice(2, 10);

describe('inventory: CSV import', () => {
  const app = useApp();
  const models = () => testContext().db.models;

  async function session(role: 'user' | 'admin' = 'user', username?: string) {
    const { user, password } = await createUser({ role, username });
    const agent = request.agent(app.app);
    await login(agent, user.username, password);
    const csrf = csrfFrom((await agent.get('/containers/import').expect(200)).text);
    const json = (method: 'get' | 'post', url: string) => agent[method](url).set('Accept', 'application/json').set('X-CSRF-Token', csrf);
    return {
      user,
      agent,
      csrf,
      upload: (base: string, csv: string, filename = 'inventory.csv') => json('post', `${base}/import`).send({ csv, filename }),
      preview: (base: string, id: number) => json('get', `${base}/import/${id}`),
      apply: (base: string, id: number) => json('post', `${base}/import/${id}/apply`).send({}),
    };
  }

  before(async () => {
    await createNode({ name: 'pve-import-a' });
    await createNode({ name: 'pve-import-b' });
    await createUser({ username: 'imp-alice' });
  });

  it('imports a spreadsheet export (BOM, CRLF, quoted commas and newlines, mixed-case headers), then updates exactly the changed fields', async () => {
    const admin = await session('admin');
    const { Container, AuditEvent, Node } = models();
    const csv = fixture('containers-spreadsheet.csv');
    const uploaded = await admin.upload('/containers', csv, 'Inventory (export).csv').expect(201);
    expect(uploaded.body.plan.ok).to.equal(true);
    expect(uploaded.body.plan.totals).to.deep.equal({ create: 3, update: 0, unchanged: 0, error: 0 });
    expect(uploaded.body.plan.rows.map((r: { line: number; action: string }) => [r.line, r.action])).to.deep.equal([[2, 'create'], [4, 'create'], [5, 'create']]);
    const id: number = uploaded.body.id;

    const page = await admin.agent.get(`/containers/import/${id}`).expect(200);
    expect(page.text).to.contain('web-01.import.example.org').and.contain('Inventory (export).csv').and.contain(`action="/containers/import/${id}/apply"`);
    expect(page.text).to.contain('Apply: create 3, update 0');

    expect((await admin.apply('/containers', id).expect(200)).body).to.deep.equal({ created: 3, updated: 0 });
    const [nodeA, nodeB] = await Promise.all([Node.findOne({ where: { name: 'pve-import-a' } }), Node.findOne({ where: { name: 'pve-import-b' } })]);
    const web = (await Container.findOne({ where: { hostname: 'web-01.import.example.org' } }))!;
    expect(web.get()).to.include({ nodeId: nodeA!.id, vmid: 4101, username: 'imp-alice', macAddress: 'bc:24:11:aa:01:11', status: 'running', tags: 'web,prod', purpose: 'Web front, public', expiresAt: '2027-03-31', aiContainer: 'N' });
    expect(web.notes).to.match(/^Line one\r?\nline two, with a comma$/);
    const db = (await Container.findOne({ where: { hostname: 'db-01.import.example.org' } }))!;
    expect(db.get()).to.include({ macAddress: 'bc:24:11:aa:01:12', expiresAt: null, status: 'stopped' });
    const ci = (await Container.findOne({ where: { hostname: 'ci-runner.import.example.org' } }))!;
    // Node names match in any case; the formula guard ('=1+1) is undone; an empty owner (admin) stays empty.
    expect(ci.get()).to.include({ nodeId: nodeB!.id, username: null, notes: '=1+1', aiContainer: 'Y', status: 'unknown', purpose: 'CI "runner"' });

    const created = await AuditEvent.findAll({ where: { action: 'container.create', objectId: [web.id, db.id, ci.id].map(String) } });
    expect(created).to.have.length(3);
    expect(created.every((e) => e.actor === admin.user.username && e.requestId)).to.equal(true);
    const summary = (await AuditEvent.findOne({ where: { action: 'csv-import.apply', objectId: String(id) } }))!;
    expect(JSON.parse(summary.changes!)).to.deep.equal({ created: { after: 3 }, updated: { after: 0 } });

    const again = await admin.apply('/containers', id).expect(409);
    expect(again.body.error).to.contain('already imported');
    expect(await Container.count({ where: { hostname: { [Op.like]: '%.import.example.org' } } })).to.equal(3);
    expect((await admin.agent.get(`/containers/import/${id}`).expect(200)).text).to.contain('3 created, 0 updated');

    const changed = csv.replace('"Web front, public"', '"Web front, internal"').replace('10.250.1.12', '10.250.1.22');
    const second = await admin.upload('/containers', changed).expect(201);
    const rows = second.body.plan.rows as Array<{ action: string; changes: unknown[] }>;
    expect(rows.map((r) => r.action)).to.deep.equal(['update', 'update', 'unchanged']);
    expect(rows[0].changes).to.deep.equal([{ column: 'purpose', before: 'Web front, public', after: 'Web front, internal' }]);
    expect(rows[1].changes).to.deep.equal([{ column: 'ipv4', before: '10.250.1.12', after: '10.250.1.22' }]);
    const preview = await admin.agent.get(`/containers/import/${second.body.id}`).expect(200);
    expect(preview.text).to.contain('10.250.1.12 → 10.250.1.22');

    expect((await admin.apply('/containers', second.body.id).expect(200)).body).to.deep.equal({ created: 0, updated: 2 });
    const update = (await AuditEvent.findOne({ where: { action: 'container.update', objectId: String(web.id) } }))!;
    expect(JSON.parse(update.changes!)).to.deep.equal({ purpose: { before: 'Web front, public', after: 'Web front, internal' } });
    await db.reload();
    expect(db.ipv4Address).to.equal('10.250.1.22');
  });

  it('shows every row error with its line number and refuses to apply, writing nothing', async () => {
    const admin = await session('admin');
    const holder = await createVm({ ipv4Address: '10.250.2.99' });
    const uploaded = await admin.upload('/vms', fixture('vms-with-errors.csv')).expect(201);
    const { plan } = uploaded.body;
    expect(plan.ok).to.equal(false);
    expect(plan.totals).to.deep.equal({ create: 1, update: 0, unchanged: 0, error: 6 });
    const byLine = Object.fromEntries(plan.rows.map((r: { line: number; errors: string[] }) => [r.line, r.errors]));
    expect(byLine[2]).to.deep.equal([]);
    expect(byLine[3]).to.deep.equal(['ipv4: Enter an IPv4 address such as 10.0.0.12.']);
    expect(byLine[4]).to.deep.equal(['expires: Enter a date as YYYY-MM-DD, e.g. 2027-03-31.']);
    expect(byLine[5]).to.deep.equal(['node: no node named pve9.']);
    expect(byLine[6]).to.deep.equal(['name: ok-01.vm-import.example.org is already on line 2.']);
    expect(byLine[7]).to.deep.equal([`ipv4: ${holder.name} (VM) already has the IP address 10.250.2.99.`]);
    expect(byLine[8][0]).to.match(/^tags: Tags use a-z/);

    const page = await admin.agent.get(`/vms/import/${uploaded.body.id}`).expect(200);
    expect(page.text).to.contain('fix the file').and.contain('no node named pve9').and.not.contain('/apply"');

    const refused = await admin.apply('/vms', uploaded.body.id).expect(422);
    expect(refused.body.plan.totals.error).to.equal(6);
    expect(await models().VirtualMachine.count({ where: { name: { [Op.like]: '%.vm-import.example.org' } } })).to.equal(0);
    expect((await models().CsvImport.findByPk(uploaded.body.id))!.appliedAt).to.equal(null);
  });

  it('plans again at apply time: a clash created after the preview refuses the whole file', async () => {
    const admin = await session('admin');
    const [a, b] = [`a-${unique()}.example.org`, `b-${unique()}.example.org`];
    const ipB = randomIp();
    const uploaded = await admin.upload('/containers', `hostname,ipv4,mac\n${a},${randomIp()},${randomMac()}\n${b},${ipB},\n`).expect(201);
    expect(uploaded.body.plan.ok).to.equal(true);
    const intruder = await createVm({ ipv4Address: ipB });

    const refused = await admin.apply('/containers', uploaded.body.id).expect(422);
    expect(refused.body.plan.rows[1].errors).to.deep.equal([`ipv4: ${intruder.name} (VM) already has the IP address ${ipB}.`]);
    expect(await models().Container.count({ where: { hostname: [a, b] } })).to.equal(0);
    expect((await models().CsvImport.findByPk(uploaded.body.id))!.appliedAt).to.equal(null);
    expect(await models().AuditEvent.count({ where: { action: 'csv-import.apply', objectId: String(uploaded.body.id) } })).to.equal(0);
    const html = await admin.agent.post(`/containers/import/${uploaded.body.id}/apply`).type('form').send({ _csrf: admin.csrf }).expect(422);
    expect(html.text).to.contain('nothing was imported').and.contain(`already has the IP address ${ipB}`);
  });

  it("hides an upload from other users (404) but not from admins; an import's kind is part of its address", async () => {
    const owner = await session();
    const other = await session();
    const admin = await session('admin');
    const uploaded = await owner.upload('/containers', `hostname\nmine-${unique()}.example.org\n`).expect(201);
    const id: number = uploaded.body.id;
    await other.preview('/containers', id).expect(404);
    await other.apply('/containers', id).expect(404);
    await owner.preview('/vms', id).expect(404);
    await owner.preview('/containers', 999_999_999).expect(404);
    await owner.agent.get('/containers/import/not-a-number').expect(404);
    expect((await admin.preview('/containers', id).expect(200)).body.plan.totals.create).to.equal(1);
    expect((await models().CsvImport.findByPk(id))!.appliedAt).to.equal(null);
  });

  it("lets a non-admin import only their own records: another owner or someone else's record is a row error", async () => {
    const alice = await session();
    const bob = (await createUser()).user;
    const bobs = await createContainer({ username: bob.username });
    const [mine, ownerless, forBob] = [`m-${unique()}.example.org`, `o-${unique()}.example.org`, `b-${unique()}.example.org`];
    const csv = `hostname,owner,purpose\n${mine},${alice.user.username},x\n${ownerless},,y\n${forBob},${bob.username},z\n${bobs.hostname},,taken\n`;
    const { plan } = (await alice.upload('/containers', csv).expect(201)).body;
    expect(plan.rows.map((r: { action: string }) => r.action)).to.deep.equal(['create', 'create', 'error', 'error']);
    expect(plan.rows[2].errors).to.deep.equal([`owner: you can only import containers you own (not ${bob.username}).`]);
    expect(plan.rows[3].errors).to.deep.equal([`hostname: ${bobs.hostname} is not yours: you can only update your own containers.`]);

    const ok = (await alice.upload('/containers', `hostname,owner,purpose\n${mine},${alice.user.username},x\n${ownerless},,y\n`).expect(201)).body;
    expect((await alice.apply('/containers', ok.id).expect(200)).body).to.deep.equal({ created: 2, updated: 0 });
    const owners = (await models().Container.findAll({ where: { hostname: [mine, ownerless] } })).map((c) => c.username);
    expect(owners).to.deep.equal([alice.user.username, alice.user.username]);
    // Clearing the owner cell of their own record does not give it away.
    const again = (await alice.upload('/containers', `hostname,owner,purpose\n${mine},,x2\n`).expect(201)).body;
    expect(again.plan.rows[0].changes).to.deep.equal([{ column: 'purpose', before: 'x', after: 'x2' }]);
  });

  it('round-trips an export: importing the exported file changes nothing', async () => {
    const admin = await session('admin');
    const node = await createNode();
    for (const [base, make] of [['/containers', createContainer], ['/vms', createVm]] as const) {
      const tag = `rt${unique()}`;
      await make({ tags: `${tag},web`, nodeId: node.id, notes: 'two\nlines, "quoted"', purpose: '=SUM(A1:A3)', expiresAt: '2027-06-30', username: 'imp-alice' });
      await make({ tags: tag, environment: 'staging', ...(base === '/vms' ? { vmid: 3000 + Math.floor(Math.random() * 1000), rdpPort: 3390 } : { containerId: 3000 + Math.floor(Math.random() * 1000) }) });
      const exported = await admin.agent.get(`${base}/export.csv?tag=${tag}`).expect(200);
      expect(exported.text).to.contain("'=SUM(A1:A3)");
      const { plan } = (await admin.upload(base, exported.text, 'export.csv').expect(201)).body;
      expect(plan.totals, base).to.deep.equal({ create: 0, update: 0, unchanged: 2, error: 0 });
    }
  });

  it('takes a multipart upload from the real form, and refuses files that are too large, binary, not UTF-8 or not this CSV', async () => {
    const { agent } = await session();
    const form = await agent.get('/vms/import').expect(200);
    expect(form.text).to.contain('enctype="multipart/form-data"').and.contain('accept=".csv,text/csv"').and.contain('href="/vms/export.csv"');
    const csrf = csrfFrom(form.text);
    const name = `form-${unique()}.example.org`;
    const body = Buffer.from(`Name,Notes,RDP_Port\n${name},<b>bold</b>,3390\n`);
    const sent = await agent.post('/vms/import').field('_csrf', csrf).attach('file', body, 'inventory.csv').expect(303);
    expect(sent.headers.location).to.match(/^\/vms\/import\/\d+$/);
    const preview = await agent.get(sent.headers.location).expect(200);
    expect(preview.text).to.contain(name).and.contain('&lt;b&gt;bold&lt;/b&gt;').and.not.contain('<b>bold</b>');
    expect((await models().CsvImport.findByPk(Number(sent.headers.location.split('/').pop())))!.filename).to.equal('inventory.csv');

    const post = (bytes: Buffer) => agent.post('/vms/import').field('_csrf', csrf).attach('file', bytes, 'upload.csv');
    const big = await post(Buffer.alloc(6 * 1024 * 1024, 'a')).set('Accept', 'application/json').expect(413);
    expect(big.body.error).to.contain('larger than 5 MiB');
    expect((await post(Buffer.from('name\nvm\u0000x\n'))).status).to.equal(422);
    expect((await post(Buffer.from('name\nvm\u0000x\n'))).text).to.contain('NUL bytes');
    expect((await post(Buffer.from('name,notes\ncaf\xe9,x\n', 'latin1')).expect(422)).text).to.contain('not UTF-8');
    expect((await post(Buffer.from('name,colour\nx.example.org,red\n')).expect(422)).text).to.contain('Unknown column: colour');
    expect((await post(Buffer.from('notes\nx\n')).expect(422)).text).to.contain('needs a name column');
    expect((await post(Buffer.from('')).expect(422)).text).to.contain('The file is empty.');
    expect((await post(Buffer.from(`name\n${'x.example.org\n'.repeat(5001)}`)).expect(422)).text).to.contain('at most 5,000');
    expect((await agent.post('/vms/import').field('_csrf', csrf).expect(422)).text).to.contain('Choose a CSV file');
  });

  it('refuses an empty or NUL-bearing JSON upload with 422', async () => {
    const admin = await session('admin');
    expect((await admin.upload('/containers', '  \n').expect(422)).body.error).to.equal('The file is empty.');
    expect((await admin.upload('/containers', 'hostname\na\u0000b\n').expect(422)).body.error).to.contain('NUL');
    expect((await admin.upload('/containers', 'hostname,ipv4\n"unclosed,1\n').expect(422)).body.error).to.contain('not valid CSV');
  });
});
