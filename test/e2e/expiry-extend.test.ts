import { expect } from 'chai';
import crypto from 'node:crypto';
import { Auditor } from '../../src/audit/index.js';
import { addDays, scanDay } from '../../src/expiry/clock.js';
import { runExpiryScan } from '../../src/expiry/scan.js';
import { createLogger } from '../../src/lib/logger.js';
import { OutboxDeliverer } from '../../src/notify/deliverer.js';
import { createContainer } from '../factories/inventory.js';
import { createUser } from '../factories/users.js';
import { useApp } from '../support/app.js';
import { artifactPath, useBrowserSite } from '../support/browser.js';
import { testConfig, testContext } from '../support/context.js';
import { startSmtpServer, type SmtpSink } from '../support/smtp.js';

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('extending a container from its expiry reminder, in Chromium', function () {
  this.timeout(90_000);
  const fixture = useApp();
  const site = useBrowserSite(fixture);
  let sink: SmtpSink;
  beforeEach(async () => (sink = await startSmtpServer()));
  afterEach(async () => sink.close());

  it('gets the reminder over SMTP, follows its extend link through the login, confirms once; the link then says it was used', async () => {
    const { db } = testContext();
    // The scan and the deliverer run as the job runner would, with links pointing at the served site.
    const config = testConfig(testContext().scratch.url, { PUBLIC_URL: site.url, SMTP_HOST: '127.0.0.1', SMTP_PORT: String(sink.port), SMTP_SECURE: 'none', MAIL_FROM: 'Berth <berth@test.invalid>' });
    const email = `owner-${crypto.randomBytes(4).toString('hex')}@example.org`;
    const { user, password } = await createUser({ email, displayName: 'Owner' });
    const today = scanDay(new Date(), config.TZ);
    const ct = await createContainer({ username: user.username, expiresAt: addDays(today, 3), status: 'running' });

    const summary = await runExpiryScan(
      { models: db.models, sequelize: db.sequelize, config, logger: createLogger('silent'), auditor: new Auditor(db.models, null) },
      { at: new Date() },
    );
    expect(summary.reminders.filter((r) => r.username === user.username)).to.have.length(1);
    await new OutboxDeliverer({ models: db.models, sequelize: db.sequelize, config, logger: createLogger('silent') }).deliverDue();
    const mail = await sink.waitFor((m) => m.to.includes(email));
    expect(mail.text).to.contain(ct.hostname);

    // The first link to Berth's expiry pages in the mail is the extend link (the other is the item's page).
    const link = new RegExp(`${escapeRegExp(site.url)}/expiry/[^\\s"<>]+`).exec(mail.text)?.[0];
    expect(link, 'an extend link in the reminder').to.be.a('string');

    const page = await site.browser.newPage();
    const problems: string[] = [];
    page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
    page.on('pageerror', (e) => problems.push(e.message));

    // Signed out: the link goes through the login form and back.
    await page.goto(link!);
    expect(new URL(page.url()).pathname).to.equal('/login');
    await page.fill('#username', user.username);
    await page.fill('#password', password);
    await Promise.all([page.waitForURL(link!), page.click('button[type=submit]')]);
    expect(await page.textContent('h1')).to.contain(`Extend ${ct.hostname}?`);
    expect((await ct.reload()).expiresAt, 'opening the link changes nothing').to.equal(addDays(today, 3));
    await page.setViewportSize({ width: 390, height: 800 });
    await page.screenshot({ path: artifactPath('expiry-extend-confirm.png'), fullPage: true });

    await Promise.all([page.waitForURL(`${site.url}/expiry/**`), page.click(`text=Extend to ${addDays(today, 33)}`)]);
    expect(await page.textContent('#new-expiry')).to.equal(addDays(today, 33));
    expect((await ct.reload()).expiresAt).to.equal(addDays(today, 33));
    expect(await db.models.AuditEvent.count({ where: { action: 'container.extend', objectId: String(ct.id), actor: user.username } })).to.equal(1);

    // The Expiries page shows the new date.
    await page.click('text=All your expiries');
    expect(await page.textContent(`tr[data-item="container-${ct.id}"]`)).to.contain(addDays(today, 33));
    await page.screenshot({ path: artifactPath('expiry-list.png'), fullPage: true });

    expect(problems).to.deep.equal([]);

    // The same link again: used (the browser logs the 410 itself as a failed load; nothing else may fail).
    const again = await page.goto(link!);
    expect(again!.status()).to.equal(410);
    expect(await page.textContent('[role=alert]')).to.contain('already used');
    expect((await ct.reload()).expiresAt).to.equal(addDays(today, 33));
    expect(problems.filter((p) => !p.includes('status of 410'))).to.deep.equal([]);
  });
});
