// bin/berth-edge-pull, the script an edge host runs from cron, against a running Berth and a real nginx:
// the first pull applies and reports `applied`, the next is a 304 that touches nothing, a version that
// passes nginx -t on Berth (placeholder certificates) but not on the edge (its domain's certificate is
// missing there) is refused with the old file kept byte for byte, a version whose reload the master
// refuses (a port another program holds) is rolled back, and a bad token changes nothing.
//
// Berth runs on a database of its own: the nginx.conf it serves holds every service in the registry,
// and the run's shared database has other files' services (with certificate paths that exist on no
// edge), which would make "the first pull applies" depend on which files ran before this one.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import type { Config } from '../../../config/index.js';
import { initModels, type Edge } from '../../../models/index.js';
import { createApp } from '../../../src/app.js';
import { Auditor } from '../../../src/audit/index.js';
import { openDatabase, type Db } from '../../../src/database.js';
import { publishEdgeConfig } from '../../../src/edge/publish.js';
import { createLogger } from '../../../src/lib/logger.js';
import { createApiToken } from '../../../src/services/apiTokens.js';
import { createContainer } from '../../factories/inventory.js';
import { createAdminUser } from '../../factories/users.js';
import { testCommand } from '../../support/command.js';
import { testConfig, testContext } from '../../support/context.js';
import { createScratchDatabase, type ScratchDatabase } from '../../support/databases.js';
import { makeCertificates, type TestCertificates } from '../../support/tls.js';
import { runEdgePull, type EdgePullRun } from '../../support/edge-pull.js';
// Ports the OS calls free right now (nginx binds them later: the config names ports, it cannot ask for 0).
import { freePort } from '../../support/nginx.js';

const NGINX = '/usr/sbin/nginx';

/** Runs the script as cron would (test/support/edge-pull.ts). */
const runPull = (env: Record<string, string>, args: string[] = []): Promise<Run> => runEdgePull(env, args, 60_000);
type Run = EdgePullRun;

/** Retries `attempt` until it resolves (nginx answers after a start or reload in its own time), for at most `ms`. */
async function eventually<T>(what: string, attempt: () => Promise<T>, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await attempt();
    } catch (e) {
      if (Date.now() > deadline) throw new Error(`${what}: still failing after ${ms} ms: ${(e as Error).message}`, { cause: e });
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** GET https://127.0.0.1:port/ for `hostname` (SNI and Host), without verifying the test certificate. */
function httpsGet(port: number, hostname: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.get({ host: '127.0.0.1', port, path: '/', servername: hostname, headers: { host: hostname }, rejectUnauthorized: false, agent: false }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.once('error', reject);
    req.setTimeout(5000, () => req.destroy(new Error('timed out')));
  });
}

/**
 * Starts nginx in the foreground from `prefix` with `conf`; resolves once it wrote its pid file. Not
 * tracked per test: it lives for the whole describe(), whose after() stops it.
 */
async function startNginx(prefix: string, conf: string, pidFile: string) {
  let stderr = '';
  const proc = spawn(NGINX, ['-p', `${prefix}/`, '-c', conf, '-g', 'daemon off;'], { stdio: ['ignore', 'ignore', 'pipe'] });
  proc.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
    await exited;
  };
  try {
    await eventually('nginx writing its pid file', async () => {
      if (proc.exitCode !== null) throw new Error(`nginx exited with ${proc.exitCode}: ${stderr}`);
      if (!fs.readFileSync(pidFile, 'utf8').trim()) throw new Error('empty pid file');
    });
  } catch (e) {
    await stop();
    throw e;
  }
  return { stop };
}

/** Listens on 127.0.0.1 and a port the OS picks; returns its port and a close function. */
async function listen(server: http.Server): Promise<{ port: number; close: () => Promise<void> }> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const close = () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve())));
  return { port: (server.address() as net.AddressInfo).port, close };
}

