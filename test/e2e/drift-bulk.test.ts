// The drift page in Chromium: "select all" on the unknown machines, one owner, "Import selected",
// the confirmation page naming the count and the owner, and the import; "select all" on the records
// gone from Proxmox and "Forget selected"; no CSP violation.
import { expect } from 'chai';
import { createApp } from '../../src/app.js';
import { createLogger } from '../../src/lib/logger.js';
import { createContainer } from '../factories/inventory.js';
import { createAdminUser, createUser } from '../factories/users.js';
import { artifactPath, launchBrowser, loggedInPage, serve } from '../support/browser.js';
import { withFreshDatabase } from '../support/databases.js';
import { unknownMachines } from '../integration/inventory/drift-bulk-fixture.js';

describe('pages in Chromium: bulk import on the drift page', function () {
  this.timeout(120_000);

  it('selects all unknown machines and imports them with one owner through the page', async () => {
    // A database of its own: "select all" means every unknown machine, and the run's database holds other tests' machines.
    await withFreshDatabase(async (db, config) => {
      const { app, stop } = createApp({ config, logger: createLogger('silent'), sequelize: db.sequelize, models: db.models });
      const server = await serve(app);
      const browser = await launchBrowser();
      try {
        const admin = await createAdminUser();
        const owner = (await createUser()).user.username;
        await unknownMachines(40);
        await unknownMachines(12, { kind: 'qemu' });
        await unknownMachines(2, { node: 'notregistered1' });

        const { page, problems } = await loggedInPage({ browser, url: server.url }, admin.user.username, admin.password);
        await page.goto(`${server.url}/inventory/drift`);
        expect(await page.$$('#unknown tbody tr')).to.have.length(54);
        // Rows on an unregistered node have no box: they cannot be imported.
        expect(await page.$$('#unknown tbody input[type=checkbox]')).to.have.length(52);
        await page.check('[data-select-all="machines"]');
        expect(await page.textContent('#drift-import-form [data-selected-count]')).to.equal('52 selected');
        await page.fill('#drift-import-form input[name=username]', owner);
        await Promise.all([page.waitForURL(`${server.url}/inventory/drift/import-bulk`), page.click('#drift-import-form button[type=submit]')]);
        expect(await page.textContent('h1')).to.equal('Import 52 machines?');
        const button = `button:has-text("Import 52 machines owned by ${owner}")`;
        await page.screenshot({ path: artifactPath('drift-bulk-confirm.png'), fullPage: true });
        expect(await db.models.Container.count()).to.equal(0);

        await Promise.all([page.waitForURL(`${server.url}/inventory/drift`), page.click(button)]);
        expect(await page.textContent('main')).to.contain(`Imported 52 machines owned by ${owner}.`);
        expect(await page.$$('#unknown tbody tr')).to.have.length(2);
        expect(await db.models.Container.count({ where: { username: owner } })).to.equal(40);
        expect(await db.models.VirtualMachine.count({ where: { username: owner } })).to.equal(12);
        expect(await db.models.AuditEvent.count({ where: { action: ['container.create', 'vm.create'], actor: admin.user.username } })).to.equal(52);
        await page.screenshot({ path: artifactPath('drift-bulk-done.png'), fullPage: true });

        // Records gone from Proxmox: the select-all box (a plain all=1 box), Forget, confirmed.
        const gone = await Promise.all([1, 2, 3].map(() => createContainer({ drift: JSON.stringify({ gone: true }) })));
        await page.goto(`${server.url}/inventory/drift`);
        await page.check('[data-select-all="records"]');
        expect(await page.textContent('#drift-gone-form [data-selected-count]')).to.equal('3 selected');
        await Promise.all([page.waitForURL(`${server.url}/inventory/drift/forget`), page.click('#drift-gone-form button:has-text("Forget selected")')]);
        expect(await page.textContent('h1')).to.equal('Forget 3 records?');
        await Promise.all([page.waitForURL(`${server.url}/inventory/drift`), page.click('button:has-text("Forget 3 records")')]);
        expect(await page.textContent('main')).to.contain('Forgot 3 records');
        expect(await db.models.Container.count({ where: { id: gone.map((c) => c.id) } })).to.equal(0);
        expect(problems).to.deep.equal([]);
      } finally {
        await browser.close();
        await server.close();
        await stop();
      }
    });
  });
});
