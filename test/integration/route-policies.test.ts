import { expect } from 'chai';
import { listRoutes } from '../../src/routes/index.js';
import { useApp } from '../support/app.js';

describe('route table', () => {
  const fixture = useApp();

  it('declares an access policy on every route', () => {
    const routes = listRoutes(fixture.app);
    expect(routes.length).to.be.greaterThan(3);
    const undeclared = routes.filter((r) => !r.accessLevel).map((r) => `${r.method} ${r.path}`);
    expect(undeclared, 'routes without access.public/user/admin').to.deep.equal([]);
  });
});
