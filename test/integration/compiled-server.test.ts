// What a newcomer runs: a copy of the checkout, compiled with the same build `npm start` runs, then
// bin/create-admin and the compiled dist/server.js with no DATA_DIR. They must share one data
// directory (<checkout>/data, private), and rebuilding dist/ from nothing must leave every stored
// credential readable (the vault key lives in data/, never in dist/).
import { execFile, execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import request from 'supertest';
import { projectRoot } from '../../src/lib/paths.js';
import { testContext } from '../support/context.js';
import { csrfFrom, login } from '../support/login.js';
import { startServerProcess } from '../support/processes.js';

/** Copies the files git would put in a fresh clone (tracked, plus new files not ignored), sharing node_modules. */
function copyCheckout(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-clone-'));
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: projectRoot, encoding: 'utf8' })
    .split('\0')
    // node_modules is shared below (it may be a symlink, which a `node_modules/` ignore rule misses).
    .filter((f) => f && f !== 'node_modules' && fs.statSync(path.join(projectRoot, f), { throwIfNoEntry: false })?.isFile());
  for (const file of files) {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.copyFileSync(path.join(projectRoot, file), path.join(dir, file));
    fs.chmodSync(path.join(dir, file), fs.statSync(path.join(projectRoot, file)).mode & 0o777);
  }
  fs.symlinkSync(path.join(projectRoot, 'node_modules'), path.join(dir, 'node_modules'));
  return dir;
}

function run(cwd: string, file: string, args: string[], env: Record<string, string>, input = ''): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(file, args, { cwd, env, timeout: 240_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
    child.stdin?.end(input);
  });
}

const mode = (file: string) => fs.statSync(file).mode & 0o777;

describe('the compiled server from a fresh checkout', function () {
  this.timeout(600_000);
  let checkout: string;
  // The MariaDB pass points the copy at the run's database; the SQLite pass uses the default, data/berth.db.
  const env = () => ({
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    ...(testContext().scratch.dialect === 'mysql' ? { DATABASE_URL: testContext().scratch.url } : {}),
  });
  const admin = `first-admin-${crypto.randomBytes(3).toString('hex')}`;
  const password = 'correct horse battery staple';
  const secret = `s3cret-${crypto.randomBytes(6).toString('hex')}`;
  let containerPath = '';
  let credentialId = 0;

  before(async () => {
    checkout = copyCheckout();
    const build = await run(checkout, process.execPath, ['bin/build.js'], env());
    expect(build.code, build.stdout + build.stderr).to.equal(0);
  });

  after(() => {
    if (checkout) fs.rmSync(checkout, { recursive: true, force: true });
  });

  it('bin/create-admin and dist/server.js share <checkout>/data, created private; nothing lands in dist/', async () => {
    // bin/ shims run the compiled script when dist/ is current.
    expect((await run(checkout, process.execPath, ['bin/build.js', '--check'], env())).code).to.equal(0);
    // The Proxmox VE simulator and the demo that starts it are development tools: they never ship.
    const built = fs.readdirSync(path.join(checkout, 'dist'), { recursive: true }).map(String);
    expect(built.filter((f) => /pve-sim|^tools\/|^bin\/demo\./.test(f)), 'development tools in dist/').to.deep.equal([]);
    expect(built, 'the build itself').to.include('server.js');
    const created = await run(checkout, 'bin/create-admin', ['--username', admin, '--password-stdin'], env(), password + '\n');
    expect(created.code, created.stderr).to.equal(0);
    expect(created.stdout).to.contain(`Created administrator '${admin}'.`);

    const server = await startServerProcess(env(), { cwd: checkout, compiled: true, defaultDataDir: true });
    try {
      const agent = request.agent(server.url);
      await login(agent, admin, password);
      const csrf = csrfFrom((await agent.get('/containers').set('Accept', 'text/html').expect(200)).text);
      const hostname = `${admin}.example.org`;
      const ct = await agent.post('/containers').set('X-CSRF-Token', csrf).send({ hostname, purpose: 'compiled-server test' }).expect(201);
      containerPath = `/containers/${ct.body.containerId}`;
      const cred = await agent.post(`${containerPath}/credentials`).set('X-CSRF-Token', csrf).send({ label: 'root', username: 'root', password: secret }).expect(201);
      credentialId = cred.body.id;
    } finally {
      expect(await server.stop()).to.equal(0);
    }

    const data = path.join(checkout, 'data');
    expect(fs.existsSync(path.join(checkout, 'dist', 'data')), 'dist/data must not exist').to.equal(false);
    expect(mode(data)).to.equal(0o700);
    const required = ['session-secret', 'encryption-key', ...(testContext().scratch.dialect === 'sqlite' ? ['berth.db'] : [])];
    for (const file of required) expect(mode(path.join(data, file)), file).to.equal(0o600);
    // The server stopped cleanly, so SQLite may have removed its -wal/-shm; any left are private too.
    for (const file of fs.readdirSync(data).filter((f) => f.startsWith('berth.db-'))) expect(mode(path.join(data, file)), file).to.equal(0o600);
  });

  it('opens every credential after dist/ is removed and rebuilt', async () => {
    expect(credentialId, 'the previous test stored a credential').to.be.greaterThan(0);
    fs.rmSync(path.join(checkout, 'dist'), { recursive: true });
    const rebuilt = await run(checkout, process.execPath, ['bin/build.js'], env());
    expect(rebuilt.code, rebuilt.stdout + rebuilt.stderr).to.equal(0);
    expect(rebuilt.stdout).to.contain('First build: compiling Berth into dist/');
    // A second start with nothing changed does not compile again.
    const again = await run(checkout, process.execPath, ['bin/build.js'], env());
    expect(again.stdout).to.contain('dist/ is up to date');

    const server = await startServerProcess(env(), { cwd: checkout, compiled: true, defaultDataDir: true });
    try {
      const agent = request.agent(server.url);
      await login(agent, admin, password);
      const csrf = csrfFrom((await agent.get(containerPath).set('Accept', 'text/html').expect(200)).text);
      const revealed = await agent.post(`${containerPath}/credentials/${credentialId}/reveal`).set('X-CSRF-Token', csrf).set('Accept', 'application/json').expect(200);
      expect(revealed.body.password).to.equal(secret);
    } finally {
      expect(await server.stop()).to.equal(0);
    }
  });
});
