import { expect } from 'chai';
import { authorize, can, scope } from '../../../src/policies/authorize.js';
import type { Requester } from '../../../src/services/context.js';

const admin: Requester = { id: 1, username: 'root', isAdmin: true };
const alice: Requester = { id: 2, username: 'alice', isAdmin: false };

describe('authorize: the rules of their own', () => {
  for (const action of ['disable', 'demote'] as const) {
    it(`${action} without the account is a programming error, not a refusal`, () => {
      expect(() => can(admin, action)).to.throw(`authorize(${action}) needs the account`);
      expect(() => authorize(alice, action)).to.throw(`authorize(${action}) needs the account`);
    });

    it(`${action} is refused on one's own account and allowed on another's, to admins only`, () => {
      expect(() => authorize(admin, action, { kind: 'user', owner: null, id: admin.id })).to.throw(`You cannot ${action} your own account.`);
      expect(can(admin, action, { kind: 'user', owner: null, id: alice.id })).to.equal(true);
      expect(() => authorize(alice, action, { kind: 'user', owner: null, id: admin.id })).to.throw('Administrators only.');
    });
  }

  for (const action of ['runAdminTask', 'sendTestEmail', 'seeAllOwners', 'operateUnmanaged'] as const) {
    it(`${action} is for administrators only`, () => {
      expect(can(admin, action)).to.equal(true);
      expect(can(alice, action)).to.equal(false);
      expect(() => authorize(alice, action)).to.throw('Administrators only.');
    });
  }
});

describe('scope', () => {
  it('gives an admin every row, or only their own when asked for their own', () => {
    expect(scope(admin, 'csvImport')).to.deep.equal({});
    expect(scope(admin, 'csvImport', { ownOnly: true })).to.deep.equal({ username: 'root' });
    expect(scope(alice, 'csvImport')).to.deep.equal({ username: 'alice' });
  });
});
