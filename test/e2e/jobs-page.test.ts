import crypto from 'node:crypto';
import { expect } from 'chai';
import { createAdminUser, createUser } from '../factories/users.js';
import { useApp } from '../support/app.js';
import { artifactPath, loggedInPage, useBrowserSite } from '../support/browser.js';
import { testContext } from '../support/context.js';
import { startRunner } from '../support/runner.js';

/** The page's problems, less the console's note of the expected 422 (a refused form is answered 422 on purpose). */
const unexpected = (problems: string[]) => problems.filter((p) => !/^Failed to load resource: .* status of 422\b/.test(p));

describe('pages in Chromium: the jobs page', function () {
  this.timeout(60_000);
  const fixture = useApp({ JOB_STREAM_POLL_MS: '50' });
  const site = useBrowserSite(fixture);

  it('an admin runs a command from the page: refused until confirmed, then queued, run and followed live', async () => {
    const { user, password } = await createAdminUser();
    const marker = `from-the-page-${crypto.randomBytes(4).toString('hex')}`;
    const command = `echo ${marker}`;
    const { page, problems } = await loggedInPage(site, user.username, password);
    await page.goto(`${site.url}/jobs`);
    expect(await page.textContent('#run-command')).to.contain("runs a shell on the job runner's host, as the runner's user");

    // Not confirmed: the form comes back with the box marked and the command kept; nothing is queued.
    await page.fill('#run-command-text', command);
    await Promise.all([page.waitForURL(`${site.url}/jobs/command`), page.click('#run-command button[type=submit]')]);
    expect(await page.getAttribute('#run-confirm', 'aria-invalid')).to.equal('true');
    expect(await page.textContent('#run-confirm-error')).to.contain('Tick the box to confirm');
    expect(await page.inputValue('#run-command-text')).to.equal(command);
    expect(await page.isChecked('#run-confirm')).to.equal(false);
    expect(await testContext().db.models.Job.count({ where: { command } })).to.equal(0);
    await page.screenshot({ path: artifactPath('jobs-run-command-refused.png'), fullPage: true });

    // Confirmed: the job's status page, which follows the job once a runner takes it.
    await page.check('#run-confirm');
    await Promise.all([page.waitForURL(/\/status\/\d+$/), page.click('#run-command button[type=submit]')]);
    expect(await page.textContent('main')).to.contain('queued');
    const runner = await startRunner({ outputFlushMs: 20 });
    try {
      await page.waitForSelector('#job[data-stream-ended="true"]', { timeout: 20_000 });
    } finally {
      await runner.close();
    }
    expect(await page.textContent('#job-status')).to.equal('success');
    expect(await page.textContent('#log')).to.equal(`${marker}\n`);
    const [job] = await testContext().db.models.Job.findAll({ where: { command } });
    expect(job).to.include({ createdBy: user.username, status: 'success' });

    // The list shows it.
    await page.goto(`${site.url}/jobs`);
    expect(await page.textContent('.table-scroll')).to.contain(command);
    await page.screenshot({ path: artifactPath('jobs-list.png'), fullPage: true });
    expect(unexpected(problems)).to.deep.equal([]);
  });

  it('a refused filter is shown on the filter itself, and ordinary users get no "Run command" form', async () => {
    const { user, password } = await createUser();
    const { page, problems } = await loggedInPage(site, user.username, password);
    const res = await page.goto(`${site.url}/jobs?status=bogus`);
    expect(res?.status()).to.equal(422);
    expect(await page.getAttribute('#status', 'aria-invalid')).to.equal('true');
    expect(await page.getAttribute('#status', 'aria-describedby')).to.equal('status-error');
    expect(await page.textContent('#status-error')).to.contain('Choose one of');
    expect(await page.$('#run-command')).to.equal(null);

    // Choosing a status from the (labelled) filter works again.
    await page.getByLabel('Status', { exact: true }).selectOption('success');
    await Promise.all([page.waitForURL(/status=success/), page.click('form[action="/jobs"] button[type=submit]')]);
    expect(await page.getAttribute('#status', 'aria-invalid')).to.equal(null);
    expect(unexpected(problems)).to.deep.equal([]);
  });
});
