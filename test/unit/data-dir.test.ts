import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import paths from '../../config/paths.cjs';
import dbUrl from '../../config/database-url.cjs';
import { persistedSecret } from '../../config/session-secret.js';

const mode = (file: string) => fs.statSync(file).mode & 0o777;

describe('the data directory rule (config/paths.cjs)', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-datadir-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('finds the project root from the sources and from a compiled tree below it alike', () => {
    expect(paths.findProjectRoot(path.join(paths.projectRoot, 'config'))).to.equal(paths.projectRoot);
    expect(paths.findProjectRoot(path.join(paths.projectRoot, 'dist', 'config'))).to.equal(paths.projectRoot);
  });

  it('puts data/ under the project root, and takes a relative DATA_DIR from there too, whatever the working directory', () => {
    expect(paths.resolveDataDir({})).to.equal(path.join(paths.projectRoot, 'data'));
    expect(paths.resolveDataDir({ DATA_DIR: 'var/berth' })).to.equal(path.join(paths.projectRoot, 'var', 'berth'));
    expect(paths.resolveDataDir({ DATA_DIR: dir })).to.equal(dir);
    expect(dbUrl.resolveDatabaseUrl({})).to.equal('sqlite:' + path.join(paths.projectRoot, 'data', 'berth.db'));
  });

  it('creates the SQLite file 0600 in a 0700 directory, and tightens an older install left 0755/0644', () => {
    const fresh = path.join(dir, 'fresh', 'berth.db');
    paths.prepareSqliteFile(fresh);
    expect(mode(path.dirname(fresh))).to.equal(0o700);
    expect(mode(fresh)).to.equal(0o600);

    const old = path.join(dir, 'old');
    fs.mkdirSync(old, { mode: 0o755 });
    fs.chmodSync(old, 0o755);
    for (const f of ['berth.db', 'berth.db-wal', 'berth.db-shm']) fs.writeFileSync(path.join(old, f), '', { mode: 0o644 });
    paths.prepareSqliteFile(path.join(old, 'berth.db'));
    expect(mode(old)).to.equal(0o700);
    for (const f of ['berth.db', 'berth.db-wal', 'berth.db-shm']) expect(mode(path.join(old, f)), f).to.equal(0o600);
  });

  it('never tightens a shared directory such as /tmp (sticky or world-writable) that holds the SQLite file, only the file', () => {
    for (const shared of [0o1777, 0o777]) {
      const tmp = path.join(dir, `shared-${shared.toString(8)}`);
      fs.mkdirSync(tmp);
      fs.chmodSync(tmp, shared);
      paths.prepareSqliteFile(path.join(tmp, 'bench.db'));
      expect(fs.statSync(tmp).mode & 0o7777, tmp).to.equal(shared);
      expect(mode(path.join(tmp, 'bench.db'))).to.equal(0o600);
    }
  });

  it('keeps generated secrets 0600 in a 0700 directory, and tightens an existing key file', () => {
    const data = path.join(dir, 'data');
    const secret = persistedSecret(data, 'encryption-key', () => 'k1');
    expect(secret).to.equal('k1');
    expect(mode(data)).to.equal(0o700);
    expect(mode(path.join(data, 'encryption-key'))).to.equal(0o600);
    fs.chmodSync(path.join(data, 'encryption-key'), 0o644);
    expect(persistedSecret(data, 'encryption-key', () => 'k2')).to.equal('k1');
    expect(mode(path.join(data, 'encryption-key'))).to.equal(0o600);
  });
});
