// A walk over every page Berth renders, in headless Chromium: as an admin, as an ordinary user and
// (for the public pages) signed out, in light and dark mode, at 1280 px and at 390 px (a phone).
// Each visit fails on an axe violation of impact serious or critical, on a console error or page
// error (a CSP violation is one), on an HTTP status ≥500 (the page's or any of its requests'), and
// at 390 px on horizontal overflow of the page itself (a `.table-scroll` scrolling inside is fine).
// Every visit leaves a full-page screenshot in test-artifacts/page-walk/.
//
// Coverage comes from the route table: every GET route is a page unless NOT_PAGES says why not, and
// the test fails when a page route was not visited, so a page added later has to join the walk.
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import type { Page } from 'playwright-core';
import { projectRoot } from '../../src/lib/paths.js';
import { listRoutes, type RouteInfo } from '../../src/routes/index.js';
import type { Express } from 'express';
import { createApp } from '../../src/app.js';
import { createLogger } from '../../src/lib/logger.js';
import { overflowingElements, seriousAxeViolations } from '../support/axe.js';
import { artifactPath, launchBrowser, serve } from '../support/browser.js';
import { useFreshDatabase } from '../support/databases.js';
import { buildWalkWorld, type WalkPage, type WalkRole, type WalkWorld } from '../support/page-walk-world.js';

/** GET routes that answer something other than a page for a person, each with the reason. */
const NOT_PAGES: Record<string, string> = {
  'GET /health': 'liveness probe (JSON)',
  'GET /health/ready': 'readiness probe (JSON)',
  'GET /jobs/:id': 'a job as JSON (its page is /status/:jobId)',
  'GET /jobs/:id/status': 'a job\'s output rows as JSON',
  'GET /api/stream/:jobId': 'server-sent events (the status page reads it)',
  'GET /nginx.conf': 'the edge\'s nginx.conf, for edges only',
  'GET /containers/export.csv': 'CSV download',
  'GET /vms/export.csv': 'CSV download',
  'GET /vms/:id/rdp': '.rdp file download',
};

const THEMES = ['light', 'dark'] as const;
const WIDTHS = [1280, 390] as const;
const PHONE = 390;

/** The route a path is dispatched to: the first GET route of the table that matches it. */
const routeOf = (routes: RouteInfo[], url: string) => routes.find((r) => r.method === 'GET' && r.match(new URL(url, 'http://x').pathname));
const key = (r: RouteInfo) => `${r.method} ${r.path}`;

/** Who may see a page, from its route's access level (public pages are walked signed out). */
function rolesFor(route: RouteInfo | undefined, page: WalkPage): WalkRole[] {
  if (page.roles) return page.roles;
  if (route?.accessLevel === 'public') return ['anonymous'];
  if (route?.accessLevel === 'user') return ['admin', 'user'];
  return ['admin'];
}

