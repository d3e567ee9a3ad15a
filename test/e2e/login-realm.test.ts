import { expect } from 'chai';
import type { Express } from 'express';
import { createUser } from '../factories/users.js';
import { buildApp, type BuiltApp } from '../integration/accounts/build-app.js';
import { useBrowserSite } from '../support/browser.js';
import { clearLoginFailures } from '../support/login.js';
import { startSim, type StartedSim } from '../support/pve-sim.js';

describe('pages in Chromium: login with Proxmox configured', function () {
  this.timeout(60_000);
  let sim: StartedSim;
  let built: BuiltApp;
  const fixture = {} as { app: Express };
  // Registered before useBrowserSite's hook, so the app exists when it is served.
  beforeEach(async () => {
    await clearLoginFailures('alice@pve');
    sim = await startSim();
    built = buildApp({ PROXMOX_URL: sim.url });
    fixture.app = built.app;
  });
  const site = useBrowserSite(fixture);
  afterEach(async () => {
    await built.stop();
    await sim.close();
  });

  it('logs a local admin in with the form defaults, and names the realm tried when a login fails', async () => {
    const { user, password } = await createUser({ role: 'admin' });
    const page = await site.browser.newPage();
    await page.goto(`${site.url}/login`);
    // The node offers pam and pve (pve is its default), yet the form starts on Berth (local).
    expect(await page.inputValue('#realm')).to.equal('local');
    expect(await page.locator('#realm option').allTextContents()).to.include.members(['Berth (local)']);

    await page.fill('#username', user.username);
    await page.fill('#password', 'not-the-password');
    await page.click('button[type=submit]');
    expect(await page.textContent('.alert-error')).to.contain('Invalid username or password. Tried: Berth (local) accounts.');

    await page.fill('#password', password);
    await Promise.all([page.waitForURL(`${site.url}/`), page.click('button[type=submit]')]);
    expect(await page.textContent('h1')).to.equal('Dashboard');
  });

  it('remembers a Proxmox user\'s realm for their next login in this browser', async () => {
    const page = await site.browser.newPage();
    await page.goto(`${site.url}/login`);
    await page.fill('#username', 'alice');
    await page.fill('#password', 'wrong-password');
    await page.selectOption('#realm', 'pve');
    await page.click('button[type=submit]');
    expect(await page.textContent('.alert-error')).to.contain('Tried: Proxmox realm pve.');
    await page.fill('#password', 'alicepass123');
    await Promise.all([page.waitForURL(`${site.url}/`), page.click('button[type=submit]')]);
    await Promise.all([page.waitForURL(`${site.url}/login`), page.click('text=Log out')]);
    expect(await page.inputValue('#realm')).to.equal('pve');
  });
});
