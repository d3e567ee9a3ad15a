// The honest state of a record in Chromium (issue 16): a record the last sync did not find shows
// `unknown` (not a green "running") in the list and on its page, with a warning (role=alert,
// error-styled, not the info box) linking to the drift page, and "last seen" is when Proxmox last
// confirmed it; a confirmed record shows its status with its age.
import { expect } from 'chai';
import { createContainer, createNode } from '../factories/inventory.js';
import { createUser } from '../factories/users.js';
import { useApp } from '../support/app.js';
import { artifactPath, loggedInPage, useBrowserSite } from '../support/browser.js';

describe('pages in Chromium: the state Berth knows of a record', function () {
  this.timeout(60_000);
  const fixture = useApp();
  const site = useBrowserSite(fixture);

  it('shows a gone record as unknown with a warning that links to the drift page, and a confirmed one with its age', async () => {
    const { user, password } = await createUser({ role: 'admin' });
    const node = await createNode();
    const seen = new Date(Date.now() - 3 * 3_600_000);
    const missed = new Date(Date.now() - 10 * 60_000);
    const gone = await createContainer({ username: user.username, nodeId: node.id, vmid: 4301, status: 'running', syncedAt: seen, drift: JSON.stringify({ gone: true, missedAt: missed.toISOString() }) });
    const fine = await createContainer({ username: user.username, nodeId: node.id, vmid: 4302, status: 'running', syncedAt: new Date(Date.now() - 5 * 60_000) });
    const { page, problems } = await loggedInPage(site, user.username, password);

    await page.goto(`${site.url}/containers?node=${node.id}`);
    const stateOf = async (id: number) => (await page.locator('tr', { has: page.locator(`a[href="/containers/${id}"]`) }).locator('td.record-state').innerText()).replace(/\s+/g, ' ').trim();
    expect(await stateOf(gone.id)).to.match(/^unknown not found by the sync of \d{4}-\d\d-\d\d \d\d:\d\d UTC; Berth had running$/);
    expect(await stateOf(fine.id)).to.equal('running seen 5 min ago');
    // Not green: the unknown badge uses the muted colour, not the running one.
    // Strings, not functions: this project's TypeScript has no DOM types (the code runs in the page).
    const colour = (selector: string) => page.evaluate<string>(`getComputedStyle(document.querySelector(${JSON.stringify(selector)})).color`);
    const goneRow = `tr:has(a[href="/containers/${gone.id}"]) td.record-state .status`;
    const fineRow = `tr:has(a[href="/containers/${fine.id}"]) td.record-state .status`;
    expect(await colour(goneRow)).not.to.equal(await colour(fineRow));
    await page.screenshot({ path: artifactPath('sync-state-list.png'), fullPage: true });

    await page.goto(`${site.url}/containers/${gone.id}`);
    const warning = page.getByRole('alert').filter({ hasText: 'Gone from Proxmox' });
    expect(await warning.count()).to.equal(1);
    expect(await warning.innerText()).to.include(`did not find this container on ${node.name} (VMID 4301)`).and.include('Its state is unknown: Berth last saw it running on');
    // Styled as a warning (the error box), not the light-blue information box of field drift.
    const [alertBg, infoBg] = await page.evaluate<[string, string]>(`(() => {
      const probe = document.createElement('div');
      probe.className = 'alert alert-info';
      document.body.append(probe);
      const info = getComputedStyle(probe).backgroundColor;
      probe.remove();
      return [getComputedStyle(document.querySelector('.drift-gone')).backgroundColor, info];
    })()`);
    expect(alertBg).not.to.equal(infoBg);
    expect(await page.locator('h1 .status').innerText()).to.equal('unknown');
    expect(await page.locator('td.record-seen').innerText()).to.match(/ UTC \(3 h ago\)$/);
    await page.screenshot({ path: artifactPath('sync-state-gone-record.png'), fullPage: true });

    // The link leads to the drift page.
    await Promise.all([page.waitForURL(`${site.url}/inventory/drift`), warning.getByRole('link', { name: 'Review it on the drift page' }).click()]);

    await page.goto(`${site.url}/containers/${fine.id}`);
    expect(await page.getByRole('alert').filter({ hasText: 'Gone from Proxmox' }).count()).to.equal(0);
    expect((await page.locator('td.record-state').innerText()).replace(/\s+/g, ' ').trim()).to.equal('running seen 5 min ago');
    expect(problems).to.deep.equal([]);
  });
});
