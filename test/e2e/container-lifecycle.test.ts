import crypto from 'node:crypto';
import { expect } from 'chai';
import { createUser } from '../factories/users.js';
import { useApp } from '../support/app.js';
import { artifactPath, loggedInPage, useBrowserSite } from '../support/browser.js';
import { testContext } from '../support/context.js';
import { startProvisioningWorld, type ProvisioningWorld } from '../integration/provisioning/world.js';

describe('pages in Chromium: a user creates, stops and deletes a container', function () {
  this.timeout(120_000);
  const fixture = useApp({ JOB_STREAM_POLL_MS: '50' });
  const site = useBrowserSite(fixture);
  let w: ProvisioningWorld;

  // Per test: the suite's hooks check that each test leaves nothing running.
  beforeEach(async () => {
    w = await startProvisioningWorld({ pool: { from: 20, to: 30 } });
  });
  afterEach(async () => {
    await w.cleanup();
  });

  /** Follows the status page the form led to until its stream ends; returns the final status. */
  async function watchJob(page: import('playwright-core').Page, name: string): Promise<string> {
    await page.waitForURL(/\/status\/\d+$/, { timeout: 15_000 });
    await page.waitForSelector('#job[data-stream-ended="true"]', { timeout: 60_000 });
    await page.screenshot({ path: artifactPath(`container-${name}.png`), fullPage: true });
    return (await page.textContent('#job-status')) ?? '';
  }

  it('takes an ordinary user from the form through the live log to a running container, then stops and deletes it', async () => {
    const { user, password } = await createUser();
    const { page, problems } = await loggedInPage(site, user.username, password);
    const hostname = `e2e-${crypto.randomBytes(3).toString('hex')}.example.org`;

    await page.goto(`${site.url}/containers/new`);
    await page.fill('#hostname', hostname);
    await page.selectOption('#osRelease', 'Ubuntu 24.04');
    await page.fill('#memoryMb', '256');
    await page.screenshot({ path: artifactPath('container-new-form.png'), fullPage: true });
    await page.click('button[type="submit"]:has-text("Create container")');
    expect(await watchJob(page, 'create')).to.equal('success');
    const log = (await page.textContent('#log')) ?? '';
    expect(log).to.contain('1/6').and.contain('6/6').and.contain('extracting archive');

    const { models } = testContext().db;
    const row = (await models.Container.findOne({ where: { hostname } }))!;
    expect(row).to.include({ status: 'running', username: user.username, nodeId: w.n1.id });
    expect(row.ipv4Address).to.equal(w.ip('10.20.0.20'));

    await page.goto(`${site.url}/containers/${row.id}`);
    expect(await page.textContent('#lifecycle')).to.contain('Stop (hard)');
    page.once('dialog', (d) => void d.accept());
    await page.click('#lifecycle button:has-text("Stop (hard)")');
    expect(await watchJob(page, 'stop')).to.equal('success');
    expect((await row.reload()).status).to.equal('stopped');

    await page.goto(`${site.url}/containers/${row.id}`);
    expect(await page.textContent('#lifecycle')).to.contain('Start');
    await page.check('#delete input[name="confirm"]');
    page.once('dialog', (d) => void d.accept());
    await page.click('#delete button:has-text("Delete container")');
    expect(await watchJob(page, 'delete')).to.equal('success');
    expect(await models.Container.findByPk(row.id)).to.equal(null);
    expect(w.s.sim.core.state.guests.has(row.vmid!)).to.equal(false);
    expect(problems).to.deep.equal([]);
  });
});
