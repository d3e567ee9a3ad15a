import { expect } from 'chai';
import { isLocalAccount, LOCAL_REALM, presentUser } from '../../../src/lib/current-user.js';

describe('lib/current-user: local accounts', () => {
  it('a local account is the realm "local"; every other realm is a Proxmox one', () => {
    expect(LOCAL_REALM).to.equal('local');
    expect(isLocalAccount({ realm: 'local' })).to.equal(true);
    for (const realm of ['pve', 'pam', 'Local', '']) expect(isLocalAccount({ realm }), realm).to.equal(false);
  });

  it('the CurrentUser says the same', () => {
    const row = { id: 1, username: 'alice', displayName: null, email: null, role: 'user', proxmoxAdmin: false };
    expect(presentUser({ ...row, realm: 'local' }).isLocal).to.equal(true);
    expect(presentUser({ ...row, username: 'alice@pve', realm: 'pve' }).isLocal).to.equal(false);
  });
});
