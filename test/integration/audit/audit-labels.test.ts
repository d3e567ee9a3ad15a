import { expect } from 'chai';
import crypto from 'node:crypto';
import path from 'node:path';
import ejs from 'ejs';
import request from 'supertest';
import { Auditor } from '../../../src/audit/index.js';
import { enqueueInventorySync } from '../../../src/jobs/enqueue-inventory-sync.js';
import { viewsDir } from '../../../src/lib/paths.js';
import { presentAuditEvents } from '../../../src/presenters/audit.js';
import { createNode } from '../../factories/inventory.js';
import { createAdminUser, createUser } from '../../factories/users.js';
import { useApp } from '../../support/app.js';
import { testContext } from '../../support/context.js';
import { login } from '../../support/login.js';

const unique = () => crypto.randomBytes(4).toString('hex');

interface Seed {
  actor?: string | null;
  action: string;
  objectType?: string;
  objectId?: string;
  objectLabel: string;
  changes?: Record<string, unknown>;
  requestId?: string | null;
  ip?: string | null;
}

async function seed(rows: Seed[]) {
  const { AuditEvent } = testContext().db.models;
  const out = [];
  for (const r of rows) {
    out.push(
      await AuditEvent.create({
        actor: r.actor ?? null,
        action: r.action,
        objectType: r.objectType ?? r.action.split('.')[0],
        objectId: r.objectId ?? null,
        objectLabel: r.objectLabel,
        changes: r.changes ? JSON.stringify(r.changes) : null,
        requestId: r.requestId ?? null,
        ip: r.ip ?? null,
      }),
    );
  }
  return out;
}

/** Tags stripped and spaces collapsed: the page as a person reads it. */
const text = (html: string) => html.replace(/<[^>]+>/g, ' ').replace(/&amp;/g, '&').replace(/\s+/g, ' ');

