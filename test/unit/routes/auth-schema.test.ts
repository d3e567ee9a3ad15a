import { expect } from 'chai';
import { rememberedRealmCookie } from '../../../src/routes/auth.schema.js';

describe('routes/auth.schema: the remembered-realm cookie', () => {
  const realm = (header: unknown) => rememberedRealmCookie.parse(header);

  it('reads berth.realm wherever it stands in the Cookie header', () => {
    expect(realm('berth.realm=pve')).to.equal('pve');
    expect(realm('berth.sid=abc; berth.realm=ldap-corp; other=1')).to.equal('ldap-corp');
    expect(realm('berth.sid=abc;berth.realm=pam')).to.equal('pam');
  });

  it('is null when absent or not a Proxmox realm id, never an error', () => {
    for (const header of [undefined, '', 'berth.sid=abc', 'xberth.realm=pve', 'berth.realm=', 'berth.realm=1pve', 'berth.realm=%3Cscript%3E', 42]) {
      expect(realm(header), String(header)).to.equal(null);
    }
  });
});
