import { expect } from 'chai';
import { testConfig } from '../../support/context.js';
import { generateApiToken, generateSetupToken, hashApiToken, hashSetupToken, tokenKeys } from '../../../src/lib/tokens.js';
import { parseAccount } from '../../../src/services/login.js';

describe('accounts: token hashing and login names (unit)', () => {
  const config = testConfig('sqlite::memory:');

  it('stores API tokens as a keyed HMAC that only the same key reproduces', () => {
    const keys = tokenKeys(config);
    const { token, tokenHash, hint } = generateApiToken(keys);
    expect(token).to.match(/^berth_[A-Za-z0-9_-]{43}$/);
    expect(hint).to.equal(token.slice(0, 12));
    expect(hashApiToken(keys, token)).to.equal(tokenHash);
    const other = tokenKeys(testConfig('sqlite::memory:', { API_TOKEN_SECRET: 'another-secret-that-is-long-enough-123456' }));
    expect(hashApiToken(other, token)).to.be.a('string').and.not.equal(tokenHash);
    expect(hashApiToken(keys, 'berth_short')).to.equal(null);
    expect(hashApiToken(keys, `${token}x`)).to.equal(null);
  });

  it('keys set-password links apart from API tokens', () => {
    const keys = tokenKeys(config);
    const { token, hash } = generateSetupToken(keys);
    expect(hashSetupToken(keys, token)).to.equal(hash);
    expect(hashApiToken(keys, `berth_${token}`)).not.to.equal(hash);
    expect(hashSetupToken(keys, '../etc/passwd')).to.equal(null);
  });

  it('reads the realm from name@realm, else from the realm field, else local', () => {
    expect(parseAccount('alice@pve')).to.deep.equal({ name: 'alice', realm: 'pve' });
    expect(parseAccount('alice@pve', 'pam')).to.deep.equal({ name: 'alice', realm: 'pve' });
    expect(parseAccount('root', 'pam')).to.deep.equal({ name: 'root', realm: 'pam' });
    expect(parseAccount('admin')).to.deep.equal({ name: 'admin', realm: 'local' });
    expect(parseAccount('admin', '')).to.deep.equal({ name: 'admin', realm: 'local' });
  });
});
