import crypto from 'node:crypto';
import { expect } from 'chai';
import { createCredential } from '../factories/credentials.js';
import { createContainer, createNode } from '../factories/inventory.js';
import { createUser } from '../factories/users.js';
import { useApp } from '../support/app.js';
import { artifactPath, loggedInPage, useBrowserSite } from '../support/browser.js';
import { testContext } from '../support/context.js';

describe('pages in Chromium: the container inventory', function () {
  this.timeout(60_000);
  const fixture = useApp();
  const site = useBrowserSite(fixture);

  it('filters the list (state in the URL), opens a detail page and reveals a credential, with no CSP violation', async () => {
    const { user, password } = await createUser();
    const tag = `e2e${crypto.randomBytes(3).toString('hex')}`;
    const node = await createNode();
    const wanted = await createContainer({ username: user.username, tags: `${tag},web`, nodeId: node.id, vmid: 4242, purpose: 'the one we look for', status: 'running' });
    await createContainer({ username: user.username, tags: `${tag},db` });
    await createContainer({ username: user.username, tags: 'other' });
    const { password: secret } = await createCredential({ containerId: wanted.id, label: 'root', username: 'root' });

    const { page, problems } = await loggedInPage(site, user.username, password);

    // Filter: the search box narrows the user's three containers to the tagged web one; the URL carries the state.
    await page.goto(`${site.url}/containers`);
    expect(await page.$$('table tbody tr')).to.have.length.at.least(3);
    await page.fill('input[name=q]', tag);
    await Promise.all([page.waitForURL(/[?&]q=/), page.click('.inventory-filters button[type=submit]')]);
    expect(await page.$$('table tbody tr')).to.have.length(2);
    const filtered = page.url();
    expect(new URL(filtered).searchParams.get('q')).to.equal(tag);
    await page.screenshot({ path: artifactPath('inventory-list-filtered.png'), fullPage: true });

    // The same URL opened again (a bookmark) shows the same view.
    await page.goto(filtered);
    expect(await page.$$('table tbody tr')).to.have.length(2);

    // Detail page.
    await Promise.all([page.waitForURL(`${site.url}/containers/${wanted.id}`), page.click(`a[href="/containers/${wanted.id}"]`)]);
    expect(await page.textContent('main')).to.contain(wanted.hostname).and.contain('the one we look for');
    expect(await page.content()).not.to.contain(secret);
    await page.screenshot({ path: artifactPath('inventory-container-detail.png'), fullPage: true });

    // Reveal: a deliberate POST; the secret appears on the reveal page only, and the reveal is audited.
    await Promise.all([page.waitForURL(/\/reveal$/), page.click('#credentials button:has-text("Reveal")')]);
    expect(await page.inputValue('#revealed-password')).to.equal(secret);
    await page.screenshot({ path: artifactPath('inventory-credential-reveal.png'), fullPage: true });
    const events = await testContext().db.models.AuditEvent.findAll({ where: { action: 'credential.reveal', objectType: 'container', objectId: String(wanted.id) } });
    expect(events.map((e) => e.actor)).to.deep.equal([user.username]);
    expect(problems).to.deep.equal([]);
  });
});
