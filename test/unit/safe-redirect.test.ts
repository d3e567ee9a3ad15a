import { expect } from 'chai';
import { safeRedirectPath } from '../../src/lib/safe-redirect.js';

describe('safeRedirectPath', () => {
  it('keeps local paths with their query', () => {
    expect(safeRedirectPath('/containers?status=running')).to.equal('/containers?status=running');
  });

  for (const attack of ['https://evil.example', '//evil.example', '/\\evil.example', '\\\\evil', 'javascript:alert(1)', '/a\nb', '', 42, null]) {
    it(`sends ${JSON.stringify(attack)} to the fallback instead`, () => {
      expect(safeRedirectPath(attack, '/home')).to.equal('/home');
    });
  }
});
