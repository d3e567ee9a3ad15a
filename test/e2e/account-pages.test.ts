import { expect } from 'chai';
import { createUser } from '../factories/users.js';
import { useApp } from '../support/app.js';
import { artifactPath, useBrowserSite } from '../support/browser.js';

describe('pages in Chromium: account request form and API tokens', function () {
  this.timeout(60_000);
  const fixture = useApp();
  const site = useBrowserSite(fixture);

  it('sends an account request from the login page, with field errors first', async () => {
    await createUser();
    const page = await site.browser.newPage();
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(e.message));
    await page.goto(`${site.url}/login`);
    await Promise.all([page.waitForURL(`${site.url}/register`), page.click('text=Request one')]);
    await page.fill('#name', 'Eve Example');
    await page.fill('#email', 'not-an-address');
    await page.fill('#username', 'eve.example');
    await page.fill('#reason', 'Testing the request form');
    await page.click('button[type=submit]');
    expect(await page.textContent('.field-error')).to.equal('Enter a valid email address.');
    expect(await page.inputValue('#username')).to.equal('eve.example');
    await page.fill('#email', 'eve@example.org');
    await page.click('button[type=submit]');
    expect(await page.textContent('h1')).to.equal('Request sent');
    await page.screenshot({ path: artifactPath('account-request-sent.png'), fullPage: true });
    expect(problems).to.deep.equal([]);
  });

  it('creates an API token shown once, then revokes it after confirming', async () => {
    const { user, password } = await createUser();
    const page = await site.browser.newPage();
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(e.message));
    page.on('dialog', (d) => void d.accept());
    await page.goto(`${site.url}/login`);
    await page.fill('#username', user.username);
    await page.fill('#password', password);
    await Promise.all([page.waitForURL(`${site.url}/`), page.click('button[type=submit]')]);
    await Promise.all([page.waitForURL(`${site.url}/tokens`), page.click('nav >> text=API tokens')]);
    await page.fill('#name', 'backup script');
    await page.selectOption('#scope', 'read');
    await page.fill('#expiresInDays', '7');
    await page.click('text=Create token');
    const token = (await page.textContent('#new-token')) ?? '';
    expect(token).to.match(/^berth_[A-Za-z0-9_-]{43}$/);
    await page.screenshot({ path: artifactPath('api-token-created.png'), fullPage: true });
    // The token works as a bearer token.
    const res = await fetch(`${site.url}/account`, { headers: { Authorization: `Bearer ${token}`, Accept: 'application/json' } });
    expect(res.status).to.equal(200);
    await page.goto(`${site.url}/tokens`);
    expect(await page.content()).not.to.contain(token);
    await page.click('text=Revoke');
    await page.waitForSelector('text=revoked');
    const after = await fetch(`${site.url}/account`, { headers: { Authorization: `Bearer ${token}`, Accept: 'application/json' } });
    expect(after.status).to.equal(401);
    expect(problems).to.deep.equal([]);
  });
});
