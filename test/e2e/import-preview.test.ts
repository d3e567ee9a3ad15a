import crypto from 'node:crypto';
import { expect } from 'chai';
import { createAdminUser } from '../factories/users.js';
import { useApp } from '../support/app.js';
import { artifactPath, loggedInPage, useBrowserSite } from '../support/browser.js';

describe('pages in Chromium: the CSV import dry run', function () {
  this.timeout(60_000);
  const fixture = useApp();
  const site = useBrowserSite(fixture);

  it('shows the totals as a list apart from the table, and the table in its scrolling region', async () => {
    const { user, password } = await createAdminUser();
    const tag = crypto.randomBytes(3).toString('hex');
    const csv = `hostname,purpose\npreview-a-${tag}.example.org,first\npreview-b-${tag}.example.org,second\n`;
    const { page, problems } = await loggedInPage(site, user.username, password);
    await page.goto(`${site.url}/containers/import`);
    await page.setInputFiles('#file', { name: 'preview.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
    await Promise.all([page.waitForURL(/\/containers\/import\/\d+$/), page.click('form[enctype] button[type=submit]')]);

    const totals = page.getByRole('list', { name: 'Totals' });
    expect((await totals.textContent())?.replace(/\s+/g, ' ').trim()).to.equal('2 to create 0 to update 0 unchanged 0 with errors');
    const list = (await totals.boundingBox())!;
    const table = (await page.locator('.table-scroll table.import-plan').boundingBox())!;
    // Apart: the table starts below the totals, with room between them (the complaint: they touched).
    expect(table.y - (list.y + list.height)).to.be.at.least(8);
    expect(await page.getAttribute('.table-scroll', 'role')).to.equal('region');
    for (const th of await page.$$('.import-plan th')) expect((await th.textContent())?.trim()).to.not.equal('');
    expect(await page.getAttribute('form[action$="/apply"]', 'data-busy')).to.equal('Importing…');
    await page.screenshot({ path: artifactPath('import-preview.png'), fullPage: true });
    expect(problems).to.deep.equal([]);
  });
});