describe('audit page: labels people know (names, actors, details)', function () {
  this.timeout(30_000);
  const fixture = useApp();
  let admin: ReturnType<typeof request.agent>;

  before(async () => {
    const built = await createAdminUser();
    admin = request.agent(fixture.app);
    await login(admin, built.user.username, built.password);
  });

  it('shows fields by their labels and values as people know them: node and user names, yes/no, dates, owner', async () => {
    const actor = `lab-${unique()}`;
    const [from, to] = [await createNode({ name: `pve-from-${unique()}` }), await createNode({ name: `pve-to-${unique()}` })];
    const { user } = await createUser();
    await seed([
      {
        actor,
        action: 'container.update',
        objectId: '41',
        objectLabel: 'web-41.example.org',
        requestId: `req-${unique()}`,
        ip: '127.0.0.1',
        changes: {
          nodeId: { before: from.id, after: to.id },
          username: { before: 'alice', after: null },
          aiContainer: { before: false, after: true },
          expiresAt: { before: null, after: '2027-03-31' },
          ipv4Address: { before: '10.0.0.1', after: '10.0.0.2' },
        },
      },
      { actor, action: 'token.create', objectLabel: 'ci', changes: { userId: { after: user.id }, expiresAt: { after: '2027-01-02T03:04:05.000Z' } }, ip: '127.0.0.1' },
      { actor, action: 'node.update', objectLabel: 'gone', changes: { nodeId: { before: 999_999_999, after: to.id }, apiTokenSecret: { before: '********', after: '********' } }, ip: '127.0.0.1' },
    ]);

    const res = await admin.get('/audit').query({ actor }).set('Accept', 'text/html').expect(200);
    const page = text(res.text);
    expect(page).to.contain(`Node : ${from.name} → ${to.name}`);
    expect(page).to.contain('Owner : alice → no owner');
    expect(page).to.contain('AI container : no → yes');
    expect(page).to.contain('Expires : — → 2027-03-31').and.contain('IPv4 address : 10.0.0.1 → 10.0.0.2');
    expect(page).to.contain(`User : ${user.username}`).and.contain('Expires : 2027-01-02 03:04 UTC');
    // A deleted node keeps its id; a changed secret says so without any value.
    expect(page).to.contain(`Node : #999999999 → ${to.name}`).and.contain('API token secret : changed (hidden)');
    expect(res.text, 'no raw field names as labels').not.to.match(/>\s*nodeId\s*</);
    expect(page).not.to.contain(`nodeId: ${from.id}`);

    // The changes sit behind a details toggle, one per row; the table scrolls in its own region.
    expect(res.text.match(/<details class="audit-details">/g)).to.have.length(3);
    expect(res.text).to.contain('<summary>5 changes</summary>');
    expect(res.text).to.match(/<div class="table-scroll" role="region" aria-label="Audit events" tabindex="0">\s*<table/);
    for (const th of res.text.match(/<th[^>]*>([\s\S]*?)<\/th>/g) ?? []) expect(th.replace(/<[^>]+>/g, '').trim(), th).not.to.equal('');

    // JSON keeps the raw changes and adds the readable ones.
    const json = await admin.get('/audit').query({ actor, action: 'container.update' }).set('Accept', 'application/json').expect(200);
    const [event] = json.body.events;
    expect(event.changes.nodeId).to.deep.equal({ before: from.id, after: to.id });
    expect(event.details[0]).to.deep.equal({ field: 'nodeId', label: 'Node', before: from.name, after: to.name });
    expect(event.actorLabel).to.deep.equal({ kind: 'user', name: actor, jobId: null });
  });

  it('loads the names for a whole page in one query per table, however many events name them', async () => {
    const actor = `n1-${unique()}`;
    const nodes = await Promise.all([1, 2, 3, 4].map(() => createNode()));
    await seed(nodes.map((n, i) => ({ actor, action: 'ipPool.update', objectLabel: `pool ${i}`, changes: { nodeId: { before: null, after: n.id } }, ip: '127.0.0.1' })));
    const { Node, User } = testContext().db.models;
    let nodeReads = 0;
    let userReads = 0;
    const countNodes = () => void nodeReads++;
    const countUsers = () => void userReads++;
    Node.addHook('beforeFind', 'audit-n1', countNodes);
    User.addHook('beforeFind', 'audit-n1', countUsers);
    try {
      const res = await admin.get('/audit').query({ actor }).set('Accept', 'application/json').expect(200);
      expect(res.body.events.map((e: any) => e.details[0].after).sort()).to.deep.equal(nodes.map((n) => n.name).sort());
    } finally {
      Node.removeHook('beforeFind', 'audit-n1');
      User.removeHook('beforeFind', 'audit-n1');
    }
    expect(nodeReads, 'one Nodes query for the page').to.equal(1);
    // The session's user is read once per request (currentUser); the page adds none: no userId in these changes.
    expect(userReads).to.equal(1);
  });

  it("names Berth's own processes instead of \"anonymous\", and keeps anonymous visitors as such", async () => {
    const tag = `sys-${unique()}`;
    const { models, sequelize } = testContext().db;
    // The real scheduler path: the inventory sync enqueued with no user (src/jobs/scheduler.ts).
    const job = await sequelize.transaction((t) => enqueueInventorySync({ models, auditor: new Auditor(models, null) }, { username: null }, t));
    // Not left pending: "Sync now" elsewhere would get this job instead of starting one.
    await job.update({ status: 'cancelled', finishedAt: new Date() });
    await seed([
      // A task in the job runner writes as the job's requester, with request id job-<id> (src/provisioning/task-support.ts).
      { action: 'container.update', objectLabel: `${tag}-task`, objectId: '7', requestId: 'job-4242' },
      // The expiry action (src/expiry/actions.ts) and the expiry scan's reminders (src/expiry/scan.ts).
      { action: 'job.enqueue', objectType: 'job', objectLabel: `${tag}-expiry-action`, requestId: 'expiry-action' },
      { action: 'expiry.remind', objectType: 'outboxMessage', objectLabel: `${tag}-remind` },
      // bin/rotate-key.
      { action: 'vault.rotate', objectLabel: `${tag}-rotate` },
      // A Proxmox account recheck, triggered while serving someone's request.
      { action: 'user.proxmox-demote', objectType: 'user', objectLabel: `${tag}-recheck`, requestId: `req-${unique()}`, ip: '127.0.0.1' },
      // An anonymous visitor (/register), also one sending a request id that looks like a job's.
      { action: 'account-request.create', objectType: 'account-request', objectLabel: `${tag}-register`, requestId: `req-${unique()}`, ip: '127.0.0.1' },
      { action: 'session.login-failed', objectType: 'session', objectLabel: `${tag}-spoof`, requestId: 'job-1', ip: '127.0.0.1' },
    ]);

    const scheduled = await admin.get('/audit').query({ objectType: 'job', objectId: String(job.id) }).set('Accept', 'application/json').expect(200);
    expect(scheduled.body.events.map((e: any) => [e.action, e.actorLabel.name, e.actorLabel.kind])).to.deep.equal([['job.enqueue', 'scheduler', 'system']]);

    const res = await admin.get('/audit').query({ q: tag }).set('Accept', 'application/json').expect(200);
    const byLabel = Object.fromEntries(res.body.events.map((e: any) => [e.objectLabel.slice(tag.length + 1), e.actorLabel]));
    expect(byLabel).to.deep.equal({
      task: { kind: 'system', name: 'job runner', jobId: 4242 },
      'expiry-action': { kind: 'system', name: 'expiry scan', jobId: null },
      remind: { kind: 'system', name: 'expiry scan', jobId: null },
      rotate: { kind: 'system', name: 'command line', jobId: null },
      recheck: { kind: 'system', name: 'Proxmox account check', jobId: null },
      register: { kind: 'anonymous', name: 'anonymous visitor', jobId: null },
      spoof: { kind: 'anonymous', name: 'anonymous visitor', jobId: null },
    });

    const html = await admin.get('/audit').query({ q: tag }).set('Accept', 'text/html').expect(200);
    expect(html.text).not.to.contain('Berth / anonymous');
    expect(html.text).to.contain('<a href="/status/4242" class="audit-job">job runner (job 4242)</a>');
    expect(text(html.text)).to.contain('job runner').and.contain('expiry scan').and.contain('command line').and.contain('anonymous visitor');
  });

  it("labels a record page's history the same way, changes behind a toggle", async () => {
    const node = await createNode({ name: `pve-hist-${unique()}` });
    const rows = await seed([
      { action: 'vm.update', objectId: '3', objectLabel: `h-${unique()}`, requestId: 'job-77', changes: { nodeId: { before: null, after: node.id }, status: { before: 'running', after: 'stopped' } } },
      { actor: 'alice', action: 'vm.transfer', objectId: '3', objectLabel: 'x', ip: '127.0.0.1', changes: { username: { before: 'alice', after: 'bob' } } },
    ]);
    const events = await presentAuditEvents(testContext().db.models, rows.reverse());
    const html = await ejs.renderFile(path.join(viewsDir, 'audit', '_history.ejs'), { events });
    const page = text(html);
    expect(page).to.contain('alice').and.contain('Owner : alice → bob');
    expect(page).to.contain('job runner').and.contain(`Node : — → ${node.name}`).and.contain('Status : running → stopped');
    expect(html.match(/<details class="audit-details">/g)).to.have.length(2);
    expect(html).to.contain('<summary>2 changes</summary>');
    // The history is on pages ordinary users see: a username is not a link to the admins' audit page.
    expect(html).not.to.contain('href="/audit');
  });
});