describe('bin/berth-edge-pull against Berth and a real nginx', function () {
  this.timeout(60_000);

  let scratch: ScratchDatabase;
  let db: Db;
  let config: Config;
  let stopApp: (() => Promise<void>) | undefined;
  let closeServer: (() => Promise<void>) | undefined;
  let closeBackend: (() => Promise<void>) | undefined;
  let stopNginx: (() => Promise<void>) | undefined;
  let certs: TestCertificates;
  let berthUrl: string;
  let edgeToken: string;
  let readToken: string;
  let backendPort: number;
  let containerId: number;
  // The edge host: nginx's runtime files in `edge` (paths Berth's config names, so no spaces there);
  // the config file and the script's state in directories with spaces, as the script must cope.
  let edge: string;
  let confDir: string;
  let conf: string;
  let stateDir: string;
  let httpsPort: number;
  const edgeName = `edge-pull-${process.pid}`;
  const appHost = 'app.pull-test.example';

  const cmd = () => testCommand({ models: db.models, sequelize: db.sequelize, config, auditor: new Auditor(db.models, null) });
  const edgeRow = async () => (await db.models.Edge.findOne({ where: { name: edgeName } })) as Edge;
  const env = (overrides: Record<string, string> = {}) => ({
    BERTH_URL: berthUrl,
    BERTH_EDGE_TOKEN: edgeToken,
    EDGE_NAME: edgeName,
    NGINX_CONF: conf,
    NGINX_BIN: NGINX,
    NGINX_PREFIX: `${edge}/`,
    STATE_DIR: stateDir,
    CURL_TIMEOUT: '10',
    ...overrides,
  });
  const publish = async (reason: string) => {
    const result = await publishEdgeConfig(cmd(), { reason });
    expect(result, `publishing "${reason}"`).to.not.equal(null);
    return result!;
  };
  const fileState = () => ({ bytes: fs.readFileSync(conf), mtimeMs: fs.statSync(conf).mtimeMs });

  before(async function () {
    this.timeout(180_000);
    edge = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-edge-pull-'));
    confDir = path.join(edge, 'etc nginx');
    stateDir = path.join(edge, 'state dir');
    conf = path.join(confDir, 'nginx.conf');
    fs.mkdirSync(confDir);
    fs.mkdirSync(path.join(edge, 'temp'));
    certs = await makeCertificates();
    httpsPort = await freePort();
    const oldPort = await freePort();

    scratch = await createScratchDatabase();
    config = testConfig(scratch.url, {
      LOG_LEVEL: 'silent',
      EDGE_PID_FILE: path.join(edge, 'nginx.pid'),
      EDGE_ERROR_LOG: path.join(edge, 'error.log'),
      EDGE_ACCESS_LOG: path.join(edge, 'access.log'),
      EDGE_TEMP_DIR: path.join(edge, 'temp'),
      EDGE_CERTIFICATE: path.join(certs.dir, 'server.crt'),
      EDGE_CERTIFICATE_KEY: path.join(certs.dir, 'server.key'),
      EDGE_HTTP_PORT: String(await freePort()),
      EDGE_HTTPS_PORT: String(httpsPort),
      // Berth proves each version itself, with throwaway certificates: what passes here may still fail on the edge.
      EDGE_NGINX_BINARY: NGINX,
      EDGE_CHECK_CERTIFICATES: 'placeholder',
      EDGE_PUBLISH_INTERVAL_SECONDS: '0',
    });
    db = await openDatabase(config);

    const built = createApp({ config, logger: createLogger('silent'), sequelize: db.sequelize, models: db.models });
    stopApp = built.stop;
    // Berth and the container's backend live for the whole describe() (closed in after()).
    const berth = await listen(http.createServer(built.app));
    berthUrl = `http://127.0.0.1:${berth.port}`;
    closeServer = berth.close;
    const backend = await listen(http.createServer((_req, res) => res.end('hello from the container')));
    backendPort = backend.port;
    closeBackend = backend.close;

    // The factories write through the global model classes, which openDatabase pointed at this database.
    const { user: admin } = await createAdminUser();
    edgeToken = (await createApiToken(cmd(), { userId: admin.id, name: 'edge pull test', scope: 'edge' })).token;
    readToken = (await createApiToken(cmd(), { userId: admin.id, name: 'not an edge token', scope: 'read' })).token;
    const container = await createContainer({ hostname: 'pull-web.example.org', ipv4Address: '127.0.0.1', status: 'running' });
    containerId = container.id;
    await db.models.Service.create({ containerId, type: 'http', internalPort: backendPort, externalPort: null, externalHostname: appHost, tls: false, domainId: null });
    await publish('edge-pull test: first service');

    // What the edge ran before Berth: a config of its own, with the same pid file.
    fs.writeFileSync(
      conf,
      [
        `pid ${path.join(edge, 'nginx.pid')};`,
        `error_log ${path.join(edge, 'error.log')};`,
        'events { worker_connections 64; }',
        'http {',
        '  access_log off;',
        ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `  ${t}_temp_path ${path.join(edge, 'temp', t)};`),
        `  server { listen 127.0.0.1:${oldPort}; return 200 "before Berth\\n"; }`,
        '}',
        '',
      ].join('\n'),
    );
    ({ stop: stopNginx } = await startNginx(edge, conf, path.join(edge, 'nginx.pid')));
  });

  after(async () => {
    await stopNginx?.();
    await closeServer?.();
    await closeBackend?.();
    await stopApp?.();
    await db?.close();
    await scratch?.drop();
    // The model classes are global: back to the run's database for the files after this one.
    initModels(testContext().db.sequelize);
    await certs?.cleanup();
    if (edge) fs.rmSync(edge, { recursive: true, force: true });
  });

  it('applies the first version: tests it, swaps it in, reloads nginx (the service answers) and reports `applied`', async () => {
    const before = fs.readFileSync(conf);
    // This run takes its settings from a file (quoted paths with spaces) and the token from a file.
    const tokenFile = path.join(edge, 'edge token');
    fs.writeFileSync(tokenFile, `${edgeToken}\n`, { mode: 0o600 });
    const settings = path.join(edge, 'berth edge.env');
    const { BERTH_EDGE_TOKEN: _token, ...rest } = env();
    fs.writeFileSync(settings, ['# berth-edge-pull settings', ...Object.entries({ ...rest, BERTH_EDGE_TOKEN_FILE: tokenFile }).map(([k, v]) => `${k}="${v}"`), ''].join('\n'));

    const run = await runPull({ PATH: process.env.PATH ?? '/usr/bin:/bin' }, ['-c', settings]);
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stderr).to.equal('');
    expect(run.stdout).to.match(/^berth-edge-pull: applied version \d+ \([0-9a-f]{12}\) to .* and reloaded nginx\n$/);

    const served = await fetch(`${berthUrl}/nginx.conf`, { headers: { authorization: `Bearer ${edgeToken}` } });
    expect(served.status).to.equal(200);
    const body = await served.text();
    const version = Number(served.headers.get('x-berth-version'));
    expect(fs.readFileSync(conf, 'utf8')).to.equal(body);
    expect(fs.readFileSync(`${conf}.previous`)).to.deep.equal(before);
    expect(fs.existsSync(`${conf}.berth-new`)).to.equal(false);

    // nginx runs the new file: the http service reaches its container through the edge.
    const answer = await eventually('the service through the reloaded nginx', () => httpsGet(httpsPort, appHost));
    expect(answer).to.deep.equal({ status: 200, body: 'hello from the container' });

    const row = await edgeRow();
    expect(row.lastResult).to.equal('applied');
    expect(row.lastReportVersionId).to.equal(version);
    expect(row.lastReportSha256).to.equal(served.headers.get('etag')!.replace(/"/g, ''));
    expect(row.lastOutput).to.include('test is successful');
  });

  it('does nothing on the next run: a 304, no output, the file untouched, no report', async () => {
    const before = fileState();
    const reportedAt = (await edgeRow()).lastReportAt!.getTime();
    const run = await runPull(env());
    expect(run).to.deep.equal({ code: 0, stdout: '', stderr: '' });
    expect(fileState()).to.deep.equal(before);
    expect((await edgeRow()).lastReportAt!.getTime()).to.equal(reportedAt);

    const verbose = await runPull(env(), ['-v']);
    expect(verbose.code).to.equal(0);
    expect(verbose.stdout).to.match(/^berth-edge-pull: version \d+ \([0-9a-f]{12}\) is already in place$/m);
  });

  it('refuses a version that passes nginx -t on Berth but not on the edge: exit 3, old file kept, `rejected` reported with nginx’s words', async () => {
    // Berth checks with placeholder certificates; this domain's pair does not exist on the edge.
    const missing = path.join(edge, 'missing', 'pull-test.pem');
    const domain = await db.models.PublicDomain.create({ name: 'pull-test.example', certificatePath: missing, keyPath: path.join(edge, 'missing', 'pull-test.key'), userClaimable: false, isDefault: false });
    const service = await db.models.Service.create({ containerId, type: 'http', internalPort: backendPort, externalPort: null, externalHostname: 'www.pull-test.example', tls: false, domainId: domain.id });
    const published = await publish('edge-pull test: a domain whose certificate the edge lacks');
    expect(published.version.status).to.equal('published');

    const before = fileState();
    const run = await runPull(env());
    expect(run.code, run.stderr).to.equal(3);
    expect(run.stdout).to.equal('');
    const lines = run.stderr.trimEnd().split('\n');
    expect(lines.every((l) => l.startsWith('berth-edge-pull: ')), run.stderr).to.equal(true);
    expect(lines[0]).to.equal(`berth-edge-pull: version ${published.version.id} (${published.version.sha256.slice(0, 12)}) failed nginx -t on this edge; ${conf} stays as it was. nginx said:`);
    expect(run.stderr).to.include(`cannot load certificate "${missing}"`);
    expect(fileState()).to.deep.equal(before);
    expect(fs.existsSync(`${conf}.berth-new`)).to.equal(false);
    // The old configuration still serves.
    expect(await httpsGet(httpsPort, appHost)).to.deep.equal({ status: 200, body: 'hello from the container' });

    const row = await edgeRow();
    expect(row.lastResult).to.equal('rejected');
    expect(row.lastReportVersionId).to.equal(published.version.id);
    expect(row.lastReportSha256).to.equal(published.version.sha256);
    expect(row.lastOutput).to.include(`cannot load certificate "${missing}"`).and.include('test failed');

    // The refused version is remembered: the next run gets a 304 for it, tests nothing and says nothing.
    const reportedAt = row.lastReportAt!.getTime();
    expect(await runPull(env())).to.deep.equal({ code: 0, stdout: '', stderr: '' });
    expect(fileState()).to.deep.equal(before);
    expect((await edgeRow()).lastReportAt!.getTime()).to.equal(reportedAt);

    await service.destroy();
    await domain.destroy();
  });

  it('changes nothing when Berth refuses the token (exit 2, one line naming the cause)', async () => {
    const before = fileState();
    const reportedAt = (await edgeRow()).lastReportAt!.getTime();

    const wrong = await runPull(env({ BERTH_EDGE_TOKEN: `berth_${'x'.repeat(43)}` }));
    expect(wrong.code).to.equal(2);
    expect(wrong.stdout).to.equal('');
    expect(wrong.stderr).to.match(/^berth-edge-pull: Berth refused the edge token: HTTP 401\b.*nothing changed\n$/);

    const none = await runPull(env({ BERTH_EDGE_TOKEN: '' }));
    expect(none.code).to.equal(2);
    expect(none.stderr).to.match(/^berth-edge-pull: Berth wants an edge token: HTTP 401\b.*nothing changed\n$/);

    const notEdge = await runPull(env({ BERTH_EDGE_TOKEN: readToken }));
    expect(notEdge.code).to.equal(2);
    expect(notEdge.stderr).to.match(/^berth-edge-pull: Berth refused this edge: HTTP 403\b.*nothing changed\n$/);

    const unreachable = await runPull(env({ BERTH_URL: `http://127.0.0.1:${await freePort()}` }));
    expect(unreachable.code).to.equal(2);
    expect(unreachable.stderr).to.match(/^berth-edge-pull: cannot reach Berth at .*nothing changed\n$/);

    expect(fileState()).to.deep.equal(before);
    expect((await edgeRow()).lastReportAt!.getTime()).to.equal(reportedAt);
  });

  it('puts the previous file back when the master refuses the new version after a reload that exited 0 (a port another program holds): exit 4, `rejected`', async () => {
    // nginx -t binds no socket and nginx -s reload exits 0 once the signal is sent: only the master
    // finds the port taken, logs [emerg] and keeps its old workers. The renderer writes `listen PORT;`
    // (every IPv4 address), so the port is held on 0.0.0.0 as well (node sets no SO_REUSEPORT).
    const holder = net.createServer();
    await new Promise<void>((resolve, reject) => {
      holder.once('error', reject);
      holder.listen(0, '0.0.0.0', () => resolve());
    });
    const heldPort = (holder.address() as net.AddressInfo).port;
    try {
      const before = fileState();
      const service = await db.models.Service.create({ containerId, type: 'tcp', internalPort: backendPort, externalPort: heldPort, externalHostname: null, tls: false, domainId: null });
      const published = await publish('edge-pull test: a tcp port another program holds on the edge');
      expect(published.version.status).to.equal('published');
      expect((await db.models.EdgeConfigVersion.findByPk(published.version.id))!.body).to.include(`listen ${heldPort};`);

      const run = await runPull(env({ RELOAD_WAIT: '2' }));
      expect(run.code, run.stderr).to.equal(4);
      expect(run.stdout).to.equal('');
      const lines = run.stderr.trimEnd().split('\n');
      expect(lines.every((l) => l.startsWith('berth-edge-pull: ') && l.trim() !== 'berth-edge-pull:'), run.stderr).to.equal(true);
      expect(lines[0]).to.match(new RegExp(`^berth-edge-pull: nginx did not take version ${published.version.id} \\(${published.version.sha256.slice(0, 12)}\\): its master \\(pid \\d+\\) started no new workers within RELOAD_WAIT=2 seconds of nginx -s reload, so it kept the configuration it ran; the previous .*nginx\\.conf is back\\.`));
      expect(run.stderr).to.include(`berth-edge-pull: nginx's error log ${path.join(edge, 'error.log')} says:\n`);
      expect(run.stderr).to.match(new RegExp(`\\[emerg\\] .*bind\\(\\) to 0\\.0\\.0\\.0:${heldPort} failed`));
      // The file nginx runs is back byte for byte, and nginx still serves it.
      expect(fs.readFileSync(conf)).to.deep.equal(before.bytes);
      expect(fs.existsSync(`${conf}.berth-new`)).to.equal(false);
      expect(await eventually('the service through nginx after the rollback', () => httpsGet(httpsPort, appHost))).to.deep.equal({ status: 200, body: 'hello from the container' });

      const row = await edgeRow();
      expect(row.lastResult).to.equal('rejected');
      expect(row.lastReportVersionId).to.equal(published.version.id);
      expect(row.lastReportSha256).to.equal(published.version.sha256);
      expect(row.lastOutput).to.include('test is successful').and.include('nginx -s reload:').and.include('started no new workers').and.include(`0.0.0.0:${heldPort}`);
      await service.destroy();
    } finally {
      await new Promise<void>((resolve) => holder.close(() => resolve()));
    }
  });

  it('puts the previous file back when nginx cannot reload (exit 4) and reports `rejected`', async () => {
    // nginx is down: the new version passes nginx -t, but there is no master to reload.
    await stopNginx!();
    const before = fileState();
    await db.models.Service.create({ containerId, type: 'http', internalPort: backendPort, externalPort: null, externalHostname: 'second.pull-test.example', tls: false, domainId: null });
    const published = await publish('edge-pull test: a second service');

    const run = await runPull(env());
    expect(run.code, run.stderr).to.equal(4);
    expect(run.stderr).to.match(new RegExp(`^berth-edge-pull: nginx did not reload with version ${published.version.id} \\(`));
    expect(fs.readFileSync(conf)).to.deep.equal(before.bytes);
    expect(fs.existsSync(`${conf}.berth-new`)).to.equal(false);

    const row = await edgeRow();
    expect(row.lastResult).to.equal('rejected');
    expect(row.lastReportVersionId).to.equal(published.version.id);
    expect(row.lastOutput).to.include('nginx -s reload:').and.include('nginx.pid');
  });
});
