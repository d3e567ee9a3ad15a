import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { projectRoot } from '../../src/lib/paths.js';
import { findChromium } from '../setup.js';
import { hasTestContext, testContext } from '../support/context.js';
import { needsDatabase, tierOf } from '../support/tiers.js';

describe('test/setup.js: finding a browser', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-browser-'));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('uses BERTH_CHROMIUM when it names an executable', () => {
    const fake = path.join(dir, 'my-chrome');
    fs.writeFileSync(fake, '#!/bin/sh\n', { mode: 0o755 });
    expect(findChromium({ BERTH_CHROMIUM: fake })).to.equal(fake);
  });

  it('refuses a BERTH_CHROMIUM that is not executable instead of falling back silently', () => {
    const notExecutable = path.join(dir, 'readme.txt');
    fs.writeFileSync(notExecutable, 'text', { mode: 0o644 });
    expect(findChromium({ BERTH_CHROMIUM: notExecutable })).to.equal(undefined);
    expect(findChromium({ BERTH_CHROMIUM: path.join(dir, 'missing') })).to.equal(undefined);
  });

  it('otherwise finds an installed Chromium on the usual paths (npm test installed one before the suite)', () => {
    const found = findChromium({});
    expect(found).to.be.a('string');
    fs.accessSync(found!, fs.constants.X_OK);
  });
});

describe('test tiers (test/support/tiers.js)', () => {
  it('runs unit tests without a database, so a unit test that needs one fails with where to move it', () => {
    expect(hasTestContext()).to.equal(false);
    expect(() => testContext()).to.throw(/belongs in test\/integration\//);
  });

  it('picks the tier from the folder, for files, globs and absolute paths', () => {
    expect(tierOf('test/unit/vault.test.ts')).to.equal('unit');
    expect(tierOf('test/unit/**/*.test.ts')).to.equal('unit');
    expect(tierOf(path.join(projectRoot, 'test/e2e/login-page.test.ts'))).to.equal('browser');
    expect(tierOf('./test/integration/login.test.ts')).to.equal('integration');
    expect(tierOf('test/system/proxmox/client-auth.test.ts')).to.equal('system');
    expect(needsDatabase(['test/unit/vault.test.ts', 'test/system/demo.test.ts'])).to.equal(false);
    expect(needsDatabase(['test/system/demo.test.ts', 'test/integration/login.test.ts'])).to.equal(true);
    // Outside the tier folders a file gets a database: never wrong, only slower.
    expect(tierOf('test/fixtures/runs/never-ends.test.ts')).to.equal('integration');
    expect(tierOf('test/unitish/x.test.ts')).to.equal('integration');
  });
});
