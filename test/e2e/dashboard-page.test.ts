import crypto from 'node:crypto';
import { expect } from 'chai';
import { addDays, todayUtc } from '../../src/inventory/list-query.js';
import { createContainer } from '../factories/inventory.js';
import { createUser } from '../factories/users.js';
import { useApp } from '../support/app.js';
import { artifactPath, loggedInPage, useBrowserSite } from '../support/browser.js';

describe('pages in Chromium: the dashboard', function () {
  this.timeout(60_000);
  const fixture = useApp();
  const site = useBrowserSite(fixture);

  it("gives each number a link named by what it counts, which opens the list of exactly those rows", async () => {
    const { user, password } = await createUser({ username: `dash-e2e-${crypto.randomBytes(3).toString('hex')}` });
    const today = todayUtc();
    await createContainer({ username: user.username, expiresAt: addDays(today, 2) });
    await createContainer({ username: user.username, expiresAt: addDays(today, 5) });
    await createContainer({ username: user.username });

    const { page, problems } = await loggedInPage(site, user.username, password);
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.goto(`${site.url}/`);
    await page.screenshot({ path: artifactPath('dashboard-user.png'), fullPage: true });
    const link = page.getByRole('link', { name: '2 containers expiring within 7 days', exact: true });
    expect(await link.count()).to.equal(1);
    expect(await page.getByRole('link', { name: '3 containers', exact: true }).count()).to.equal(1);
    expect(await page.getByRole('link', { name: /nodes?$/ }).count(), 'no nodes count for a user').to.equal(0);

    await Promise.all([page.waitForURL(/\/containers\?expiring=7$/), link.click()]);
    expect(await page.locator('table tbody tr').count()).to.equal(2);
    expect(problems).to.deep.equal([]);
  });
});
