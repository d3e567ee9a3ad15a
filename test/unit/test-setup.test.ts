import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { findChromium } from '../setup.js';

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
