import fs from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Express } from 'express';
import { chromium, type Browser, type Page } from 'playwright-core';
import { projectRoot } from '../../src/lib/paths.js';
import { findChromium } from '../setup.js';
import { track } from './resources.js';

/**
 * Headless Chromium (BERTH_CHROMIUM, else the usual install paths: test/setup.js, which `npm test`
 * runs first, installs Debian's), with no network chatter (the machine has no internet); with
 * `historyCache`, pages left are kept in the back/forward cache as in a person's browser.
 */
export async function launchBrowser(options: { historyCache?: boolean } = {}): Promise<Browser> {
  const executablePath = findChromium();
  if (!executablePath) throw new Error('No Chromium found: run `node test/setup.js` (installs it on Debian) or set BERTH_CHROMIUM.');
  const browser = await chromium.launch({
    executablePath,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
    // Playwright turns the back/forward cache off; a test of what Back restores turns it on again.
    ...(options.historyCache ? { ignoreDefaultArgs: ['--disable-back-forward-cache'] } : {}),
  });
  const untrack = track('chromium', () => browser.close());
  const close = browser.close.bind(browser);
  browser.close = async () => {
    await untrack();
    await close();
  };
  return browser;
}

/** Serves `app` on a free loopback port; tracked until closed. */
export async function serve(app: Express): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const close = track(`http server ${url}`, () => new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  }));
  return { url, close };
}

/** Where page tests save screenshots (kept by CI as artifacts). */
export function artifactPath(name: string): string {
  const dir = path.join(projectRoot, 'test-artifacts');
  fs.mkdirSync(dir, { recursive: true });
  return path.join(dir, name);
}

export interface BrowserSite {
  browser: Browser;
  url: string;
}

/**
 * A new page logged in as `username` through the real login form, collecting console errors and page
 * errors (a CSP violation shows up as one) into `problems`.
 */
export async function loggedInPage(site: BrowserSite, username: string, password: string): Promise<{ page: Page; problems: string[] }> {
  const page = await site.browser.newPage();
  const problems: string[] = [];
  page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
  page.on('pageerror', (e) => problems.push(e.message));
  await page.goto(`${site.url}/login`);
  await page.fill('#username', username);
  await page.fill('#password', password);
  await Promise.all([page.waitForURL(`${site.url}/`), page.click('button[type=submit]')]);
  return { page, problems };
}

/**
 * For a describe() of page tests: a fresh Chromium and the fixture's app served on loopback before
 * each test, both closed after it. Read `site.browser` and `site.url` inside the tests.
 */
export function useBrowserSite(fixture: { app: Express }): BrowserSite {
  const site = {} as BrowserSite;
  let server: { url: string; close(): Promise<void> } | undefined;
  beforeEach(async () => {
    site.browser = await launchBrowser();
    server = await serve(fixture.app);
    site.url = server.url;
  });
  afterEach(async () => {
    await site.browser.close();
    await server?.close();
  });
  return site;
}
