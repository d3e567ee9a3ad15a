import crypto from 'node:crypto';
import { expect } from 'chai';
import { createNode } from '../factories/inventory.js';
import { createAdminUser } from '../factories/users.js';
import { useApp } from '../support/app.js';
import { artifactPath, loggedInPage, useBrowserSite } from '../support/browser.js';
import { testContext } from '../support/context.js';

describe('pages in Chromium: the audit log', function () {
  this.timeout(60_000);
  const fixture = useApp();
  const site = useBrowserSite(fixture);

  it('shows 50 events one line each (page height reported), with node names behind a details toggle', async () => {
    const { user, password } = await createAdminUser();
    const node = await createNode({ name: `pve-e2e-${crypto.randomBytes(3).toString('hex')}` });
    const actor = `e2e-audit-${crypto.randomBytes(3).toString('hex')}`;
    const { AuditEvent } = testContext().db.models;
    // 50 events like a busy day's: edits with several changed fields, long notes, a scheduled sync.
    await AuditEvent.bulkCreate(
      Array.from({ length: 50 }, (_, i) => ({
        actor,
        action: i % 5 === 0 ? 'container.bulk-update' : 'container.update',
        objectType: 'container',
        objectId: String(1000 + i),
        objectLabel: `web-${i}.lab.example.org`,
        changes: JSON.stringify({
          nodeId: { before: null, after: node.id },
          status: { before: 'stopped', after: 'running' },
          expiresAt: { before: '2026-12-31', after: '2027-06-30' },
          notes: { before: null, after: 'A long note that someone wrote about this container, '.repeat(4) },
          aiContainer: { before: false, after: true },
        }),
        requestId: `req-${i}`,
        ip: '10.1.2.3',
      })),
    );

    const { page, problems } = await loggedInPage(site, user.username, password);
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.goto(`${site.url}/audit?actor=${actor}&per=50`);
    expect(await page.locator('table.audit-table tbody tr').count()).to.equal(50);

    // Every row is one line: no row taller than about two lines of text.
    const rowHeights = await page.locator('table.audit-table tbody tr').evaluateAll((rows) => rows.map((r) => Math.round(r.getBoundingClientRect().height)));
    const height = (await page.evaluate('document.documentElement.scrollHeight')) as number;
    console.log(`      audit page, 50 events at 1280 px: ${height} px tall; rows ${Math.min(...rowHeights)}–${Math.max(...rowHeights)} px`);
    expect(Math.max(...rowHeights)).to.be.below(60);
    expect(height).to.be.below(3000);
    await page.screenshot({ path: artifactPath('audit-page-50-events.png'), fullPage: true });

    // The details toggle opens one event's changes, labelled as people know them.
    const first = page.locator('table.audit-table tbody tr').first();
    expect(await first.locator('.audit-changes').isVisible()).to.equal(false);
    await first.locator('summary').click();
    const changes = first.locator('.audit-changes');
    expect(await changes.isVisible()).to.equal(true);
    const shown = (await changes.innerText()).replace(/\s+/g, ' ');
    expect(shown).to.contain(`Node: — → ${node.name}`).and.contain('AI container: no → yes').and.contain('Expires: 2026-12-31 → 2027-06-30');
    expect(shown).not.to.contain('nodeId');
    await page.screenshot({ path: artifactPath('audit-page-details-open.png'), fullPage: false });

    // By keyboard: the summary is focusable and Enter toggles it.
    const second = page.locator('table.audit-table tbody tr').nth(1);
    await second.locator('summary').focus();
    await page.keyboard.press('Enter');
    expect(await second.locator('.audit-changes').isVisible()).to.equal(true);

    expect(problems).to.deep.equal([]);
  });
});