describe('page walk: every page, both themes, 1280 px and 390 px, with axe', function () {
  this.timeout(600_000);
  const fixture = {} as { app: Express };
  let stopApp: () => Promise<void> = async () => {};
  // Registered before the database's hooks, so it runs before the database is closed (after hooks run in order).
  after(() => stopApp());
  // A database of its own: the pages show the walk's data only, whatever other files left behind.
  const fresh = useFreshDatabase();
  let world: WalkWorld;
  let routes: RouteInfo[];

  before(async () => {
    const built = createApp({ config: fresh.config, logger: createLogger('silent'), sequelize: fresh.db.sequelize, models: fresh.db.models });
    fixture.app = built.app;
    stopApp = built.stop;
    world = await buildWalkWorld(fresh);
    routes = listRoutes(fixture.app);
  });

  it('walks every GET route that renders a page (the route table minus NOT_PAGES)', () => {
    const gets = routes.filter((r) => r.method === 'GET');
    const stale = Object.keys(NOT_PAGES).filter((k) => !gets.some((r) => key(r) === k));
    const walked = new Set(world.pages.map((p) => routeOf(routes, p.url)).filter((r) => r !== undefined).map(key));
    const missing = gets.map(key).filter((k) => !(k in NOT_PAGES) && !walked.has(k));
    expect(stale, 'NOT_PAGES names routes that no longer exist').to.deep.equal([]);
    expect(missing, 'page routes the walk does not visit: add them to test/support/page-walk-world.ts (with the data they need), or to NOT_PAGES when they are not pages').to.deep.equal([]);
  });

  it('finds no serious or critical axe violation, console error, 5xx or phone overflow on any page', async () => {
    const started = Date.now();
    const dir = artifactPath('page-walk');
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });

    // Which templates the walk rendered (res.render goes through app.render), to list those it did not.
    const rendered = new Set<string>();
    const appRender = fixture.app.render.bind(fixture.app);
    fixture.app.render = ((view: string, ...rest: unknown[]) => {
      rendered.add(view);
      return (appRender as (...a: unknown[]) => void)(view, ...rest);
    }) as typeof fixture.app.render;

    const browser = await launchBrowser();
    const server = await serve(fixture.app);
    // Findings keyed by what was found where, with the theme/width combinations that showed it.
    const findings = new Map<string, string[]>();
    const report = (role: WalkRole, url: string, variant: string, text: string) => {
      const k = `${role} ${url}: ${text}`;
      findings.set(k, [...(findings.get(k) ?? []), variant]);
    };
    const visited: string[] = [];
    let count = 0;
    const spent = { load: 0, axe: 0, screenshot: 0 };
    const timed = async <T>(what: keyof typeof spent, f: () => Promise<T>): Promise<T> => {
      const t0 = Date.now();
      try {
        return await f();
      } finally {
        spent[what] += Date.now() - t0;
      }
    };
    try {
      const credentials: Record<WalkRole, { username: string; password: string } | null> = {
        admin: { username: world.admin.user.username, password: world.admin.password },
        user: { username: world.user.user.username, password: world.user.password },
        anonymous: null,
      };
      for (const role of ['admin', 'user', 'anonymous'] as const) {
        const pages = world.pages.filter((p) => rolesFor(routeOf(routes, p.url), p).includes(role));
        const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
        const page = await context.newPage();
        const problems: string[] = [];
        // A failed request shows in the console as "Failed to load resource"; the response says which.
        page.on('console', (m) => m.type() === 'error' && !m.text().startsWith('Failed to load resource') && problems.push(`console error: ${m.text()}`));
        page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
        page.on('dialog', (d) => void d.accept());
        page.on('response', (r) => {
          const isPage = r.request().resourceType() === 'document';
          if (r.status() >= 500 || (!isPage && r.status() >= 400)) problems.push(`HTTP ${r.status()} for ${r.request().resourceType()} ${r.url().replace(server.url, '')}`);
        });
        const login = credentials[role];
        if (login) await signIn(page, server.url, login.username, login.password);
        if (role === 'admin') await expectCspEnforced(page, problems);

        // Each page is loaded once and looked at in every theme and width: emulateMedia and a new
        // viewport restyle the loaded page (Berth's CSS follows prefers-color-scheme; no script reads it).
        for (const p of pages) {
          problems.length = 0;
          visited.push(`${role.padEnd(9)} ${p.url}${p.submit ? ` → ${p.slug}` : ''}`);
          let res = await timed('load', () => page.goto(server.url + p.url, { waitUntil: 'load' }));
          if (p.submit) {
            for (const [selector, value] of Object.entries(p.submit.fill ?? {})) await page.fill(selector, value);
            for (const selector of p.submit.check ?? []) await page.check(selector);
            const press = p.submit.press;
            [res] = await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.click(press)]);
          }
          const status = res?.status() ?? 0;
          const wanted = p.status ?? 200;
          if (status !== wanted) report(role, p.url, 'load', `HTTP ${status}, expected ${wanted}${!p.submit && page.url() !== server.url + p.url ? ` (ended at ${page.url().replace(server.url, '')})` : ''}`);
          if (!(res?.headers()['content-type'] ?? '').startsWith('text/html')) report(role, p.url, 'load', `not an HTML page (${res?.headers()['content-type']}); if it is not a page, add its route to NOT_PAGES`);
          for (const theme of THEMES) {
            await page.emulateMedia({ colorScheme: theme });
            for (const width of WIDTHS) {
              const variant = `${theme} ${width}px`;
              count++;
              await page.setViewportSize({ width, height: width === PHONE ? 844 : 800 });
              if (width === PHONE) {
                const scrollWidth = await page.evaluate<number>('document.documentElement.scrollWidth');
                if (scrollWidth > PHONE) report(role, p.url, variant, `the page is ${scrollWidth} px wide at ${PHONE} px; sticking out: ${(await overflowingElements(page)).join('; ') || 'nothing found'}`);
              }
              for (const v of await timed('axe', () => seriousAxeViolations(page))) {
                report(role, p.url, variant, `axe ${v.impact} ${v.id} (${v.help}) at ${v.targets.join(' | ')}${v.summary ? ` — ${v.summary}` : ''}`);
              }
              await timed('screenshot', () => page.screenshot({ path: path.join(dir, `${role}-${theme}-${width}-${p.slug}.png`), fullPage: true }));
            }
          }
          for (const problem of problems) report(role, p.url, 'load', problem);
        }
        await context.close();
      }
    } finally {
      await browser.close();
      await server.close();
      fixture.app.render = appRender;
    }
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    const split = Object.entries(spent).map(([k, ms]) => `${k} ${(ms / 1000).toFixed(1)} s`).join(', ');
    console.log(`    page walk: ${count} visits (${visited.length} page loads × ${THEMES.length} themes × ${WIDTHS.length} widths) in ${seconds} s (${split}); screenshots in ${path.relative(process.cwd(), dir)}/\n      ${visited.join('\n      ')}`);
    const unrendered = viewsIn(path.join(projectRoot, 'views')).filter((v) => !rendered.has(v));
    console.log(`    views the walk did not render (reached only through flows it does not take): ${unrendered.join(', ') || 'none'}`);
    const failures = [...findings].map(([k, variants]) => `${k} [${[...new Set(variants)].join(', ')}]`);
    expect(failures, `${failures.length} problems in the page walk (role page: finding [theme width]):\n${failures.join('\n')}\n`).to.deep.equal([]);
  });

  it('answers /favicon.ico with an icon', async () => {
    const server = await serve(fixture.app);
    try {
      const res = await fetch(`${server.url}/favicon.ico`);
      expect(res.status).to.equal(200);
      const bytes = Buffer.from(await res.arrayBuffer());
      // An ICO file: reserved 0, type 1 (icon), at least one image.
      expect(bytes.readUInt16LE(0)).to.equal(0);
      expect(bytes.readUInt16LE(2)).to.equal(1);
      expect(bytes.readUInt16LE(4)).to.be.at.least(1);
    } finally {
      await server.close();
    }
  });
});

