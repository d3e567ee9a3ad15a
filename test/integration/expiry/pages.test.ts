import { expect } from 'chai';
import crypto from 'node:crypto';
import request from 'supertest';
import { addDays, scanDay } from '../../../src/expiry/clock.js';
import { issueExtendLink } from '../../../src/expiry/extend-link.js';
import { createContainer, createVm } from '../../factories/inventory.js';
import { createUser } from '../../factories/users.js';
import { useApp } from '../../support/app.js';
import { testContext } from '../../support/context.js';
import { csrfFrom, csrfToken, signedInAgent } from '../../support/login.js';

// The Expiries page, the extend link's pages, the expiry settings and the notification log, over HTTP.
describe('expiry pages', () => {
  const fixture = useApp();
  const today = () => scanDay(new Date(), fixture.config.TZ);
  const db = () => testContext().db;

  async function linkPath(itemType: 'container' | 'vm', itemId: number, username: string, expiresOn: string): Promise<string> {
    const url = await db().sequelize.transaction((t) => issueExtendLink({ models: db().models, config: fixture.config }, { itemType, itemId, username, expiresOn }, new Date(), t));
    const link = new URL(url);
    return link.pathname + link.search;
  }
  /** Runs `work` with the expiry policies as it leaves them, then puts the previous rows back (the table is shared). */
  async function keepingPolicies(work: () => Promise<void>): Promise<void> {
    const before = await db().models.ExpiryPolicy.findAll();
    try {
      await work();
    } finally {
      await db().models.ExpiryPolicy.destroy({ where: { kind: ['container', 'vm'] } });
      for (const row of before) await db().models.ExpiryPolicy.create({ kind: row.kind, action: row.action, graceDays: row.graceDays, updatedBy: row.updatedBy });
    }
  }
  const tokenOf = (path: string) => new URL(path, 'http://berth.test').searchParams.get('token')!;

  describe('GET /expiry and POST /expiry/extend', () => {
    it("lists the user's own items soonest first, expired ones marked, with what the expiry action will do", async () => {
      const { agent, user } = await signedInAgent(fixture.app);
      const { user: other } = await createUser();
      await keepingPolicies(async () => {
        await db().models.ExpiryPolicy.upsert({ kind: 'container', action: 'delete', graceDays: 3, updatedBy: null });
        await db().models.ExpiryPolicy.upsert({ kind: 'vm', action: 'none', graceDays: 7, updatedBy: null });
        const later = await createContainer({ username: user.username, expiresAt: addDays(today(), 20) });
        const soon = await createVm({ username: user.username, expiresAt: addDays(today(), 2) });
        const gone = await createContainer({ username: user.username, expiresAt: addDays(today(), -3), managed: true });
        const typedIn = await createContainer({ username: user.username, expiresAt: addDays(today(), 25), managed: false });
        await createContainer({ username: user.username, expiresAt: null });
        const theirs = await createContainer({ username: other.username, expiresAt: addDays(today(), 1) });

        const res = await agent.get('/expiry').set('Accept', 'application/json');
        expect(res.status).to.equal(200);
        const items = res.body.items as Array<Record<string, unknown>>;
        expect(items.map((i) => `${i.itemType}-${i.id}`)).to.deep.equal([`container-${gone.id}`, `vm-${soon.id}`, `container-${later.id}`, `container-${typedIn.id}`]);
        expect(items[0]).to.include({ expired: true, daysLeft: -3 });
        expect(items[0]!.action).to.equal(`It will be stopped on ${addDays(today(), -2)}, and deleted 3 days later, on ${addDays(today(), 1)}.`);
        expect(items[1]).to.include({ daysLeft: 2, action: 'Nothing is done to it automatically when it expires.' });
        // A container Berth did not create is never acted on, whatever the rule.
        expect(items[3]).to.include({ action: 'Nothing is done to it automatically when it expires.' });

        const page = await agent.get('/expiry');
        expect(page.status).to.equal(200);
        expect(page.text).to.contain(gone.hostname).and.to.contain(soon.name).and.not.to.contain(theirs.hostname);
        expect(page.text).to.contain('status-failed">expired');
        expect(page.text).to.match(/<form method="post" action="\/expiry\/extend"[^>]*>\s*<input type="hidden" name="_csrf"/);
      });
    });

    it('extends from the page for the owner (303 back, audited); another user gets 404 and nothing changes', async () => {
      const owner = await signedInAgent(fixture.app);
      const other = await signedInAgent(fixture.app);
      const ct = await createContainer({ username: owner.user.username, expiresAt: addDays(today(), 3) });
      const refused = await other.agent.post('/expiry/extend').set('Accept', 'application/json').set('X-CSRF-Token', other.csrf).send({ kind: 'container', id: ct.id });
      expect(refused.status).to.equal(404);
      expect((await ct.reload()).expiresAt).to.equal(addDays(today(), 3));

      const res = await owner.agent.post('/expiry/extend').type('form').send({ _csrf: owner.csrf, kind: 'container', id: String(ct.id) });
      expect(res.status).to.equal(303);
      expect(res.headers.location).to.equal('/expiry');
      expect((await ct.reload()).expiresAt).to.equal(addDays(today(), 33));
      const followed = await owner.agent.get('/expiry');
      expect(followed.text).to.contain(`now expires on ${addDays(today(), 33)}`);
      expect(await db().models.AuditEvent.count({ where: { action: 'container.extend', objectId: String(ct.id), actor: owner.user.username } })).to.equal(1);
    });

    it('says so on the page when an item is at the maximum (409), and refuses bad input with 422', async () => {
      const { agent, user, csrf } = await signedInAgent(fixture.app);
      const ct = await createContainer({ username: user.username, expiresAt: addDays(today(), fixture.config.CONTAINER_EXPIRY_MAX_DAYS) });
      const res = await agent.post('/expiry/extend').type('form').send({ _csrf: csrf, kind: 'container', id: String(ct.id) });
      expect(res.status).to.equal(409);
      expect(res.text).to.contain('the furthest allowed');
      expect(res.text).to.contain('at the maximum');
      const bad = await agent.post('/expiry/extend').set('Accept', 'application/json').set('X-CSRF-Token', csrf).send({ kind: 'server', id: 'x' });
      expect(bad.status).to.equal(422);
      expect(bad.body.fields).to.have.keys('kind', 'id');
    });
  });

  describe('the extend link', () => {
    it('goes through the login when signed out, confirms on GET without changing anything, extends once on POST', async () => {
      const { user, password } = await createUser();
      const ct = await createContainer({ username: user.username, expiresAt: addDays(today(), 7) });
      const path = await linkPath('container', ct.id, user.username, ct.expiresAt!);
      const agent = request.agent(fixture.app);

      const first = await agent.get(path);
      expect(first.status).to.equal(303);
      expect(first.headers.location).to.equal(`/login?next=${encodeURIComponent(path)}`);
      const csrf = await csrfToken(agent, first.headers.location as string);
      const loggedIn = await agent.post('/login').type('form').send({ username: user.username, password, next: path, _csrf: csrf });
      expect(loggedIn.status).to.equal(303);
      expect(loggedIn.headers.location).to.equal(path);

      const confirm = await agent.get(path);
      expect(confirm.status).to.equal(200);
      expect(confirm.text).to.contain(`Extend it to <strong>${addDays(today(), 37)}</strong>`);
      expect((await ct.reload()).expiresAt).to.equal(addDays(today(), 7));

      expect(confirm.text).to.contain(`name="token" value="${tokenOf(path)}"`);
      const done = await agent.post('/expiry/link').type('form').send({ _csrf: csrfFrom(confirm.text), token: tokenOf(path) });
      expect(done.status).to.equal(200);
      expect(done.text).to.contain(`<strong id="new-expiry">${addDays(today(), 37)}</strong>`);
      expect((await ct.reload()).expiresAt).to.equal(addDays(today(), 37));

      const again = await agent.post(path).type('form').send({ _csrf: csrfFrom(confirm.text) });
      expect(again.status).to.equal(410);
      expect(again.text).to.contain('already used').and.to.contain('Nothing was changed');
      const reopened = await agent.get(path);
      expect(reopened.status).to.equal(410);
      expect((await ct.reload()).expiresAt).to.equal(addDays(today(), 37));
    });

    it("answers a forged link and another user's link with the same 404 page, naming no item", async () => {
      const { user: owner } = await createUser();
      const ct = await createContainer({ username: owner.username, expiresAt: addDays(today(), 7), hostname: `private-${crypto.randomBytes(3).toString('hex')}.example.org` });
      const path = await linkPath('container', ct.id, owner.username, ct.expiresAt!);
      const other = await signedInAgent(fixture.app);
      const theirs = await other.agent.get(path);
      const forged = await other.agent.get(`/expiry/link?token=${crypto.randomBytes(32).toString('base64url')}`);
      for (const res of [theirs, forged]) {
        expect(res.status).to.equal(404);
        expect(res.text).to.contain('This extend link is not valid').and.not.to.contain(ct.hostname);
      }
      const post = await other.agent.post(path).set('Accept', 'application/json').set('X-CSRF-Token', other.csrf).send({});
      expect(post.status).to.equal(404);
      expect(post.body.error).to.contain('not valid');
      for (const odd of [`?token=${'a'.repeat(500)}`, '', '?token=a&token=b']) {
        const res = await other.agent.get(`/expiry/link${odd}`);
        expect(res.status, odd).to.be.within(400, 499);
      }
      expect((await ct.reload()).expiresAt).to.equal(addDays(today(), 7));
    });

    it('shows an expiry changed since the link was sent as a 409 page', async () => {
      const { agent, user } = await signedInAgent(fixture.app);
      const ct = await createContainer({ username: user.username, expiresAt: addDays(today(), 7) });
      const path = await linkPath('container', ct.id, user.username, ct.expiresAt!);
      await ct.update({ expiresAt: addDays(today(), 9) });
      const res = await agent.get(path);
      expect(res.status).to.equal(409);
      expect(res.text).to.contain('changed since this link was sent');
    });
  });

  describe('admin pages', () => {
    it('sets the expiry action per kind, audited; VMs cannot be set to delete; non-admins get 403', async () => {
      const admin = await signedInAgent(fixture.app, { admin: true });
      const user = await signedInAgent(fixture.app);
      await keepingPolicies(async () => {
        await db().models.ExpiryPolicy.destroy({ where: { kind: ['container', 'vm'] } });
        const page = await admin.agent.get('/admin/expiry');
        expect(page.status).to.equal(200);
        expect(page.text).to.contain('Deletes happen only after the grace period');
        expect(page.text).not.to.contain('id="vm-action-delete"');

        const res = await admin.agent.post('/admin/expiry').type('form').send({ _csrf: admin.csrf, kind: 'container', action: 'delete', graceDays: '3' });
        expect(res.status).to.equal(303);
        const row = await db().models.ExpiryPolicy.findByPk('container');
        expect(row).to.include({ action: 'delete', graceDays: 3, updatedBy: admin.user.username });
        const event = await db().models.AuditEvent.findOne({ where: { action: 'expiry-policy.update', actor: admin.user.username }, order: [['id', 'DESC']] });
        expect(JSON.parse(event!.changes!)).to.deep.include({ action: { before: 'none', after: 'delete' } });

        const vmDelete = await admin.agent.post('/admin/expiry').type('form').send({ _csrf: admin.csrf, kind: 'vm', action: 'delete' });
        expect(vmDelete.status).to.equal(422);
        expect(vmDelete.text).to.contain('Berth cannot delete VMs');
        expect(await db().models.ExpiryPolicy.findByPk('vm')).to.equal(null);

        const badGrace = await admin.agent.post('/admin/expiry').set('Accept', 'application/json').set('X-CSRF-Token', admin.csrf).send({ kind: 'container', action: 'delete', graceDays: 0 });
        expect(badGrace.status).to.equal(422);
        expect(badGrace.body.fields).to.have.key('graceDays');

        const denied = await user.agent.post('/admin/expiry').set('Accept', 'application/json').set('X-CSRF-Token', user.csrf).send({ kind: 'container', action: 'none' });
        expect(denied.status).to.equal(403);
        expect((await db().models.ExpiryPolicy.findByPk('container'))!.action).to.equal('delete');
      });
    });

    it('shows the notification log newest first, filtered by owner or item, linking to the item, its mail and job', async () => {
      const admin = await signedInAgent(fixture.app, { admin: true });
      const owner = `owner-${crypto.randomBytes(3).toString('hex')}`;
      const ct = await createContainer({ username: owner, expiresAt: '2027-01-10' });
      const base = { itemType: 'container' as const, itemId: ct.id, itemLabel: ct.hostname, expiresOn: '2027-01-10', username: owner };
      const first = await db().models.NotificationLog.create({ ...base, notice: '7d', scanDay: '2027-01-03', outboxId: 4242, jobId: null });
      const second = await db().models.NotificationLog.create({ ...base, notice: 'stopped', scanDay: '2027-01-11', outboxId: null, jobId: 777 });

      const byUser = await admin.agent.get(`/admin/notifications?user=${owner}`).set('Accept', 'application/json');
      expect(byUser.status).to.equal(200);
      expect(byUser.body.notifications.map((n: { id: number }) => n.id)).to.deep.equal([second.id, first.id]);
      const byItem = await admin.agent.get(`/admin/notifications?itemType=container&itemId=${ct.id}`).set('Accept', 'application/json');
      expect(byItem.body.total).to.equal(2);

      const page = await admin.agent.get(`/admin/notifications?user=${owner}`);
      expect(page.status).to.equal(200);
      expect(page.text).to.contain(`href="/containers/${ct.id}"`).and.to.contain('href="/admin/mail/4242"').and.to.contain('href="/status/777"');
      expect(page.text).to.contain('reminder (7 days)');

      const bad = await admin.agent.get('/admin/notifications?itemId=abc').set('Accept', 'application/json');
      expect(bad.status).to.equal(422);
      const user = await signedInAgent(fixture.app);
      expect((await user.agent.get('/admin/notifications').set('Accept', 'application/json')).status).to.equal(403);
    });

    it('"Scan now" enqueues an expiry scan as a job for admins (audited); others get 403', async () => {
      const admin = await signedInAgent(fixture.app, { admin: true });
      const res = await admin.agent.post('/admin/expiry/scan').set('Accept', 'application/json').set('X-CSRF-Token', admin.csrf).send({});
      expect(res.status).to.equal(201);
      const job = (await db().models.Job.findByPk(res.body.id))!;
      // Cancelled at once: a scan at the real date left pending would run in later files' runners over the shared database.
      await job.update({ status: 'cancelled', finishedAt: new Date() });
      expect(job).to.include({ task: 'expiry.scan', createdBy: admin.user.username, subjectType: 'expiry' });
      const audit = await db().models.AuditEvent.findOne({ where: { action: 'job.enqueue', objectId: String(job.id) } });
      expect(audit).to.deep.include({ actor: admin.user.username });
      expect((await admin.agent.get('/admin/notifications')).text).to.contain('action="/admin/expiry/scan"');
      const user = await signedInAgent(fixture.app);
      const refused = await user.agent.post('/admin/expiry/scan').set('Accept', 'application/json').set('X-CSRF-Token', user.csrf).send({});
      expect(refused.status).to.equal(403);
      expect(await db().models.Job.count({ where: { task: 'expiry.scan', createdBy: user.user.username } })).to.equal(0);
    });

    it('shows the Expiries link to everyone and the admin links to admins only', async () => {
      const user = await signedInAgent(fixture.app);
      const admin = await signedInAgent(fixture.app, { admin: true });
      const userNav = (await user.agent.get('/expiry')).text;
      expect(userNav).to.contain('href="/expiry"').and.not.to.contain('href="/admin/notifications"');
      const adminNav = (await admin.agent.get('/expiry')).text;
      expect(adminNav).to.contain('href="/admin/expiry"').and.to.contain('href="/admin/notifications"').and.to.contain('href="/admin/mail"');
    });
  });

  it('logs no extend token in the request log (login redirect included)', async () => {
    const { user } = await createUser();
    const ct = await createContainer({ username: user.username, expiresAt: addDays(today(), 7) });
    const path = await linkPath('container', ct.id, user.username, ct.expiresAt!);
    const token = tokenOf(path);
    // Signed out: the request, and the login page it is sent to (with the link in `next`).
    const agent = request.agent(fixture.app);
    const first = await agent.get(path);
    expect(first.status).to.equal(303);
    await agent.get(first.headers.location as string);
    expect(fixture.logs.some((l) => String(l.req?.url ?? '').startsWith('/login?next='))).to.equal(true);
    expect(JSON.stringify(fixture.logs)).not.to.contain(token);
  });
});
