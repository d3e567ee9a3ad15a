import { expect } from 'chai';
import { createUser } from '../factories/users.js';
import { useApp } from '../support/app.js';
import { artifactPath, useBrowserSite } from '../support/browser.js';

describe('pages in Chromium: login and dashboard', function () {
  this.timeout(60_000);
  const fixture = useApp();
  const site = useBrowserSite(fixture);

  for (const colorScheme of ['light', 'dark'] as const) {
    it(`logs in through the form and shows the dashboard with no CSP violation (${colorScheme})`, async () => {
      const { user, password } = await createUser({ role: 'admin' });
      const page = await site.browser.newPage({ colorScheme });
      const problems: string[] = [];
      page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
      page.on('pageerror', (e) => problems.push(e.message));

      await page.goto(`${site.url}/`);
      expect(new URL(page.url()).pathname).to.equal('/login');
      await page.fill('#username', user.username);
      await page.fill('#password', password);
      await Promise.all([page.waitForURL(`${site.url}/`), page.click('button[type=submit]')]);

      expect(await page.textContent('h1')).to.equal('Dashboard');
      expect(await page.textContent('.topbar-user')).to.contain(user.username).and.contain('admin');
      // The stylesheet loaded under the CSP: the sidebar is laid out as a grid column.
      // Evaluated in the page (a string: the test's own TypeScript has no DOM types).
      const columns: string = await page.evaluate("getComputedStyle(document.querySelector('.shell')).gridTemplateColumns");
      expect(columns.split(' ')).to.have.length(2);
      const background: string = await page.evaluate('getComputedStyle(document.body).backgroundColor');
      expect(background).to.equal(colorScheme === 'dark' ? 'rgb(30, 30, 30)' : 'rgb(242, 242, 242)');
      await page.screenshot({ path: artifactPath(`dashboard-${colorScheme}.png`), fullPage: true });
      expect(problems).to.deep.equal([]);

      await Promise.all([page.waitForURL(`${site.url}/login`), page.click('text=Log out')]);
      expect(await page.textContent('h1')).to.equal('Log in to Berth');
    });
  }
});
