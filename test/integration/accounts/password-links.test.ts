// The one-time set-password links an admin causes (a password reset, an approved account request):
// the admin always sees the link once, on the page they land on. A mail with the link is queued
// only when it can go now (an address and SMTP_HOST); otherwise it would wait in the outbox and
// arrive with a stale link, so the admin is told to hand the link over.
import crypto from 'node:crypto';
import { expect } from 'chai';
import request from 'supertest';
import { createAdminUser, createUser } from '../../factories/users.js';
import { testConfig, testContext } from '../../support/context.js';
import { csrfFrom, login } from '../../support/login.js';
import { startTestDeliverer } from '../../support/outbox.js';
import { startSmtpServer, type SmtpSink } from '../../support/smtp.js';
import { buildApp, smtpEnv, type BuiltApp } from './build-app.js';

const LINK = /https:\/\/berth\.example\.org\/set-password\?token=[A-Za-z0-9_-]{43}/;
const models = () => testContext().db.models;

/** The page's flash text with entities decoded enough to read a link back. */
const unescape = (html: string) => html.replace(/&amp;/g, '&').replace(/&#x3D;|&#61;/g, '=');

/** A logged-in admin agent on `built`, with a CSRF token. */
async function adminOn(built: BuiltApp) {
  const admin = await createAdminUser();
  const agent = request.agent(built.app);
  await login(agent, admin.user.username, admin.password);
  const csrf = csrfFrom((await agent.get('/users').expect(200)).text);
  return { agent, csrf };
}

/** Resets `userId`'s password with the form and returns the page the admin lands on. */
async function resetWithForm(built: BuiltApp, userId: number): Promise<string> {
  const { agent, csrf } = await adminOn(built);
  const res = await agent.post(`/users/${userId}/reset-password`).type('form').send({ _csrf: csrf }).expect(303);
  expect(res.headers.location).to.equal(`/users/${userId}`);
  return unescape((await agent.get(`/users/${userId}`).expect(200)).text);
}

/** Mail rows a reset or approval queued for `username`. */
const linkMailsFor = (username: string) => models().OutboxMessage.findAll({ where: { forUser: username, category: ['password-reset', 'account-approved'] } });

describe('accounts: set-password links with mail configured', function () {
  this.timeout(30_000);
  let smtp: SmtpSink;
  let built: BuiltApp;
  let deliverer: { close(): Promise<void> };
  beforeEach(async () => {
    smtp = await startSmtpServer();
    const env = { ...smtpEnv(smtp.port), OUTBOX_POLL_MS: '50' };
    built = buildApp(env);
    deliverer = await startTestDeliverer(testConfig(testContext().scratch.url, env));
  });
  afterEach(async () => {
    await deliverer.close();
    await built.stop();
    await smtp.close();
  });

  it('a reset shows the admin the link once and says the email with it is queued; the email carries the same link', async () => {
    const { user } = await createUser({ email: `reset-${crypto.randomBytes(3).toString('hex')}@example.org` });
    const page = await resetWithForm(built, user.id);
    const [queued] = await linkMailsFor(user.username);
    expect(queued, 'a mail is queued').to.be.an('object');
    const shown = LINK.exec(page)?.[0];
    expect(shown, 'the link is on the page').to.be.a('string');
    expect(page).to.contain(`An email with the link is queued for ${user.username} (outbox message ${queued.id}).`).and.not.contain('must be handed over');
    const mail = await smtp.waitFor((m) => m.to.includes(user.email!));
    expect(LINK.exec(mail.text)?.[0]).to.equal(shown);
    // Shown once: the flash is gone on the next visit.
    const { agent } = await adminOn(built);
    expect((await agent.get(`/users/${user.id}`).expect(200)).text).not.to.match(LINK);
  });

  it('a reset of a user without an email address queues nothing and says the link must be handed over', async () => {
    const { user } = await createUser();
    const { agent, csrf } = await adminOn(built);
    const res = await agent.post(`/users/${user.id}/reset-password`).set('Accept', 'application/json').set('X-CSRF-Token', csrf).send({}).expect(200);
    expect(res.body).to.deep.include({ success: true, emailed: false, outboxId: null, warning: 'no email address' });
    expect(res.body.link).to.match(LINK);
    const page = await resetWithForm(built, user.id);
    expect(page).to.match(LINK).and.contain('No email was queued (no email address). The link must be handed over.');
    expect(await linkMailsFor(user.username)).to.have.length(0);
  });
});

describe('accounts: set-password links without SMTP_HOST', function () {
  this.timeout(30_000);
  let built: BuiltApp;
  beforeEach(() => {
    built = buildApp({ PUBLIC_URL: 'https://berth.example.org' });
  });
  afterEach(async () => {
    await built.stop();
  });

  it('a reset queues no mail (its link would arrive stale) and shows the link to hand over', async () => {
    const { user } = await createUser({ email: `nosmtp-${crypto.randomBytes(3).toString('hex')}@example.org` });
    const page = await resetWithForm(built, user.id);
    expect(page).to.match(LINK).and.contain('No email was queued (SMTP_HOST is not configured). The link must be handed over.');
    expect(await linkMailsFor(user.username)).to.have.length(0);
    expect((await user.reload()).passwordHash).to.equal(null);
  });

  it('an approval queues no mail with the link and shows the link to hand over', async () => {
    const username = `appr${crypto.randomBytes(3).toString('hex')}`;
    const visitor = request.agent(built.app);
    const form = await visitor.get('/register').expect(200);
    await visitor.post('/register').type('form').send({ name: 'Ada Approved', email: `${username}@example.org`, username, reason: 'Working on the build farm', _csrf: csrfFrom(form.text) }).expect(201);
    const row = (await models().AccountRequest.findOne({ where: { username } }))!;
    const { agent, csrf } = await adminOn(built);
    await agent.post(`/account-requests/${row.id}/approve`).type('form').send({ _csrf: csrf }).expect(303);
    const page = unescape((await agent.get('/account-requests').expect(200)).text);
    expect(page).to.contain(`Account ${username} created.`).and.match(LINK).and.contain('No email was queued (SMTP_HOST is not configured). The link must be handed over.');
    expect(await linkMailsFor(username)).to.have.length(0);
    // The link works: the new account chooses its password with it.
    const link = new URL(LINK.exec(page)![0]);
    await request(built.app).get(link.pathname + link.search).expect(200);
  });
});
