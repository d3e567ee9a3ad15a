// The server, not the cookie, decides when a session ends: a cookie replayed after the idle timeout
// or the absolute lifetime is a logged-out visitor, and its session row is deleted at once, even
// when the store's periodic sweep has not run yet.
import { expect } from 'chai';
import request from 'supertest';
import { createUser } from '../../factories/users.js';
import { useApp } from '../../support/app.js';
import { testContext } from '../../support/context.js';
import { login } from '../../support/login.js';

const MINUTE = 60_000;

describe('accounts: session idle and absolute timeouts, enforced by the server', () => {
  const fixture = useApp({ SESSION_IDLE_MINUTES: '30', SESSION_ABSOLUTE_HOURS: '8' });

  /** Logs in a new user; returns the agent (holding the captured cookie) and the session row's id. */
  async function loggedIn() {
    const { user, password } = await createUser();
    const agent = request.agent(fixture.app);
    await login(agent, user.username, password);
    await agent.get('/account').set('Accept', 'application/json').expect(200);
    const rows = await testContext().db.models.Session.findAll({ where: { userId: user.id } });
    expect(rows).to.have.length(1);
    return { agent, sid: rows[0].sid };
  }

  /** Rewrites the stored session as if time had passed (the cookie in the agent stays the same). */
  async function age(sid: string, change: { data?: Record<string, number>; expires?: Date }) {
    const { Session } = testContext().db.models;
    const row = (await Session.findByPk(sid))!;
    const data = { ...JSON.parse(row.data!), ...(change.data ?? {}) };
    await row.update({ data: JSON.stringify(data), ...(change.expires ? { expires: change.expires } : {}) });
  }

  const rowExists = async (sid: string) => (await testContext().db.models.Session.findByPk(sid)) !== null;

  it('refuses a cookie replayed after the idle timeout although the row has not expired yet, and deletes the row', async () => {
    const { agent, sid } = await loggedIn();
    // Last request 31 minutes ago; the row's expiry still in the future (as if the sweep lagged).
    await age(sid, { data: { lastSeenAt: Date.now() - 31 * MINUTE }, expires: new Date(Date.now() + 10 * MINUTE) });
    const res = await agent.get('/account').set('Accept', 'application/json').expect(401);
    expect(res.body.error).to.be.a('string');
    expect(await rowExists(sid)).to.equal(false);
    // A page request with the same cookie is sent to the login form.
    const page = await agent.get('/account').set('Accept', 'text/html').expect(303);
    expect(page.headers.location).to.match(/^\/login/);
  });

  it('refuses a cookie whose session row is past its expiry before the sweep deletes it, and deletes the row', async () => {
    const { agent, sid } = await loggedIn();
    await age(sid, { expires: new Date(Date.now() - 1000) });
    await agent.get('/account').set('Accept', 'application/json').expect(401);
    expect(await rowExists(sid)).to.equal(false);
  });

  it('refuses a session past its absolute lifetime even while it is in use, and deletes the row', async () => {
    const { agent, sid } = await loggedIn();
    await age(sid, { data: { loggedInAt: Date.now() - 8 * 60 * MINUTE - 1000, lastSeenAt: Date.now() } });
    await agent.get('/account').set('Accept', 'application/json').expect(401);
    expect(await rowExists(sid)).to.equal(false);
  });

  it('keeps an active session: each request moves lastSeenAt and the row expiry forward', async () => {
    const { agent, sid } = await loggedIn();
    const before = Date.now();
    await age(sid, { data: { lastSeenAt: before - 29 * MINUTE }, expires: new Date(before + MINUTE) });
    await agent.get('/account').set('Accept', 'application/json').expect(200);
    const row = (await testContext().db.models.Session.findByPk(sid))!;
    expect(JSON.parse(row.data!).lastSeenAt).to.be.at.least(before);
    expect(row.expires!.getTime()).to.be.at.least(before + 29 * MINUTE);
  });
});