/** The page templates under `dir` (not partials `_*`, layouts or e-mails), as res.render names them. */
function viewsIn(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ejs') && !path.basename(f).startsWith('_') && !/^(layouts|partials|emails)\//.test(f))
    .map((f) => f.replace(/\.ejs$/, ''))
    .sort();
}

/** Signs in through the real login form. */
async function signIn(page: Page, url: string, username: string, password: string): Promise<void> {
  await page.goto(`${url}/login`);
  await page.fill('#username', username);
  await page.fill('#password', password);
  await Promise.all([page.waitForURL(`${url}/`), page.click('button[type=submit]')]);
}

/**
 * Proves the walk sees CSP violations: axe goes in through the DevTools protocol, which the CSP does
 * not govern, so the policy stays on; an inline script added to the page must be refused, and the
 * refusal must reach `problems` as a console error (then it is cleared: it was ours).
 */
async function expectCspEnforced(page: Page, problems: string[]): Promise<void> {
  const refused = page.waitForEvent('console', (m) => m.type() === 'error' && m.text().includes('Content Security Policy'));
  await page.evaluate(`(() => {
    const script = document.createElement('script');
    script.textContent = 'document.body.dataset.inlineRan = "yes"';
    document.body.append(script);
  })()`);
  await refused;
  expect(await page.evaluate('document.body.dataset.inlineRan')).to.equal(undefined);
  expect(problems.some((p) => p.includes('Content Security Policy'))).to.equal(true);
  problems.length = 0;
}
