import type { Express } from 'express';
import request, { type Test } from 'supertest';
import type TestAgent from 'supertest/lib/agent.js';
import { createAdminUser, createUser } from '../factories/users.js';
import { testContext } from './context.js';

/**
 * The `name=value` pair of the session cookie among a response's Set-Cookie headers (a login also sets
 * the remembered-realm cookie, so the first header is not necessarily the session's).
 */
export function sessionCookie(setCookie: string | string[] | undefined, name = 'berth.sid'): string | undefined {
  const headers = Array.isArray(setCookie) ? setCookie : setCookie ? [setCookie] : [];
  return headers.map((h) => h.split(';')[0]).find((pair) => pair.startsWith(`${name}=`));
}

/** The CSRF token embedded in a rendered page's <meta name="csrf-token">. */
export function csrfFrom(html: string): string {
  const match = /<meta name="csrf-token" content="([^"]+)">/.exec(html);
  if (!match) throw new Error('no csrf-token meta tag in the page');
  return match[1];
}

/** Fetches a page with `agent` and returns its CSRF token (the agent keeps the session cookie). */
export async function csrfToken(agent: TestAgent<Test>, path = '/login'): Promise<string> {
  const res = await agent.get(path).set('Accept', 'text/html');
  return csrfFrom(res.text);
}

/** Logs `agent` in through the real login form; throws unless the login succeeded. */
export async function login(agent: TestAgent<Test>, username: string, password: string): Promise<void> {
  const token = await csrfToken(agent);
  const res = await agent.post('/login').type('form').send({ username, password, _csrf: token });
  if (res.status !== 303) throw new Error(`login as ${username} failed: ${res.status} ${res.text.slice(0, 200)}`);
}

/**
 * A new user (or admin) signed in on `app` through the login form: the agent keeps the session, and
 * `csrf` is the token its pages carry, for JSON requests (`X-CSRF-Token`) and forms (`_csrf`).
 */
export async function signedInAgent(app: Express, opts: { admin?: boolean } = {}) {
  const built = opts.admin ? await createAdminUser() : await createUser();
  const agent = request.agent(app);
  await login(agent, built.user.username, built.password);
  return { agent, user: built.user, password: built.password, csrf: await csrfToken(agent, '/') };
}
export type SignedInAgent = Awaited<ReturnType<typeof signedInAgent>>;

/**
 * Forgets the failed-login counters of `accounts` (name@realm, or a local name). The simulator's seed
 * accounts (alice@pve, root@pam, …) are shared by every test file, so a test that counts failures
 * clears its own accounts' counters first, never the whole RateLimits table.
 */
export async function clearLoginFailures(...accounts: string[]): Promise<void> {
  const keys = accounts.map((account) => `login-account:${account.trim().toLowerCase()}`);
  await testContext().db.models.RateLimit.destroy({ where: { key: keys } });
}
