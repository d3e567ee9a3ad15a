import { expect } from 'chai';
import { createAdminUser } from '../factories/users.js';
import { useApp } from '../support/app.js';
import { artifactPath, loggedInPage, useBrowserSite } from '../support/browser.js';
import { insertShellJob, startRunner, waitForJob } from '../support/runner.js';

describe('pages in Chromium: job status', function () {
  this.timeout(60_000);
  const fixture = useApp({ JOB_STREAM_POLL_MS: '50' });
  const site = useBrowserSite(fixture);

  it('shows live output (stderr apart), the final status and exit code, with no CSP violation; cancel works', async () => {
    const { user, password } = await createAdminUser();
    const runner = await startRunner({ outputFlushMs: 20, cancelGraceSeconds: 1 });
    try {
      const { page, problems } = await loggedInPage(site, user.username, password);

      const id = await insertShellJob('for i in $(seq 1 30); do echo "out $i"; sleep 0.02; done; echo "<b>not html</b>" >&2; exit 2', { createdBy: user.username });
      await page.goto(`${site.url}/status/${id}`);
      await page.waitForSelector('#job[data-stream-ended="true"]', { timeout: 20_000 });
      expect(await page.textContent('#job-status')).to.equal('failure');
      expect(await page.textContent('#job-exit-code')).to.equal('2');
      expect(await page.textContent('#log')).to.contain('out 1\n').and.contain('out 30\n');
      expect(await page.textContent('#log .stderr')).to.equal('<b>not html</b>\n');
      expect(await page.$$('#log b')).to.have.length(0);
      expect(await page.$('#cancel-form')).to.equal(null);
      await page.screenshot({ path: artifactPath('job-status.png'), fullPage: true });

      const long = await insertShellJob('echo waiting; sleep 300', { createdBy: user.username });
      await page.goto(`${site.url}/status/${long}`);
      await page.waitForSelector('#log span:has-text("waiting")', { timeout: 15_000 });
      page.once('dialog', (d) => void d.accept());
      await page.click('#cancel-button');
      await page.waitForSelector('#job[data-stream-ended="true"]', { timeout: 20_000 });
      expect(await page.textContent('#job-status')).to.equal('cancelled');
      expect((await waitForJob(long)).status).to.equal('cancelled');
      expect(problems).to.deep.equal([]);
    } finally {
      await runner.close();
    }
  });
});
