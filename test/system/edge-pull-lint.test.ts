// bin/berth-edge-pull without Berth: shellcheck finds nothing in it, bad settings stop it with one line
// before it touches anything, and what a server sends never reaches a shell. The server here is a stub
// that answers like Berth's GET /nginx.conf and POST /edges/report, and nginx a stub that records how
// it was called; test/integration/edge/edge-pull.test.ts runs the script against Berth and a real nginx.
import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { projectRoot } from '../../src/lib/paths.js';
import { track } from '../support/resources.js';
import { EDGE_PULL_SCRIPT, runEdgePull, type EdgePullRun } from '../support/edge-pull.js';

const SCRIPT = EDGE_PULL_SCRIPT;
const TOKEN = `berth_${'a'.repeat(43)}`;

/** Runs the script as cron would (test/support/edge-pull.ts). */
const runPull = (env: Record<string, string>, args: string[] = []): Promise<Run> => runEdgePull(env, args, 30_000);
type Run = EdgePullRun;

const sha256 = (text: string) => crypto.createHash('sha256').update(text).digest('hex');

describe('bin/berth-edge-pull: shellcheck', () => {
  it('is POSIX sh that shellcheck finds nothing in', () => {
    const result = spawnSync('shellcheck', ['-s', 'sh', '-f', 'gcc', SCRIPT], { encoding: 'utf8' });
    expect(result.error, 'shellcheck must be installed (test/setup.js installs it)').to.equal(undefined);
    expect(result.stdout + result.stderr).to.equal('');
    expect(result.status).to.equal(0);
  });

  it('is executable, with #!/bin/sh', () => {
    fs.accessSync(SCRIPT, fs.constants.X_OK);
    expect(fs.readFileSync(SCRIPT, 'utf8').split('\n')[0]).to.equal('#!/bin/sh');
  });
});

