import { expect } from 'chai';
import crypto from 'node:crypto';
import path from 'node:path';
import ejs from 'ejs';
import request from 'supertest';
import { viewsDir } from '../../../src/lib/paths.js';
import { presentAuditEvent } from '../../../src/presenters/audit.js';
import { createAdminUser, createUser } from '../../factories/users.js';
import { useApp } from '../../support/app.js';
import { testContext } from '../../support/context.js';
import { login } from '../../support/login.js';

const unique = () => crypto.randomBytes(4).toString('hex');

interface Seed {
  action: string;
  objectType?: string;
  objectId?: string;
  objectLabel?: string;
  changes?: Record<string, unknown>;
  createdAt?: Date;
}

/** Audit events by `actor` (unique per test, so assertions ignore everyone else's rows). */
async function seed(actor: string, rows: Seed[]) {
  const { AuditEvent } = testContext().db.models;
  for (const r of rows) {
    const row = await AuditEvent.create({
      actor,
      action: r.action,
      objectType: r.objectType ?? r.action.split('.')[0],
      objectId: r.objectId ?? null,
      objectLabel: r.objectLabel ?? null,
      changes: r.changes ? JSON.stringify(r.changes) : null,
      requestId: `req-${unique()}`,
      ip: '127.0.0.1',
    });
    // Sequelize stamps createdAt itself; a backdated event is moved afterwards.
    if (r.createdAt) await AuditEvent.update({ createdAt: r.createdAt }, { where: { id: row.id }, silent: true });
  }
}

