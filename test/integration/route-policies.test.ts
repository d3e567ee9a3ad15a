import { expect } from 'chai';
import request from 'supertest';
import type { User } from '../../models/index.js';
import { listRoutes, type RouteInfo } from '../../src/routes/index.js';
import { createUser } from '../factories/users.js';
import { useApp } from '../support/app.js';
import { SUBJECT_KINDS } from '../../src/policies/authorize.js';
import { allowedStatusOverrides, subjectBuilders } from '../support/subjects.js';
import { csrfFrom, login } from '../support/login.js';

type Role = 'anonymous' | 'owner' | 'other' | 'admin';

describe('route table', () => {
  const fixture = useApp();

  it('declares an access policy on every route', () => {
    const routes = listRoutes(fixture.app);
    expect(routes.length).to.be.greaterThan(3);
    const undeclared = routes.filter((r) => !r.accessLevel).map((r) => `${r.method} ${r.path}`);
    expect(undeclared, 'routes without access.public/user/admin').to.deep.equal([]);
  });

  it('declares the object it loads on every route whose path names one (load.<kind>(action))', () => {
    const routes = listRoutes(fixture.app);
    const missing = routes.filter((r) => r.path.includes(':') && !r.subject).map((r) => `${r.method} ${r.path}`);
    expect(missing, 'routes with path parameters but no load.<kind>() declaration').to.deep.equal([]);
    // Every parameter of the path is one the declaration reads, so the matrix can build the path.
    const unread = routes
      .filter((r) => r.subject)
      .flatMap((r) => [...r.path.matchAll(/:(\w+)/g)].map((m) => m[1]).filter((p) => p !== r.subject!.param && p !== r.subject!.parent?.param).map((p) => `${r.method} ${r.path} :${p}`));
    expect(unread, 'path parameters no declaration reads').to.deep.equal([]);
  });

  it('names every handler (list, show, newForm, create, editForm, update, destroy, or a named action)', () => {
    const anonymous = listRoutes(fixture.app).filter((r) => !/^[a-z][A-Za-z]+$/.test(r.handlerName)).map((r) => `${r.method} ${r.path} (${r.handlerName || 'anonymous'})`);
    expect(anonymous, 'routes whose handler is an anonymous function').to.deep.equal([]);
  });

  it('answers every route × {anonymous, owner, another user, admin} as its policy says', async function () {
    this.timeout(120_000);
    const routes = listRoutes(fixture.app);
    const owner = await createUser();
    const other = await createUser();
    const admin = await createUser({ role: 'admin' });
    const principals: Record<Exclude<Role, 'anonymous'>, { user: User; password: string }> = { owner, other, admin };

    /** What each role must get: 'allow' (reaches the handler), or the exact denial status. */
    const expected = (route: RouteInfo, role: Role): 'allow' | number => {
      const owned = route.subject ? SUBJECT_KINDS[route.subject.kind].owned : false;
      if (route.accessLevel === 'public') return 'allow';
      if (role === 'anonymous') return 401;
      if (route.accessLevel === 'admin') return role === 'admin' ? 'allow' : 403;
      if (owned && role === 'other') return 404;
      return 'allow';
    };

    const failures: string[] = [];
    // One logged-in agent per role, logged in again when a request ended its session (POST /logout).
    const agents = new Map<Role, { agent: ReturnType<typeof request.agent>; csrf: string }>();
    // Anonymous visitors get a fresh agent (and CSRF token) for every state-changing request.
    const session = async (role: Role, method: string) => {
      const known = agents.get(role);
      const alive = role === 'anonymous' ? method === 'GET' : (await known?.agent.get('/account').set('Accept', 'application/json'))?.status === 200;
      if (known && alive) return known;
      const agent = request.agent(fixture.app);
      if (role !== 'anonymous') await login(agent, principals[role].user.username, principals[role].password);
      const entry = { agent, csrf: csrfFrom((await agent.get(role === 'anonymous' ? '/login' : '/account')).text) };
      agents.set(role, entry);
      return entry;
    };
    for (const route of routes) {
      for (const role of ['anonymous', 'owner', 'other', 'admin'] as Role[]) {
        const { agent, csrf } = await session(role, route.method);
        const params = route.subject ? await subjectBuilders[route.subject.kind](owner.user, route.subject) : {};
        const path = route.path.replace(/:(\w+)/g, (_, name: string) => String(params[name] ?? `:${name}`));
        const req = agent[route.method.toLowerCase() as 'get' | 'post' | 'put' | 'delete'](path).set('Accept', 'application/json').set('X-CSRF-Token', csrf);
        const res = await req.timeout(10_000).send(route.method === 'GET' ? undefined : {});
        const want = expected(route, role);
        const overrides = allowedStatusOverrides[`${route.method} ${route.path}`] ?? [];
        const label = `${route.method} ${path} as ${role}: got ${res.status}`;
        if (res.status >= 500) failures.push(`${label} (server error)`);
        else if (want === 'allow' && [401, 403, 404].includes(res.status) && !overrides.includes(res.status)) failures.push(`${label}, expected access`);
        else if (want !== 'allow' && res.status !== want) failures.push(`${label}, expected ${want}`);
      }
    }
    expect(failures).to.deep.equal([]);
  });
});
