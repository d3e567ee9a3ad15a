import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { ConfigError, loadConfig } from '../../config/index.js';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'berth-config-'));

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig({ env, dotenv: false });
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('config', () => {
  it('needs nothing: 127.0.0.1:3000 and SQLite in DATA_DIR/berth.db, with a generated session secret', () => {
    const dataDir = tmp();
    const config = loadConfig({ env: { DATA_DIR: dataDir }, dotenv: false });
    expect(config.PORT).to.equal(3000);
    expect(config.HOST).to.equal('127.0.0.1');
    expect(config.database.dialect).to.equal('sqlite');
    expect(config.database.storage).to.equal(path.join(dataDir, 'berth.db'));
    expect(config.SESSION_SECRET).to.have.length.greaterThan(32);
    expect(Object.isFrozen(config)).to.equal(true);
  });

  it('persists the generated session secret with mode 0600 and reuses it', () => {
    const dataDir = tmp();
    const first = loadConfig({ env: { DATA_DIR: dataDir }, dotenv: false }).SESSION_SECRET;
    const second = loadConfig({ env: { DATA_DIR: dataDir }, dotenv: false }).SESSION_SECRET;
    expect(second).to.equal(first);
    expect(fs.statSync(path.join(dataDir, 'session-secret')).mode & 0o777).to.equal(0o600);
  });

  it('builds a MariaDB URL from the seed’s discrete MYSQL_* variables', () => {
    const config = loadConfig({
      env: { DATA_DIR: tmp(), MYSQL_HOST: 'db.internal', MYSQL_PORT: '3307', MYSQL_USER: 'berth', MYSQL_PASSWORD: 'p@ss:w/rd', MYSQL_DATABASE: 'berth' },
      dotenv: false,
    });
    expect(config.database).to.include({ dialect: 'mysql', host: 'db.internal', port: 3307, username: 'berth', password: 'p@ss:w/rd', database: 'berth' });
  });

  it('reads secrets from NAME_FILE', () => {
    const dir = tmp();
    fs.writeFileSync(path.join(dir, 'secret'), 'a-session-secret-read-from-a-file-0123456789\n');
    const config = loadConfig({ env: { DATA_DIR: dir, SESSION_SECRET_FILE: path.join(dir, 'secret') }, dotenv: false });
    expect(config.SESSION_SECRET).to.equal('a-session-secret-read-from-a-file-0123456789');
  });

  it('lists every problem at once', () => {
    const dir = tmp();
    const problems = problemsOf({
      DATA_DIR: dir,
      PORT: 'eighty',
      LOG_LEVEL: 'loud',
      TRUST_PROXY: 'true',
      SESSION_SECRET: 'short',
      MYSQL_PASSWORD: 'x',
      MYSQL_PASSWORD_FILE: path.join(dir, 'nope'),
      DATABASE_URL: 'postgres://x/y',
    });
    const text = problems.join('\n');
    expect(text).to.match(/PORT/);
    expect(text).to.match(/LOG_LEVEL/);
    expect(text).to.match(/TRUST_PROXY: 'true' trusts any client/);
    expect(text).to.match(/SESSION_SECRET: must be at least 32/);
    expect(text).to.match(/MYSQL_PASSWORD and MYSQL_PASSWORD_FILE are both set/);
    expect(text).to.match(/DATABASE_URL: unsupported database URL scheme 'postgres:'/);
    expect(problems.length).to.be.at.least(6);
  });

  it('accepts a hop count or proxy addresses for TRUST_PROXY', () => {
    expect(loadConfig({ env: { DATA_DIR: tmp(), TRUST_PROXY: '1' }, dotenv: false }).TRUST_PROXY).to.equal(1);
    expect(loadConfig({ env: { DATA_DIR: tmp(), TRUST_PROXY: '10.0.0.1, 192.168.0.0/16' }, dotenv: false }).TRUST_PROXY).to.deep.equal([
      '10.0.0.1',
      '192.168.0.0/16',
    ]);
  });

  it('refuses edge settings that could not work: a bad allow-list, ranges below 1024, the same HTTP and HTTPS port, a path with nginx syntax', () => {
    const problems = problemsOf({
      DATA_DIR: tmp(),
      EDGE_ALLOW_ADDRESSES: '10.0.0.0/40, abc',
      EDGE_TCP_PORTS: '100-2000',
      EDGE_PID_FILE: '/run/nginx.pid; include /etc/passwd',
    });
    expect(problems.join('\n')).to.include('EDGE_ALLOW_ADDRESSES: must be a comma-separated list of IP addresses or CIDRs');
    expect(problems.join('\n')).to.include('EDGE_TCP_PORTS: must be FROM-TO with 1024 <= FROM <= TO <= 65535');
    // Checked once every setting parsed (it compares two of them).
    expect(problemsOf({ DATA_DIR: tmp(), EDGE_HTTP_PORT: '8443', EDGE_HTTPS_PORT: '8443' })).to.deep.equal(['EDGE_HTTPS_PORT: must differ from EDGE_HTTP_PORT (plain HTTP only redirects to it)']);
    expect(problems.join('\n')).to.include('EDGE_PID_FILE: must be an absolute path');
    const ok = loadConfig({ env: { DATA_DIR: tmp(), EDGE_ALLOW_ADDRESSES: '10.0.0.0/8, ::1, 192.0.2.5' } });
    expect(ok.EDGE_ALLOW_ADDRESSES).to.deep.equal(['10.0.0.0/8', '::1', '192.0.2.5']);
  });

  it('reports an unreadable NAME_FILE with its path', () => {
    const dir = tmp();
    const problems = problemsOf({ DATA_DIR: dir, SESSION_SECRET_FILE: path.join(dir, 'missing') });
    expect(problems[0]).to.match(/SESSION_SECRET_FILE: cannot read '.*missing' \(ENOENT\)/);
  });
});