describe('bin/berth-edge-pull without Berth', function () {
  this.timeout(30_000);

  /** What the stub Berth answers and what it received. */
  interface Stub {
    url: string;
    body: string;
    headers: Record<string, string>;
    reportStatus: number;
    gets: http.IncomingHttpHeaders[];
    reports: URLSearchParams[];
    close(): Promise<void>;
  }

  async function startStub(): Promise<Stub> {
    const stub = { body: '', headers: {}, reportStatus: 204, gets: [], reports: [] } as unknown as Stub;
    const server = http.createServer((req, res) => {
      let data = '';
      req.on('data', (d) => (data += d));
      req.on('end', () => {
        if (req.method === 'GET' && req.url === '/nginx.conf') {
          stub.gets.push(req.headers);
          const etag = `"${sha256(stub.body)}"`;
          if (String(req.headers['if-none-match'] ?? '').includes(etag)) return res.writeHead(304, { ETag: etag, 'X-Berth-Version': '1', ...stub.headers }).end();
          return res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', ETag: etag, 'X-Berth-Version': '1', ...stub.headers }).end(stub.body);
        }
        if (req.method === 'POST' && req.url === '/edges/report') {
          stub.reports.push(new URLSearchParams(data));
          const answers: Record<number, string> = {
            204: '',
            422: '{"error":"Please correct the highlighted fields.","fields":{"output":"At most 65536 characters of output."},"requestId":"r1"}',
            503: '{"error":"database unavailable","requestId":"r2"}',
          };
          return res.writeHead(stub.reportStatus, { 'Content-Type': 'application/json' }).end(answers[stub.reportStatus]);
        }
        res.writeHead(404).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    stub.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    stub.close = track(`stub berth ${stub.url}`, () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))));
    return stub;
  }

  let dir: string;
  let stub: Stub;
  let env: Record<string, string>;
  let nginxCalls: string;
  let marker: string;

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth edge pull '));
    fs.mkdirSync(path.join(dir, 'etc nginx'));
    nginxCalls = path.join(dir, 'nginx calls');
    marker = path.join(dir, 'marker');
    // A stand-in nginx: records each call's arguments (one per line) and fails `-t` when the file says so.
    const fakeNginx = path.join(dir, 'fake nginx');
    fs.writeFileSync(
      fakeNginx,
      [
        '#!/bin/sh',
        `calls='${nginxCalls}'`,
        'printf "call\\n" >>"$calls"',
        'for a in "$@"; do printf "%s\\n" "$a" >>"$calls"; done',
        'case " $* " in *" -t "*) for a in "$@"; do last=$a; done; if grep -q "broken" "$last"; then echo "nginx: [emerg] unknown directive \\"broken\\" in $last:2" >&2; exit 1; fi ;; esac',
        // A runaway: 100,000 quotes, each of which URL-encoding makes three characters.
        'case " $* " in *" -t "*) if grep -q "noisy" "$last"; then head -c 100000 /dev/zero | tr "\\0" "\\"" >&2; exit 1; fi ;; esac',
        // A master that refuses the new configuration says so in its error log (when the prefix has one).
        `case " $* " in *" -s reload "*) if [ -f '${path.join(dir, 'prefix with space', 'error.log')}' ]; then echo "2026/12/02 08:00:00 [emerg] 7#7: bind() to 0.0.0.0:20022 failed (98: Address already in use)" >>'${path.join(dir, 'prefix with space', 'error.log')}'; fi ;; esac`,
        'exit 0',
        '',
      ].join('\n'),
      { mode: 0o755 },
    );
    stub = await startStub();
    env = {
      BERTH_URL: stub.url,
      BERTH_EDGE_TOKEN: TOKEN,
      EDGE_NAME: 'edge-1',
      NGINX_CONF: path.join(dir, 'etc nginx', 'nginx.conf'),
      NGINX_BIN: fakeNginx,
      NGINX_PREFIX: path.join(dir, 'prefix with space') + '/',
      STATE_DIR: path.join(dir, 'state dir'),
      CURL_TIMEOUT: '5',
    };
  });

  afterEach(async () => {
    await stub.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const calls = () => (fs.existsSync(nginxCalls) ? fs.readFileSync(nginxCalls, 'utf8').split('call\n').filter(Boolean).map((c) => c.trimEnd().split('\n')) : []);

  it('stops with one line and exit 1 on bad settings, before it fetches or touches anything', async () => {
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ BERTH_URL: '' }, /^berth-edge-pull: BERTH_URL is not set/],
      [{ BERTH_URL: 'ftp://berth.example.org' }, /^berth-edge-pull: BERTH_URL must start with http:\/\/ or https:\/\//],
      [{ BERTH_EDGE_TOKEN: 'berth_x"; touch /tmp/x' }, /^berth-edge-pull: the edge token holds characters no Berth token has/],
      [{ EDGE_NAME: 'edge one' }, /^berth-edge-pull: EDGE_NAME may hold only letters, digits and \. _ -/],
      [{ EDGE_NAME: '-edge' }, /^berth-edge-pull: EDGE_NAME must start with a letter or digit/],
      [{ NGINX_CONF: 'nginx.conf' }, /^berth-edge-pull: NGINX_CONF must be an absolute path/],
      [{ NGINX_BIN: path.join(dir, 'no-nginx-here') }, /^berth-edge-pull: nginx not found/],
      [{ CURL_TIMEOUT: '5s' }, /^berth-edge-pull: CURL_TIMEOUT must be a whole number of seconds/],
      [{ RELOAD_WAIT: '0' }, /^berth-edge-pull: RELOAD_WAIT must be a whole number of seconds, 1 or more/],
      [{ LOCK_STALE_MINUTES: '10m' }, /^berth-edge-pull: LOCK_STALE_MINUTES must be a whole number of minutes, 1 or more/],
    ];
    for (const [overrides, message] of cases) {
      const run = await runPull({ ...env, ...overrides });
      expect(run.code, JSON.stringify(overrides)).to.equal(1);
      expect(run.stderr, JSON.stringify(overrides)).to.match(message).and.match(/^[^\n]*\n$/);
    }
    const usage = await runPull(env, ['-x']);
    expect(usage.code).to.equal(1);
    expect(usage.stderr).to.include('Usage: berth-edge-pull');
    expect(stub.gets).to.have.length(0);
    expect(fs.existsSync(env.NGINX_CONF)).to.equal(false);
  });

  it('reads a settings file without running it; the environment wins over the file', async () => {
    const settings = path.join(dir, 'berth edge.env');
    stub.body = 'events {}\n';
    fs.writeFileSync(settings, [`# comment`, `export EDGE_NAME='$(touch ${marker})'`, ''].join('\n'));
    const run = await runPull(env, ['-c', settings]);
    expect(run.code).to.equal(0);
    expect(fs.existsSync(marker)).to.equal(false);
    expect(stub.gets[0]['x-berth-edge']).to.equal('edge-1');

    const { EDGE_NAME: _name, ...withoutName } = env;
    const fromFile = await runPull(withoutName, ['-c', settings]);
    expect(fromFile.code).to.equal(1);
    expect(fromFile.stderr).to.equal(`berth-edge-pull: EDGE_NAME must start with a letter or digit: $(touch ${marker})\n`);
    expect(fs.existsSync(marker)).to.equal(false);

    fs.writeFileSync(settings, 'NGINX_CONFIG=/etc/nginx/nginx.conf\n');
    const unknown = await runPull(env, ['-c', settings]);
    expect(unknown.code).to.equal(1);
    expect(unknown.stderr).to.equal(`berth-edge-pull: ${settings}:1: unknown setting NGINX_CONFIG\n`);
  });

  it('tests, swaps and reloads with the settings as given (spaces kept), sending the token only in headers', async () => {
    stub.body = 'events {}\n# $(touch marker) `touch marker`\n';
    const run = await runPull(env);
    expect(run.code, run.stderr).to.equal(0);
    expect(fs.readFileSync(env.NGINX_CONF, 'utf8')).to.equal(stub.body);
    const [test, reload] = calls();
    expect(test).to.deep.equal(['-p', env.NGINX_PREFIX, '-t', '-c', `${env.NGINX_CONF}.berth-new`]);
    expect(reload).to.deep.equal(['-p', env.NGINX_PREFIX, '-c', env.NGINX_CONF, '-s', 'reload']);
    expect(stub.gets[0].authorization).to.equal(`Bearer ${TOKEN}`);
    expect(stub.gets[0]['x-berth-edge']).to.equal('edge-1');
    // Without a token (Berth lets allow-listed addresses in), no Authorization header at all.
    await runPull({ ...env, BERTH_EDGE_TOKEN: '' });
    expect(stub.gets[1]).to.not.have.property('authorization');
    expect(stub.reports).to.have.length(1);
    expect(Object.fromEntries(stub.reports[0])).to.deep.equal({ edge: 'edge-1', version: '1', sha256: sha256(stub.body), result: 'applied', output: '' });
    expect(fs.existsSync(path.join(projectRoot, 'marker'))).to.equal(false);
  });

  it('takes nothing from headers that are not a sha256 and a number, and nothing whose sha256 is not its ETag', async () => {
    stub.body = 'events {}\n';
    stub.headers = { 'X-Berth-Version': `1; touch ${marker}` };
    const badVersion = await runPull(env);
    expect(badVersion.code).to.equal(2);
    expect(badVersion.stderr).to.equal("berth-edge-pull: Berth's answer has no X-Berth-Version; nothing changed\n");

    stub.headers = { ETag: `"${sha256('something else')}"` };
    const mismatch = await runPull(env);
    expect(mismatch.code).to.equal(2);
    expect(mismatch.stderr).to.match(/^berth-edge-pull: the configuration received \(sha256 [0-9a-f]{12}\) is not the one Berth sent/);

    expect(calls()).to.have.length(0);
    expect(fs.existsSync(env.NGINX_CONF)).to.equal(false);
    expect(fs.existsSync(marker)).to.equal(false);
    expect(stub.reports).to.have.length(0);
  });

  it('remembers a version nginx -t refused, and asks for it with If-None-Match so it is not tested again', async () => {
    fs.writeFileSync(env.NGINX_CONF, 'events {}\n# before\n');
    stub.body = 'events {}\nbroken;\n';
    const refused = await runPull(env);
    expect(refused.code).to.equal(3);
    expect(refused.stderr.split('\n')[1]).to.equal(`berth-edge-pull:   nginx: [emerg] unknown directive "broken" in ${env.NGINX_CONF}.berth-new:2`);
    expect(fs.readFileSync(env.NGINX_CONF, 'utf8')).to.equal('events {}\n# before\n');
    expect(stub.reports.map((r) => r.get('result'))).to.deep.equal(['rejected']);

    const again = await runPull(env);
    expect(again).to.deep.equal({ code: 0, stdout: '', stderr: '' });
    expect(stub.gets[1]['if-none-match']).to.equal(`"${sha256('events {}\n# before\n')}", "${sha256(stub.body)}"`);
    expect(calls()).to.have.length(1);
    expect(stub.reports).to.have.length(1);
  });

  it("sends the first 16 KiB of nginx's words, so the report stays inside Berth's request size limit", async () => {
    stub.body = 'events {}\nnoisy;\n';
    const run = await runPull(env);
    expect(run.code).to.equal(3);
    expect(stub.reports).to.have.length(1);
    expect(stub.reports[0].get('output')).to.equal('"'.repeat(16384));
  });

  it('keeps a report Berth did not take and sends it with the next run', async () => {
    stub.body = 'events {}\n';
    stub.reportStatus = 503;
    const run = await runPull(env);
    expect(run.code).to.equal(2);
    expect(run.stdout).to.match(/^berth-edge-pull: applied version 1 /);
    expect(run.stderr).to.equal('berth-edge-pull: could not report version 1 (applied) to Berth: HTTP 503 (database unavailable); it is sent again on the next run\n');

    // Retried with the next run (a 304), with the field errors of a 422 in the line.
    stub.reportStatus = 422;
    const refused = await runPull(env);
    expect(refused).to.deep.equal({
      code: 2,
      stdout: '',
      stderr: 'berth-edge-pull: could not report version 1 (applied) to Berth: HTTP 422 (Please correct the highlighted fields. {"output":"At most 65536 characters of output."}); it is sent again on the next run\n',
    });

    stub.reportStatus = 204;
    const next = await runPull(env);
    expect(next).to.deep.equal({ code: 0, stdout: '', stderr: '' });
    expect(stub.reports.map((r) => r.get('result'))).to.deep.equal(['applied', 'applied', 'applied']);
    expect(await runPull(env)).to.deep.equal({ code: 0, stdout: '', stderr: '' });
    expect(stub.reports).to.have.length(3);
  });

  it('leaves a run in progress alone, and takes over the lock of a run that died', async () => {
    stub.body = 'events {}\n';
    fs.mkdirSync(env.STATE_DIR);
    fs.mkdirSync(path.join(env.STATE_DIR, 'lock'));
    fs.writeFileSync(path.join(env.STATE_DIR, 'lock', 'pid'), `${process.pid}\n`);
    const busy = await runPull(env);
    expect(busy).to.deep.equal({ code: 0, stdout: '', stderr: '' });
    expect(stub.gets).to.have.length(0);

    // A pid no process has (above the kernel's pid_max).
    fs.writeFileSync(path.join(env.STATE_DIR, 'lock', 'pid'), '999999999\n');
    const run = await runPull(env);
    expect(run.code, run.stderr).to.equal(0);
    expect(fs.readFileSync(env.NGINX_CONF, 'utf8')).to.equal(stub.body);
    expect(fs.existsSync(path.join(env.STATE_DIR, 'lock'))).to.equal(false);
  });

  it('takes over a lock older than LOCK_STALE_MINUTES even when its pid is alive (reused by another process), and says when it skips for long', async () => {
    stub.body = 'events {}\n';
    const lock = path.join(env.STATE_DIR, 'lock');
    const pidFile = path.join(lock, 'pid');
    fs.mkdirSync(lock, { recursive: true });
    // A live pid that is no run of the script: this test's own.
    fs.writeFileSync(pidFile, `${process.pid}\n`);
    const takenAgo = (minutes: number) => {
      const then = new Date(Date.now() - minutes * 60_000 - 5_000);
      fs.utimesSync(pidFile, then, then);
    };

    // Held for 3 minutes: still skipped, but with a line cron mails.
    takenAgo(3);
    const skipped = await runPull(env);
    expect(skipped).to.deep.equal({
      code: 0,
      stdout: '',
      stderr: `berth-edge-pull: another run (pid ${process.pid}) has held the lock for 3 minutes; skipping this run (the lock is taken over after LOCK_STALE_MINUTES=10)\n`,
    });
    expect(stub.gets).to.have.length(0);

    // Older than LOCK_STALE_MINUTES: taken over with a warning, and the run does its work.
    takenAgo(11);
    const run = await runPull(env);
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stderr).to.equal(
      `berth-edge-pull: the lock ${lock} (pid ${process.pid}) was taken 11 minutes ago, more than LOCK_STALE_MINUTES=10: its run is taken for dead, this run takes the lock over\n`,
    );
    expect(run.stdout).to.match(/^berth-edge-pull: applied version 1 /);
    expect(fs.readFileSync(env.NGINX_CONF, 'utf8')).to.equal(stub.body);
    expect(fs.existsSync(lock)).to.equal(false);

    // The setting moves the limit.
    fs.mkdirSync(lock);
    fs.writeFileSync(pidFile, `${process.pid}\n`);
    takenAgo(3);
    const early = await runPull({ ...env, LOCK_STALE_MINUTES: '2' });
    expect(early.code, early.stderr).to.equal(0);
    expect(early.stderr).to.match(/was taken 3 minutes ago, more than LOCK_STALE_MINUTES=2: /);
    expect(fs.existsSync(lock)).to.equal(false);
    expect(stub.gets).to.have.length(2);
  });

  it('counts a reload after which the master starts no new workers as refused: the previous file back, `rejected` with its [emerg] lines, exit 4', async () => {
    // The stand-in master: a process without children, like a master that kept its old workers. The
    // configuration names its pid file and error log relative to the prefix (nginx -p).
    const prefix = env.NGINX_PREFIX;
    fs.mkdirSync(prefix);
    const master = spawn('sleep', ['60'], { stdio: 'ignore' });
    const stopMaster = track(`stand-in nginx master ${master.pid}`, () => {
      master.kill('SIGKILL');
    });
    try {
      fs.writeFileSync(path.join(prefix, 'nginx.pid'), `${master.pid}\n`);
      fs.writeFileSync(path.join(prefix, 'error.log'), '2026/12/01 08:00:00 [emerg] 7#7: a line from before this run\n');
      fs.writeFileSync(env.NGINX_CONF, 'events {}\n# before\n');
      stub.body = 'pid nginx.pid;\nerror_log error.log;\nevents {}\n';

      const run = await runPull({ ...env, RELOAD_WAIT: '1' });
      expect(run.code, run.stderr).to.equal(4);
      expect(run.stdout).to.equal('');
      expect(run.stderr).to.equal(
        [
          `berth-edge-pull: nginx did not take version 1 (${sha256(stub.body).slice(0, 12)}): its master (pid ${master.pid}) started no new workers within RELOAD_WAIT=1 seconds of nginx -s reload, so it kept the configuration it ran; the previous ${env.NGINX_CONF} is back.`,
          `berth-edge-pull: nginx's error log ${path.join(prefix, 'error.log')} says:`,
          'berth-edge-pull:   2026/12/02 08:00:00 [emerg] 7#7: bind() to 0.0.0.0:20022 failed (98: Address already in use)',
          '',
        ].join('\n'),
      );
      expect(fs.readFileSync(env.NGINX_CONF, 'utf8')).to.equal('events {}\n# before\n');
      expect(fs.existsSync(`${env.NGINX_CONF}.berth-new`)).to.equal(false);
      // The previous file was reloaded again.
      expect(calls().map((c) => c.slice(2))).to.deep.equal([
        ['-t', '-c', `${env.NGINX_CONF}.berth-new`],
        ['-c', env.NGINX_CONF, '-s', 'reload'],
        ['-c', env.NGINX_CONF, '-s', 'reload'],
      ]);
      expect(stub.reports.map((r) => r.get('result'))).to.deep.equal(['rejected']);
      expect(stub.reports[0].get('output')).to.include('started no new workers').and.include('bind() to 0.0.0.0:20022 failed').and.not.include('before this run');
    } finally {
      await stopMaster();
    }
  });
});
