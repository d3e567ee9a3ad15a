import { expect } from 'chai';
import { Test } from 'mocha';
import { Op } from 'sequelize';
import request from 'supertest';
import { listRoutes, type RouteInfo } from '../../../src/routes/index.js';
import { createAdminUser } from '../../factories/users.js';
import { useApp } from '../../support/app.js';
import { auditCases, type AuditCase } from '../../support/audit-cases.js';
import { testContext } from '../../support/context.js';
import { csrfToken, login } from '../../support/login.js';

const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const keyOf = (r: RouteInfo) => `${r.method} ${r.path}`;

/**
 * The audit trail's safety net: every state-changing route either writes an AuditEvents row (sent
 * as an admin, it must leave one with the case's action, the admin as actor and the request's id) or
 * is listed as exempt with a reason in test/support/audit-cases.ts. One test per route, generated
 * once the app (and so the route table) exists.
 */
describe('audit coverage: every state-changing route writes an audit event', function () {
  this.timeout(30_000);
  const fixture = useApp();
  const admins: string[] = [];
  let writeRoutes: RouteInfo[] = [];

  before(function () {
    writeRoutes = listRoutes(fixture.app).filter((r) => WRITE_METHODS.has(r.method));
    const suite = this.test!.parent!;
    for (const route of writeRoutes) {
      const entry = auditCases[keyOf(route)];
      if (!entry || 'exempt' in entry) continue;
      suite.addTest(new Test(`${keyOf(route)} records ${entry.action}`, () => exercise(route, entry)));
    }
  });

  after(async () => {
    // POST /jobs left pending shell jobs (`true`): cancel them so no later runner test meets them.
    if (admins.length) await testContext().db.models.Job.update({ status: 'cancelled', finishedAt: new Date() }, { where: { createdBy: admins, status: 'pending' } });
  });

  it('has an entry (a case or an exemption with a reason) for every POST/PUT/PATCH/DELETE route', () => {
    expect(writeRoutes.length).to.be.greaterThan(10);
    const missing = writeRoutes.filter((r) => !auditCases[keyOf(r)]).map(keyOf);
    expect(missing, 'add an entry to auditCases in test/support/audit-cases.ts for').to.deep.equal([]);
    const unexplained = writeRoutes.filter((r) => {
      const entry = auditCases[keyOf(r)];
      return entry && 'exempt' in entry && entry.exempt.trim().length < 10;
    });
    expect(unexplained.map(keyOf), 'an exemption needs a reason').to.deep.equal([]);
  });

  async function exercise(route: RouteInfo, entry: AuditCase): Promise<void> {
    const { AuditEvent } = testContext().db.models;
    const { user: admin, password } = await createAdminUser();
    admins.push(admin.username);
    const agent = request.agent(fixture.app);
    await login(agent, admin.username, password);
    const csrf = await csrfToken(agent, '/');
    const { path, body } = await entry.build(admin);
    const lastId = Number((await AuditEvent.max('id')) ?? 0);

    const method = route.method.toLowerCase() as 'post' | 'put' | 'patch' | 'delete';
    const res = await agent[method](path).set('Accept', 'application/json').set('X-CSRF-Token', csrf).send(body ?? {});
    const ok = entry.okStatuses ? entry.okStatuses.includes(res.status) : res.status >= 200 && res.status < 400;
    expect(ok, `${route.method} ${path} answered ${res.status}: ${res.text.slice(0, 300)}`).to.equal(true);

    const requestId = res.headers['x-request-id'];
    expect(requestId, 'the response carries X-Request-Id').to.be.a('string');
    const events = await AuditEvent.findAll({ where: { id: { [Op.gt]: lastId }, action: entry.action }, order: [['id', 'ASC']] });
    const actions = (await AuditEvent.findAll({ where: { id: { [Op.gt]: lastId } }, attributes: ['action'] })).map((e) => e.action);
    expect(events.length, `no new '${entry.action}' event (new events: ${actions.join(', ') || 'none'})`).to.be.greaterThan(0);
    // Public routes (register, set-password) may act for nobody; every other route acts as the admin.
    const actors = route.accessLevel === 'public' ? [admin.username, null] : [admin.username];
    const mine = events.filter((e) => e.requestId === requestId);
    expect(mine.length, `no '${entry.action}' event with this request's id ${requestId}`).to.be.greaterThan(0);
    for (const e of mine) expect(actors, `actor of ${entry.action}`).to.include(e.actor);
  }
});
