import { EventEmitter, once } from 'node:events';
import { expect } from 'chai';
import express from 'express';
import type { Browser } from 'playwright-core';
import { createAdminUser } from '../factories/users.js';
import { useApp } from '../support/app.js';
import { launchBrowser, loggedInPage, serve } from '../support/browser.js';
import { testContext } from '../support/context.js';

/**
 * public/js/berth.js's progress for slow work: a form marked data-busy disables its buttons and shows
 * the elapsed seconds while the server works, and gives the buttons back when the visitor comes back
 * to the page. The jobs page's "Run command" form is the form; Berth is served behind a gate that
 * holds its POST (a slow server) until the test has seen the page busy.
 */
describe('pages in Chromium: a data-busy form shows that it is working', function () {
  this.timeout(60_000);
  const fixture = useApp();
  const admins: string[] = [];
  /** The requests the slow server holds: calling one lets it through to Berth. */
  const held: Array<() => void> = [];
  const arrivals = new EventEmitter();
  let browser: Browser;
  let server: { url: string; close(): Promise<void> };

  // Berth behind a gate that holds POST /jobs/command until the test releases it: a slow server.
  beforeEach(async () => {
    const slow = express();
    slow.post('/jobs/command', (_req, _res, next) => {
      held.push(() => next());
      arrivals.emit('held');
    });
    slow.use(fixture.app);
    // With the back/forward cache: Back returns to the page as it was left (busy), which berth.js has to undo.
    browser = await launchBrowser({ historyCache: true });
    server = await serve(slow);
  });
  afterEach(async () => {
    for (const release of held.splice(0)) release();
    await browser.close();
    await server.close();
  });
  after(async () => {
    if (admins.length) await testContext().db.models.Job.update({ status: 'cancelled', finishedAt: new Date() }, { where: { createdBy: admins, status: 'pending' } });
  });

  const button = '#run-command button[type=submit]';

  /**
   * Watches the run-command form from inside the page and reports its button and busy status on every
   * change, through a binding. (Chromium holds DevTools commands to a page while it navigates, so
   * neither Playwright's queries nor an evaluate can look at the page while its form is being sent;
   * the page's own script keeps running, and its reports arrive.)
   */
  const watchBusyForm = `addEventListener('DOMContentLoaded', () => {
    const form = document.getElementById('run-command');
    if (!form) return;
    const report = () => {
      const button = form.querySelector('button[type=submit]');
      const status = form.querySelector('.busy-status');
      window.reportBusy({ disabled: button.disabled, busy: button.classList.contains('busy'), ariaBusy: button.getAttribute('aria-busy'),
        role: status && status.getAttribute('role'), live: status && status.getAttribute('aria-live'), text: status && status.textContent,
        next: !!status && button.nextElementSibling === status });
    };
    new MutationObserver(report).observe(form, { subtree: true, childList: true, attributes: true, characterData: true });
  });
  addEventListener('pageshow', (event) => { window.restoredFromCache = event.persisted; });
  // Cleared on leaving, so a page restored from the history cache reads undefined until its own pageshow.
  addEventListener('pagehide', () => { window.restoredFromCache = undefined; });`;

  interface BusyState { disabled: boolean; busy: boolean; ariaBusy: string | null; role: string | null; live: string | null; text: string | null; next: boolean }

  it('disables the button, counts the seconds while the server works, and is usable again after Back', async () => {
    const { user, password } = await createAdminUser();
    admins.push(user.username);
    const { page, problems } = await loggedInPage({ browser, url: server.url }, user.username, password);
    const reports = new EventEmitter();
    await page.exposeFunction('reportBusy', (state: BusyState) => reports.emit('state', state));
    await page.addInitScript(watchBusyForm);
    await page.goto(`${server.url}/jobs`);
    await page.fill('#run-command-text', 'echo busy-button');
    await page.check('#run-confirm');

    // Resolves with the first report of a status that has counted a second or more.
    const counting = new Promise<BusyState>((resolve) => {
      const seen = (state: BusyState) => {
        if (!state.text || !/ [1-9]\d* s$/.test(state.text)) return;
        reports.off('state', seen);
        resolve(state);
      };
      reports.on('state', seen);
    });
    const arrived = once(arrivals, 'held');
    // The click waits for the navigation it starts, which waits for the held request.
    const clicked = page.click(button);
    await arrived;

    // Busy while the server works: disabled, marked, and a live status after the button that counts up.
    const state = await counting;
    expect(state).to.include({ disabled: true, busy: true, ariaBusy: 'true', role: 'status', live: 'polite', next: true });
    expect(state.text).to.match(/^Queuing the command… [1-9]\d* s$/);

    // The server answers: the job's status page.
    held.shift()!();
    await Promise.all([page.waitForURL(/\/status\/\d+$/), clicked]);
    const jobId = Number(new URL(page.url()).pathname.split('/').pop());
    const job = await testContext().db.models.Job.findByPk(jobId);
    expect(job?.command).to.equal('echo busy-button');

    // Back to the form: nothing is running for it any more, so nothing says so.
    // (A page restored from the history cache fires no load event: wait for its pageshow.)
    await page.goBack({ waitUntil: 'commit' });
    expect(page.url()).to.equal(`${server.url}/jobs`);
    await page.waitForFunction('window.restoredFromCache !== undefined');
    expect(await page.evaluate('window.restoredFromCache'), 'the page came back from the history cache').to.equal(true);
    await page.waitForSelector(`${button}:enabled`);
    expect(await page.$(`${button}.busy`)).to.equal(null);
    expect(await page.$('#run-command .busy-status')).to.equal(null);
    expect(problems).to.deep.equal([]);
  });
});
