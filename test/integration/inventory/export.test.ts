import crypto from 'node:crypto';
import { expect } from 'chai';
import { parse } from 'csv-parse/sync';
import request from 'supertest';
import type { Container, Node, User } from '../../../models/index.js';
import { csvColumns } from '../../../src/inventory/csv-columns.js';
import { containerKind, vmKind } from '../../../src/inventory/kinds.js';
import { todayUtc } from '../../../src/inventory/list-query.js';
import { createContainer, createNode, createVm, uniqueVmid } from '../../factories/inventory.js';
import { createAdminUser, createUser } from '../../factories/users.js';
import { useApp } from '../../support/app.js';
import { testContext } from '../../support/context.js';
import { login } from '../../support/login.js';

describe('inventory: CSV export of the current list view', function () {
  this.timeout(30_000);
  const fixture = useApp();
  // This file's records all carry this tag, so other files' rows never interfere.
  const tag = `e${crypto.randomBytes(4).toString('hex')}`;
  let owner: User;
  let other: User;
  let node: Node;
  let web: Container, db: Container, theirs: Container;
  let admin: ReturnType<typeof request.agent>;
  let ownerAgent: ReturnType<typeof request.agent>;

  before(async () => {
    const a = await createAdminUser();
    const o = await createUser();
    owner = o.user;
    other = (await createUser()).user;
    admin = request.agent(fixture.app);
    await login(admin, a.user.username, a.password);
    ownerAgent = request.agent(fixture.app);
    await login(ownerAgent, o.user.username, o.password);
    node = await createNode({ name: `n-${tag}` });
    web = await createContainer({ hostname: `web-${tag}.example.org`, username: owner.username, nodeId: node.id, vmid: uniqueVmid(), status: 'running', expiresAt: '2031-05-01', purpose: '=cmd()', notes: '@SUM(1+1)\nline two, "quoted"', tags: `${tag},web`, environment: 'production' });
    db = await createContainer({ hostname: `db-${tag}.example.org`, username: owner.username, status: 'stopped', purpose: '+1-2', tags: tag });
    theirs = await createContainer({ hostname: `other-${tag}.example.org`, username: other.username, status: 'running', purpose: '-x', tags: tag });
  });

  /** The parsed CSV (header row first) and the response. */
  async function csv(agent: ReturnType<typeof request.agent>, path: string) {
    const res = await agent.get(path).buffer(true).parse((r, done) => {
      let body = '';
      r.setEncoding('utf8');
      r.on('data', (c: string) => (body += c));
      r.on('end', () => done(null, body));
    }).expect(200);
    return { res, rows: parse(res.body as string) as string[][] };
  }

  it('exports the filtered view with the shared column layout, node and owner by name', async () => {
    const { res, rows } = await csv(admin, `/containers/export.csv?tag=${tag}&status=running&sort=name`);
    expect(res.headers['content-type']).to.equal('text/csv; charset=utf-8');
    expect(res.headers['content-disposition']).to.equal(`attachment; filename="containers-${todayUtc()}.csv"`);
    const header = csvColumns(containerKind).map((c) => c.header);
    expect(rows[0]).to.deep.equal(header);
    expect(rows.slice(1).map((r) => r[0])).to.deep.equal([theirs.hostname, web.hostname]);
    const row = Object.fromEntries(header.map((h, i) => [h, rows[2][i]]));
    expect(row).to.deep.include({ hostname: web.hostname, node: node.name, vmid: String(web.vmid), owner: owner.username, ipv4: web.ipv4Address, mac: web.macAddress, status: 'running', environment: 'production', expires: '2031-05-01', tags: `${tag},web`, ai_container: 'N' });
  });

  it('guards cells against spreadsheet formulas', async () => {
    const { rows } = await csv(admin, `/containers/export.csv?tag=${tag}`);
    const header = rows[0];
    const byName = new Map(rows.slice(1).map((r) => [r[0], Object.fromEntries(header.map((h, i) => [h, r[i]]))]));
    expect(byName.get(web.hostname)!.purpose).to.equal("'=cmd()");
    expect(byName.get(web.hostname)!.notes).to.equal('\'@SUM(1+1)\nline two, "quoted"');
    expect(byName.get(db.hostname)!.purpose).to.equal("'+1-2");
    expect(byName.get(theirs.hostname)!.purpose).to.equal("'-x");
  });

  it('exports every page of the view (page and per are ignored) and keeps the sort', async () => {
    const { rows } = await csv(admin, `/containers/export.csv?tag=${tag}&per=10&page=2&sort=name&dir=desc`);
    expect(rows.slice(1).map((r) => r[0])).to.deep.equal([web.hostname, theirs.hostname, db.hostname]);
  });

  it("is scoped to the caller's records for a user, whatever owner= says", async () => {
    const { rows } = await csv(ownerAgent, `/containers/export.csv?tag=${tag}&owner=${other.username}`);
    expect(rows.slice(1).map((r) => r[0]).sort()).to.deep.equal([db.hostname, web.hostname].sort());
    const none = await csv(ownerAgent, `/containers/export.csv?q=other-${tag}`);
    expect(none.rows).to.have.length(1);
  });

  it('exports VMs with their own columns and file name', async () => {
    const vm = await createVm({ name: `vm-${tag}.example.org`, username: owner.username, nodeId: node.id, vmid: uniqueVmid(), rdpPort: 3390, tags: tag, purpose: '@evil' });
    const { res, rows } = await csv(admin, `/vms/export.csv?tag=${tag}`);
    expect(res.headers['content-disposition']).to.equal(`attachment; filename="vms-${todayUtc()}.csv"`);
    expect(rows[0]).to.deep.equal(csvColumns(vmKind).map((c) => c.header));
    expect(rows).to.have.length(2);
    const row = Object.fromEntries(rows[0].map((h, i) => [h, rows[1][i]]));
    expect(row).to.deep.include({ name: vm.name, node: node.name, vmid: String(vm.vmid), rdp_port: '3390', purpose: "'@evil", owner: owner.username });
  });

  it('refuses an invalid query (422) and anonymous callers (401)', async () => {
    const bad = await admin.get('/containers/export.csv?sort=secret').set('Accept', 'application/json').expect(422);
    expect(bad.body.fields.sort).to.contain('Sort by');
    await request(fixture.app).get('/containers/export.csv').set('Accept', 'application/json').expect(401);
  });

  it('streams a large export in batches without losing or repeating rows', async () => {
    const big = `b${crypto.randomBytes(4).toString('hex')}`;
    const { Container } = testContext().db.models;
    await Container.bulkCreate(Array.from({ length: 2150 }, (_, i) => ({ hostname: `h${String(i).padStart(4, '0')}-${big}.example.org`, tags: big })) as never);
    const { rows } = await csv(admin, `/containers/export.csv?tag=${big}`);
    expect(rows).to.have.length(2151);
    const names = rows.slice(1).map((r) => r[0]);
    expect(new Set(names).size).to.equal(2150);
    expect(names[0]).to.equal(`h0000-${big}.example.org`);
    expect(names[2149]).to.equal(`h2149-${big}.example.org`);
  });
});