describe('audit page: GET /audit', function () {
  this.timeout(30_000);
  const fixture = useApp();
  let admin: ReturnType<typeof request.agent>;

  before(async () => {
    const built = await createAdminUser();
    admin = request.agent(fixture.app);
    await login(admin, built.user.username, built.password);
  });

  const json = (query: Record<string, string | number>) => admin.get('/audit').query(query).set('Accept', 'application/json');

  it('is for admins only: 401 anonymous, 403 for a user', async () => {
    await request(fixture.app).get('/audit').set('Accept', 'application/json').expect(401);
    const { user, password } = await createUser();
    const agent = request.agent(fixture.app);
    await login(agent, user.username, password);
    await agent.get('/audit').set('Accept', 'application/json').expect(403);
    await agent.get('/audit').set('Accept', 'text/html').expect(403);
  });

  it('filters by actor, exact action or prefix, object, label text and dates', async () => {
    const actor = `aud-${unique()}`;
    await seed(actor, [
      { action: 'container.create', objectId: '7', objectLabel: 'web-01.example.org', createdAt: new Date('2026-01-10T12:00:00Z') },
      { action: 'container.update', objectId: '7', objectLabel: 'web-01.example.org', createdAt: new Date('2026-01-11T23:59:00Z') },
      { action: 'container.delete', objectId: '8', objectLabel: '100%_done', createdAt: new Date('2026-01-12T00:00:00Z') },
      { action: 'containers.update', objectType: 'containers', objectId: '7', objectLabel: 'not a container' },
      { action: 'vm.update', objectId: '7', objectLabel: 'win-01' },
    ]);
    const labels = async (query: Record<string, string>) => {
      const res = await json({ actor, ...query }).expect(200);
      expect(res.body.total).to.equal(res.body.events.length);
      return res.body.events.map((e: any) => `${e.action}:${e.objectLabel}`);
    };
    expect(await labels({})).to.have.length(5);
    expect(await labels({ action: 'container.update' })).to.deep.equal(['container.update:web-01.example.org']);
    expect(await labels({ action: 'container.' })).to.deep.equal(['container.delete:100%_done', 'container.update:web-01.example.org', 'container.create:web-01.example.org']);
    expect(await labels({ action: 'container.*' })).to.have.length(3);
    expect(await labels({ objectType: 'container', objectId: '7' })).to.deep.equal(['container.update:web-01.example.org', 'container.create:web-01.example.org']);
    // LIKE wildcards in q match literally.
    expect(await labels({ q: '%' })).to.deep.equal(['container.delete:100%_done']);
    expect(await labels({ q: '0%_d' })).to.deep.equal(['container.delete:100%_done']);
    expect(await labels({ q: 'WEB-01' }), 'contains, case-insensitively').to.have.length(2);
    // Dates are whole UTC days, both ends included.
    expect(await labels({ from: '2026-01-11', to: '2026-01-11' })).to.deep.equal(['container.update:web-01.example.org']);
    expect(await labels({ from: '2026-01-01', to: '2026-01-11' })).to.have.length(2);
    expect(await labels({ from: '2026-01-12', action: 'container.' })).to.deep.equal(['container.delete:100%_done']);
  });

  it('pages newest first, with page links that keep the filters', async () => {
    const actor = `page-${unique()}`;
    await seed(actor, Array.from({ length: 30 }, (_, i) => ({ action: 'user.update', objectId: String(i), objectLabel: `n${i}` })));
    const first = await json({ actor, per: 25 }).expect(200);
    expect(first.body).to.include({ total: 30, page: 1, per: 25 });
    expect(first.body.events.map((e: any) => e.objectLabel).slice(0, 3)).to.deep.equal(['n29', 'n28', 'n27']);
    const second = await json({ actor, per: 25, page: 2 }).expect(200);
    expect(second.body.events.map((e: any) => e.objectLabel)).to.deep.equal(['n4', 'n3', 'n2', 'n1', 'n0']);
    expect((await json({ actor }).expect(200)).body.per, 'default page size').to.equal(50);
    // The GET form submits its empty fields: they mean "any" and the defaults.
    const blank = await json({ actor, action: '', objectType: '', objectId: '', q: '', from: '', to: '', per: '', page: '' }).expect(200);
    expect(blank.body).to.include({ total: 30, page: 1, per: 50 });
    expect(blank.body.events).to.have.length(30);

    const html = await admin.get('/audit').query({ actor, per: 25 }).set('Accept', 'text/html').expect(200);
    expect(html.text).to.contain('Page 1 of 2');
    expect(html.text).to.contain(`href="/audit?actor=${actor}&amp;per=25&amp;page=2"`);
    expect(html.text).to.contain('n29').and.not.contain('>n4<');
  });

  it('refuses bad filters with 422 and a message per field (JSON and re-rendered page)', async () => {
    const res = await json({ action: "x'; DROP TABLE AuditEvents;--", from: '2026-02-30', per: 7, page: 0 }).expect(422);
    expect(res.body.fields).to.have.keys('action', 'from', 'per', 'page');
    expect(res.body.fields.from).to.equal('Enter a date as YYYY-MM-DD, e.g. 2027-03-31.');
    const order = await json({ from: '2026-03-02', to: '2026-03-01' }).expect(422);
    expect(order.body.fields.to).to.equal('The start date is after the end date.');
    const page = await admin.get('/audit').query({ objectId: 'a b<c>', actor: 'kept' }).set('Accept', 'text/html').expect(422);
    expect(page.text).to.contain('An object id is a number or a short name');
    expect(page.text).to.contain('value="a b&lt;c&gt;"').and.contain('value="kept"');
    expect(await testContext().db.models.AuditEvent.count()).to.be.greaterThan(0);
  });

  it('escapes labels and changes (a <script> label is text, not markup)', async () => {
    const actor = `xss-${unique()}`;
    await seed(actor, [{ action: 'container.update', objectId: '9', objectLabel: '<script>alert(1)</script>', changes: { notes: { before: '<img src=x onerror=alert(2)>', after: 'fine' } } }]);
    const res = await admin.get('/audit').query({ actor }).set('Accept', 'text/html').expect(200);
    expect(res.text).not.to.contain('<script>alert(1)</script>');
    expect(res.text).not.to.contain('<img src=x');
    expect(res.text).to.contain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(res.text).to.contain('&lt;img src=x onerror=alert(2)&gt; → fine');
  });

  it('renders an object history partial: its changes, or "No recorded changes"', async () => {
    const file = path.join(viewsDir, 'audit', '_history.ejs');
    expect(await ejs.renderFile(file, { events: [] })).to.contain('No recorded changes');
    const actor = `hist-${unique()}`;
    await seed(actor, [{ action: 'vm.update', objectId: '3', changes: { status: { before: 'running', after: 'stopped' }, tags: { after: 'a,<b>' } } }]);
    const rows = await testContext().db.models.AuditEvent.findAll({ where: { actor } });
    const html = await ejs.renderFile(file, { events: rows.map(presentAuditEvent) });
    expect(html).to.contain(actor).and.contain('vm.update').and.contain('running → stopped').and.contain('a,&lt;b&gt;');
    expect(html).not.to.contain('No recorded changes');
  });
});
