// The admins' outbox pages (src/routes/outbox.ts): the list with its status filter and counts, one
// message's envelope (never its sealed body), "retry now" (audited), and who may see any of it.
import { expect } from 'chai';
import request from 'supertest';
import { queueMail } from '../../../src/notify/outbox.js';
import { useApp } from '../../support/app.js';
import { failedOutboxMessage } from '../../support/audit-cases-outbox.js';
import { testContext } from '../../support/context.js';
import { signedInAgent, type SignedInAgent } from '../../support/login.js';

const models = () => testContext().db.models;

/** A queued message whose payload carries a secret-looking link (what the pages must never show). */
async function queuedWithLink(subject: string) {
  const { db, config } = testContext();
  return db.sequelize.transaction((t) =>
    queueMail({ models: db.models, config }, { to: [], subject, template: 'test-email', data: { link: 'https://berth.example/set-password?token=SECRET-TOKEN-123' }, category: 'password-reset', forUser: 'nobody-here' }, t),
  );
}

const json = (a: SignedInAgent, path: string) => a.agent.get(path).set('Accept', 'application/json');

describe('outbox: the admin pages (list, details, retry now)', function () {
  this.timeout(20_000);
  const fixture = useApp();

  it('lists messages newest first with counts per status, filters by status, and never shows a payload', async () => {
    const admin = await signedInAgent(fixture.app, { admin: true });
    // Counts are of the whole table, which other tests share: compare with the page's own counts just before.
    const before = (await json(admin, '/admin/mail').expect(200)).body.counts;
    const failed = await failedOutboxMessage(`failed ${Date.now()}`);
    const queued = await queuedWithLink(`queued ${Date.now()}`);

    const all = await json(admin, '/admin/mail').expect(200);
    expect(all.body.messages[0].id).to.be.at.least(queued.id);
    const ids = all.body.messages.map((m: { id: number }) => m.id);
    expect(ids.indexOf(queued.id)).to.be.below(ids.indexOf(failed.id));
    const counts = all.body.counts;
    expect(Object.keys(counts)).to.have.members(['queued', 'sending', 'sent', 'failed']);
    expect(counts).to.deep.equal({ ...before, failed: before.failed + 1, queued: before.queued + 1 });
    expect(JSON.stringify(all.body)).to.not.contain('SECRET-TOKEN').and.not.contain('"payload"');

    const onlyFailed = await json(admin, '/admin/mail?status=failed').expect(200);
    expect(onlyFailed.body.messages.every((m: { status: string }) => m.status === 'failed')).to.equal(true);
    expect(onlyFailed.body.messages.map((m: { id: number }) => m.id)).to.include(failed.id).and.not.include(queued.id);
    expect(onlyFailed.body.total).to.equal(onlyFailed.body.counts.failed);

    const page = await admin.agent.get('/admin/mail?status=failed').expect(200);
    expect(page.text).to.contain(`href="/admin/mail/${failed.id}"`).and.contain(failed.subject).and.not.contain(queued.subject);
    expect(page.text).to.contain('<option value="failed" selected>');
    expect(page.text).to.not.contain('SECRET-TOKEN');
  });

  it('answers a bad filter or page with 422, never 500', async () => {
    const admin = await signedInAgent(fixture.app, { admin: true });
    const bad = await json(admin, '/admin/mail?status=lost').expect(422);
    expect(bad.body.fields.status).to.contain('must be one of queued, sending, sent, failed');
    await json(admin, '/admin/mail?page=0').expect(422);
    await admin.agent.get('/admin/mail?status=%3Cscript%3E').expect(422);
  });

  it('shows one message: envelope, attempts and last error, a retry button for a failed one, and no body', async () => {
    const admin = await signedInAgent(fixture.app, { admin: true });
    const queued = await queuedWithLink('a password link');
    await queued.update({ status: 'failed', attempts: 4, lastError: 'no email address for nobody-here' });

    const res = await json(admin, `/admin/mail/${queued.id}`).expect(200);
    expect(res.body.message).to.deep.include({ id: queued.id, category: 'password-reset', subject: 'a password link', recipients: [], forUser: 'nobody-here', status: 'failed', attempts: 4, lastError: 'no email address for nobody-here', mayRetry: true });
    expect(res.body.message).to.not.have.property('payload');

    const page = await admin.agent.get(`/admin/mail/${queued.id}`).expect(200);
    expect(page.text).to.contain('no email address for nobody-here').and.contain(`action="/admin/mail/${queued.id}/retry"`).and.contain('name="_csrf"');
    expect(page.text).to.not.contain('SECRET-TOKEN');

    await queued.update({ status: 'sent', sentAt: new Date() });
    const sent = await admin.agent.get(`/admin/mail/${queued.id}`).expect(200);
    expect(sent.text).to.not.contain(`action="/admin/mail/${queued.id}/retry"`);
  });

  it('retry now: a failed message is queued again, due now, attempts from zero, audited; a sent or sending one is refused with 409', async () => {
    const admin = await signedInAgent(fixture.app, { admin: true });
    const failed = await failedOutboxMessage();

    const retriedAt = Date.now();
    const res = await admin.agent.post(`/admin/mail/${failed.id}/retry`).set('Accept', 'application/json').set('X-CSRF-Token', admin.csrf).expect(200);
    expect(res.body.message).to.deep.include({ id: failed.id, status: 'queued', attempts: 0 });
    await failed.reload();
    expect(failed).to.deep.include({ status: 'queued', attempts: 0, lockedBy: null });
    expect(failed.nextAttemptAt.getTime()).to.be.at.most(Date.now());
    // Its retry window starts again now (MariaDB keeps whole seconds).
    expect(failed.retryFrom.getTime()).to.be.within(retriedAt - 1000, Date.now() + 1000);
    const event = await models().AuditEvent.findOne({ where: { action: 'outbox.retry', objectId: String(failed.id) } });
    expect(event).to.deep.include({ actor: admin.user.username, objectType: 'outboxMessage' });
    expect(JSON.parse(event!.changes!)).to.deep.equal({ status: { before: 'failed', after: 'queued' }, attempts: { before: 9, after: 0 } });

    // A browser's form: 303 back to the message with a flash.
    await failed.update({ status: 'failed' });
    const form = await admin.agent.post(`/admin/mail/${failed.id}/retry`).type('form').send({ _csrf: admin.csrf }).expect(303);
    expect(form.headers.location).to.equal(`/admin/mail/${failed.id}`);
    expect((await admin.agent.get(`/admin/mail/${failed.id}`).expect(200)).text).to.contain('is queued again');

    for (const status of ['sent', 'sending'] as const) {
      await failed.update({ status });
      const refused = await admin.agent.post(`/admin/mail/${failed.id}/retry`).set('Accept', 'application/json').set('X-CSRF-Token', admin.csrf).expect(409);
      expect(refused.body.error).to.match(status === 'sent' ? /was already sent/ : /is being sent right now/);
      expect((await failed.reload()).status).to.equal(status);
    }
    await failed.update({ status: 'failed' });

    // Without the CSRF token: refused, nothing changes.
    await admin.agent.post(`/admin/mail/${failed.id}/retry`).set('Accept', 'application/json').expect(403);
    expect((await failed.reload()).status).to.equal('failed');
  });

  it('is for admins only: 403 for a user, the login page for nobody, 404 for an unknown or malformed id', async () => {
    const user = await signedInAgent(fixture.app);
    const admin = await signedInAgent(fixture.app, { admin: true });
    const failed = await failedOutboxMessage();

    await json(user, '/admin/mail').expect(403);
    await json(user, `/admin/mail/${failed.id}`).expect(403);
    await user.agent.post(`/admin/mail/${failed.id}/retry`).set('Accept', 'application/json').set('X-CSRF-Token', user.csrf).expect(403);
    expect((await failed.reload()).status).to.equal('failed');

    const anonymous = await request(fixture.app).get('/admin/mail').expect(303);
    expect(anonymous.headers.location).to.match(/^\/login\?next=/);

    await json(admin, '/admin/mail/999999999').expect(404);
    await json(admin, '/admin/mail/abc').expect(404);
    await admin.agent.post('/admin/mail/999999999/retry').set('Accept', 'application/json').set('X-CSRF-Token', admin.csrf).expect(404);
  });
});
