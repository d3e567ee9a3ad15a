// Keyboard only: no clicks. From the containers list, the skip link leads into the content, the
// filter works from the keyboard, a container opens, and on its page an action (with its
// confirmation) and the edit link work by keyboard. Every element the keyboard lands on shows a
// focus ring of at least 2 px.
import crypto from 'node:crypto';
import { expect } from 'chai';
import type { Page } from 'playwright-core';
import { createContainer, createNode, uniqueVmid } from '../factories/inventory.js';
import { createUser } from '../factories/users.js';
import { useApp } from '../support/app.js';
import { artifactPath, useBrowserSite } from '../support/browser.js';
import { testContext } from '../support/context.js';

interface Focused {
  tag: string;
  id: string;
  text: string;
  href: string | null;
  name: string | null;
  inMain: boolean;
  outlineStyle: string;
  outlineWidth: number;
  /** The focus ring is drawn in a colour other than transparent. */
  outlineColor: string;
}

/** What has the keyboard focus, and how its focus ring is drawn. */
async function focused(page: Page): Promise<Focused> {
  // Evaluated in the page as text: the tests' TypeScript has no DOM types.
  return page.evaluate<Focused>(`(() => {
    const el = document.activeElement;
    const style = getComputedStyle(el);
    return {
      tag: el.tagName.toLowerCase(),
      id: el.id,
      text: (el.textContent || '').trim().slice(0, 60),
      href: el.getAttribute('href'),
      name: el.getAttribute('name'),
      inMain: Boolean(el.closest('main')) && el.tagName !== 'MAIN',
      outlineStyle: style.outlineStyle,
      outlineWidth: parseFloat(style.outlineWidth),
      outlineColor: style.outlineColor,
    };
  })()`);
}

/** Fails unless the focused element shows a visible focus ring (solid or similar, ≥2 px, not transparent). */
function expectRing(f: Focused) {
  const what = `${f.tag}${f.id ? `#${f.id}` : ''} "${f.text || f.name || f.href}"`;
  expect(f.outlineStyle, `focus ring style of ${what}`).to.not.equal('none');
  expect(f.outlineWidth, `focus ring width of ${what}`).to.be.at.least(2);
  expect(f.outlineColor, `focus ring colour of ${what}`).to.not.match(/rgba\(\d+, \d+, \d+, 0\)|transparent/);
}

/**
 * Presses Tab until `wanted` says yes (at most `limit` times), checking the focus ring of every
 * element it passes; returns how many presses it took.
 */
async function tabTo(page: Page, wanted: (f: Focused) => boolean, limit: number, what: string): Promise<number> {
  for (let presses = 1; presses <= limit; presses++) {
    await page.keyboard.press('Tab');
    const f = await focused(page);
    if (f.tag !== 'body') expectRing(f);
    if (wanted(f)) return presses;
  }
  throw new Error(`${what}: not reached in ${limit} Tab presses`);
}

describe('keyboard only: the containers list and a container page', function () {
  this.timeout(60_000);
  const fixture = useApp();
  const site = useBrowserSite(fixture);

  it('skips to the content, filters, opens a container, runs an action after its confirmation and opens the edit form', async () => {
    const { user, password } = await createUser();
    const tag = `kb${crypto.randomBytes(3).toString('hex')}`;
    const node = await createNode();
    const wanted = await createContainer({ username: user.username, tags: tag, nodeId: node.id, vmid: uniqueVmid(), status: 'running', managed: true });
    await createContainer({ username: user.username, tags: 'other' });
    const page = await site.browser.newPage({ viewport: { width: 1280, height: 800 } });
    const problems: string[] = [];
    page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
    page.on('pageerror', (e) => problems.push(e.message));

    // Sign in with the keyboard: type, Tab, type, Enter.
    await page.goto(`${site.url}/login`);
    await page.focus('#username');
    await page.keyboard.type(user.username);
    await page.focus('#password');
    await page.keyboard.type(password);
    await Promise.all([page.waitForURL(`${site.url}/`), page.keyboard.press('Enter')]);

    // The skip link is the first stop, visible when focused; Enter moves focus to <main>, and the next
    // Tab is inside the content: 2 presses instead of walking the whole sidebar.
    await page.goto(`${site.url}/containers`);
    await page.keyboard.press('Tab');
    const skip = await focused(page);
    expect(skip.text).to.equal('Skip to content');
    expectRing(skip);
    const box = await page.locator('a.skip-link').boundingBox();
    expect(box && box.y >= 0 && box.height > 10, 'the skip link is on screen when focused').to.equal(true);
    await page.keyboard.press('Enter');
    expect((await focused(page)).id).to.equal('main');
    await page.keyboard.press('Tab');
    expect((await focused(page)).inMain, 'the second Tab lands in the main content').to.equal(true);

    // The search box, reached by keyboard; Enter submits the filter (state in the URL).
    await tabTo(page, (f) => f.name === 'q', 15, 'the search box');
    await page.keyboard.type(tag);
    await Promise.all([page.waitForURL(/[?&]q=/), page.keyboard.press('Enter')]);
    expect(new URL(page.url()).searchParams.get('q')).to.equal(tag);
    expect(await page.locator('main table tbody tr').count()).to.equal(1);

    // The container's link in the table, then Enter opens it.
    await page.keyboard.press('Tab'); // from <body> after the navigation: the skip link
    await tabTo(page, (f) => f.href === `/containers/${wanted.id}`, 60, 'the container link');
    await Promise.all([page.waitForURL(`${site.url}/containers/${wanted.id}`), page.keyboard.press('Enter')]);
    await page.screenshot({ path: artifactPath('keyboard-container-detail.png'), fullPage: true });

    // Reboot: Space presses the focused button; the confirmation is accepted (a native dialog, which
    // the browser, not the page, owns) and the job's status page follows.
    const dialogs: string[] = [];
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.accept();
    });
    await tabTo(page, (f) => f.tag === 'button' && f.text === 'Reboot', 60, 'the Reboot button');
    await Promise.all([page.waitForURL(/\/status\/\d+$/), page.keyboard.press('Space')]);
    expect(dialogs).to.deep.equal([`Reboot ${wanted.hostname}?`]);
    const jobId = Number(page.url().split('/').pop());
    const job = await testContext().db.models.Job.findByPk(jobId);
    expect(job?.task).to.match(/reboot/);
    expect(job?.createdBy).to.equal(user.username);

    // Back on the container page: the Edit link opens the edit form by keyboard.
    await page.goto(`${site.url}/containers/${wanted.id}`);
    await tabTo(page, (f) => f.href === `/containers/${wanted.id}/edit`, 60, 'the Edit link');
    await Promise.all([page.waitForURL(`${site.url}/containers/${wanted.id}/edit`), page.keyboard.press('Enter')]);
    expect(await page.locator('main form').count()).to.be.at.least(1);
    expect(problems).to.deep.equal([]);
  });
});
