// The drift page in Chromium when it lists only the first records with drift: ticking every listed
// gone record takes those records (not "all"), and "all" is taken only from the select-all box.
import { expect } from 'chai';
import { createApp } from '../../src/app.js';
import { createLogger } from '../../src/lib/logger.js';
import { createContainer, createVm } from '../factories/inventory.js';
import { createAdminUser } from '../factories/users.js';
import { launchBrowser, loggedInPage, serve } from '../support/browser.js';
import { withFreshDatabase } from '../support/databases.js';
import { driftedVms } from '../integration/inventory/drift-bulk-fixture.js';

describe('pages in Chromium: the drift page\'s gone records beyond its window', function () {
  this.timeout(180_000);

  it('sends the ticked boxes, not all=1, when every listed box is ticked but more records are gone', async () => {
    await withFreshDatabase(async (db, config) => {
      const { app, stop } = createApp({ config, logger: createLogger('silent'), sequelize: db.sequelize, models: db.models });
      const server = await serve(app);
      const browser = await launchBrowser();
      try {
        const admin = await createAdminUser();
        const gone = JSON.stringify({ gone: true });
        const listed = await Promise.all([1, 2].map(() => createContainer({ drift: gone })));
        await driftedVms(1000);
        const hidden = await createVm({ drift: gone });

        const { page, problems } = await loggedInPage({ browser, url: server.url }, admin.user.username, admin.password);
        await page.goto(`${server.url}/inventory/drift`);
        const rows = 'input[type=checkbox][name="records"][form="drift-gone-form"]';
        expect(await page.$$(rows)).to.have.length(2);
        expect(await page.$(`${rows}[value="vm/${hidden.id}"]`)).to.equal(null);
        for (const c of listed) await page.check(`${rows}[value="container/${c.id}"]`);
        expect(await page.isChecked('[data-select-all="records"]')).to.equal(false);
        expect(await page.textContent('#drift-gone-form [data-selected-count]')).to.equal('2 selected');
        await Promise.all([page.waitForURL(`${server.url}/inventory/drift/forget`), page.click('#drift-gone-form button:has-text("Forget selected")')]);
        expect(await page.textContent('h1')).to.equal('Forget 2 records?');
        expect(await page.textContent('main')).not.to.contain(hidden.name);

        // The select-all box itself: every gone record, the one not listed too; unticking a row takes it back.
        await page.goto(`${server.url}/inventory/drift`);
        await page.check('[data-select-all="records"]');
        expect(await page.textContent('#drift-gone-form [data-selected-count]')).to.equal('All selected (more than are listed)');
        await page.uncheck(`${rows}[value="container/${listed[0].id}"]`);
        expect(await page.isChecked('[data-select-all="records"]')).to.equal(false);
        await page.check(`${rows}[value="container/${listed[0].id}"]`);
        expect(await page.isChecked('[data-select-all="records"]')).to.equal(false);
        await page.check('[data-select-all="records"]');
        await Promise.all([page.waitForURL(`${server.url}/inventory/drift/forget`), page.click('#drift-gone-form button:has-text("Forget selected")')]);
        expect(await page.textContent('h1')).to.equal('Forget 3 records?');
        expect(await page.textContent('main')).to.contain(hidden.name);
        await Promise.all([page.waitForURL(`${server.url}/inventory/drift`), page.click('button:has-text("Forget 3 records")')]);
        expect(await db.models.Container.count({ where: { id: listed.map((c) => c.id) } })).to.equal(0);
        expect(await db.models.VirtualMachine.count({ where: { id: hidden.id } })).to.equal(0);
        expect(problems).to.deep.equal([]);
      } finally {
        await browser.close();
        await server.close();
        await stop();
      }
    });
  });
});
