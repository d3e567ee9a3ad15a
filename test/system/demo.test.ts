import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import readline from 'node:readline';
import { expect } from 'chai';
import request from 'supertest';
import { isFinalJobStatus } from '../../models/Job.js';
import { projectRoot } from '../../src/lib/paths.js';
import { track } from '../support/resources.js';

/** Every live descendant of `pid` (Linux /proc), zombies left out: they hold no resources. */
function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (state === 'Z') continue;
      children.set(Number(ppid), [...(children.get(Number(ppid)) ?? []), Number(entry)]);
    } catch {
      /* it ended while we looked */
    }
  }
  const found: number[] = [];
  const queue = [pid];
  while (queue.length) for (const child of children.get(queue.shift()!) ?? []) (found.push(child), queue.push(child));
  return found;
}

function alive(pid: number): boolean {
  try {
    return !fs.readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');
  } catch {
    return false;
  }
}

async function until<T>(what: string, timeoutMs: number, check: () => T | undefined | Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

interface Demo {
  proc: ChildProcess;
  /** stdout, line by line, as printed so far. */
  lines: string[];
  stderr: () => string;
  url: string;
  sim: string;
  password: string;
  /** Index in `lines` of the banner's closing rule. */
  bannerEnd: number;
  /** Sends SIGTERM; resolves with the exit code once the demo and everything it started have ended. */
  stop(): Promise<number | null>;
}

/** Runs `npm run demo`'s script over `dataDir` and waits for its banner. Tracked: a test that leaves it running fails. */
async function startDemo(dataDir: string): Promise<Demo> {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'bin/demo.ts'], {
    cwd: projectRoot,
    // LOG_LEVEL info: the children log every request, which must not reach the console.
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', DATA_DIR: dataDir, PORT: '0', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let stderr = '';
  proc.stderr!.on('data', (d) => (stderr += d));
  readline.createInterface({ input: proc.stdout! }).on('line', (line) => lines.push(line));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  let started: number[] = [];
  const kill = track('demo process', async () => {
    for (const pid of [proc.pid!, ...started, ...descendants(proc.pid!)]) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    await exited;
  });
  const stop = async () => {
    started = descendants(proc.pid!);
    proc.kill('SIGTERM');
    const code = await exited;
    // The server, the job runner and what they started end with the demo.
    await until(`the demo's processes ${started.join(', ')} to end`, 30_000, () => started.every((pid) => !alive(pid)) || undefined);
    await kill();
    return code;
  };
  try {
    const bannerEnd = await until('the banner', 150_000, () => {
      if (proc.exitCode !== null) throw new Error(`the demo exited with ${proc.exitCode}: ${stderr}`);
      const login = lines.findIndex((l) => l.startsWith('Log in as'));
      const end = login < 0 ? -1 : lines.findIndex((l, i) => i > login && l.startsWith('═'));
      return end < 0 ? undefined : end;
    });
    const text = lines.join('\n');
    return {
      proc,
      lines,
      stderr: () => stderr,
      url: /Berth is ready at (\S+)/.exec(text)![1],
      sim: /Proxmox VE simulator: (\S+)/.exec(text)![1],
      password: /^ {2}admin \/ (\S+)/m.exec(text)![1],
      bannerEnd,
      stop,
    };
  } catch (err) {
    await kill();
    throw err;
  }
}

const csrfOf = (html: string) => /name="csrf-token" content="([^"]+)"/.exec(html)![1];

async function logIn(url: string, username: string, password: string) {
  const agent = request.agent(url);
  const page = await agent.get('/login').expect(200);
  await agent.post('/login').type('form').send({ username, password, _csrf: csrfOf(page.text) }).expect(303);
  return agent;
}

describe('npm run demo', function () {
  // Two demo starts (each runs migrations, a sync and two tsx processes) on a loaded 2-core machine.
  this.timeout(400_000);
  let dataDir: string;
  beforeEach(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-demo-'));
  });
  afterEach(() => {
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('ends its output with the URL and logins, fills the inventory, catches mail for the account flow, and stops cleanly', async () => {
    const demo = await startDemo(dataDir);
    let code: number | null;
    try {
      // The banner: the URL and every login (the local admin and the seed's Proxmox users), last.
      const banner = demo.lines.slice(0, demo.bannerEnd + 1).join('\n');
      expect(demo.url).to.match(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(banner).to.match(/admin \/ \S+ +Berth admin, a local account \(realm "Berth \(local\)"\)/);
      expect(banner).to.include('alice@pve / alicepass123').and.include('root@pam / rootpass123');
      expect(banner).to.match(/Mail: .*catcher \(smtp:\/\/127\.0\.0\.1:\d+\)/);
      expect(banner).to.include(path.join(dataDir, 'mail'));
      expect(demo.lines.findIndex((l) => l.includes('Berth is ready at'))).to.be.greaterThan(demo.lines.findIndex((l) => l.startsWith('Mail:')));
      expect(demo.lines.filter((l) => l.trimStart().startsWith('{')), 'JSON log lines on the console').to.deep.equal([]);
      await request(demo.sim).get('/api2/json/version').expect(401);

      // The expiry scan the demo enqueues at start: alice's container 102 expires in 6 days (UTC; 5 in
      // TZ from 18:30 UTC), so her 7-day reminder reaches the catcher (the others are far off or expired).
      const reminder = await until('the expiry reminder', 30_000, () => demo.lines.findIndex((l) => /^Subject: Your container \S+ expires in [56] days$/.test(l)) + 1 || undefined);
      expect(demo.lines[reminder - 3]).to.match(/^Mail to alice@example\.org /);
      expect(demo.lines.slice(reminder).join('\n')).to.match(/\/expiry\/link\?token=/);
      const bannerEnd = Math.max(demo.bannerEnd, demo.lines.findIndex((l, i) => i >= reminder && l.startsWith('─')));

      // The edge: a default domain and services, an edge token, and the documented commands that run
      // bin/berth-edge-pull against a local nginx in the demo's prefix (started and stopped here).
      const edgeDir = path.join(dataDir, 'edge');
      const envFile = path.join(edgeDir, 'berth-edge.env');
      expect(banner).to.match(/Edge: 3 services, /);
      const startLine = demo.lines.find((l) => l.includes('# start it once'))!;
      expect(demo.lines.some((l) => l.includes(`bin/berth-edge-pull -c ${envFile} -v`))).to.equal(true);
      const edgeToken = fs.readFileSync(path.join(edgeDir, 'edge-token'), 'utf8').trim();
      const conf = await request(demo.url).get('/nginx.conf').set('Authorization', `Bearer ${edgeToken}`).expect(200);
      expect(conf.text).to.include('server_name web01.demo.berth.test;');
      const [nginx, ...nginxArgs] = startLine.trim().split('#')[0]!.trim().split(/\s+/);
      const runNginx = (args: string[]) => new Promise<number | null>((resolve) => spawn(nginx!, args, { stdio: 'ignore' }).once('exit', resolve));
      expect(await runNginx(nginxArgs)).to.equal(0);
      try {
        const pull = spawn('sh', [path.join(projectRoot, 'bin', 'berth-edge-pull'), '-c', envFile, '-v'], { env: { PATH: process.env.PATH ?? '' }, stdio: ['ignore', 'pipe', 'pipe'] });
        let pulled = '';
        pull.stdout.on('data', (d) => (pulled += d));
        pull.stderr.on('data', (d) => (pulled += d));
        expect(await new Promise((resolve) => pull.once('close', resolve)), pulled).to.equal(0);
        expect(fs.readFileSync(path.join(edgeDir, 'conf', 'nginx.conf'), 'utf8')).to.equal(conf.text);
      } finally {
        await runNginx([...nginxArgs, '-s', 'stop']);
      }

      // The simulator's machines are in the lists with owners, tags, purpose and expiry; one has a credential.
      const admin = await logIn(demo.url, 'admin', demo.password);
      expect((await admin.get('/admin/edge').expect(200)).text).to.include('demo-edge');
      const containersPage = (await admin.get('/containers').expect(200)).text;
      for (const text of ['web01', 'build01', 'db01', 'alice@pve', 'bob@pve', 'postgres']) expect(containersPage).to.include(text);
      const vmsPage = (await admin.get('/vms').expect(200)).text;
      for (const text of ['win-rdp01', 'legacy-vm', 'bob@pve', 'windows']) expect(vmsPage).to.include(text);
      const { containers } = (await admin.get('/containers').set('Accept', 'application/json').expect(200)).body;
      const { vms } = (await admin.get('/vms').set('Accept', 'application/json').expect(200)).body;
      expect(containers).to.have.length(3);
      expect(vms).to.have.length(2);
      type Row = { id: number; name: string; owner: string; tags: string[]; environment: string; expired: boolean; expiringSoon: boolean };
      const db01 = (containers as Row[]).find((c) => c.name === 'db01')!;
      expect(db01).to.deep.include({ owner: 'alice@pve', environment: 'staging', tags: ['db', 'postgres'] });
      const rows = [...containers, ...vms] as Row[];
      expect(rows.filter((r) => r.expired).map((r) => r.name), 'expired').to.have.members(['build01', 'legacy-vm']);
      expect(rows.filter((r) => r.expiringSoon).map((r) => r.name), 'expiring soon').to.have.members(['db01']);
      expect(rows.map((r) => r.owner)).to.have.members(['alice@pve', 'bob@pve', 'alice@pve', 'bob@pve', 'admin']);
      expect((await admin.get(`/containers/${db01.id}`).expect(200)).text).to.include('PostgreSQL for the team apps');
      const creds = (await admin.get(`/containers/${db01.id}/credentials`).set('Accept', 'application/json').expect(200)).body;
      expect(JSON.stringify(creds)).to.include('postgres superuser');

      // Nothing was printed after the banner (and the reminder) while the admin browsed (request logs stay in the log file).
      expect(demo.lines.slice(bannerEnd + 1)).to.deep.equal([]);
      expect(demo.stderr()).to.equal('');
      expect(fs.readFileSync(path.join(dataDir, 'logs', 'demo-server.log'), 'utf8')).to.include('"url":"/containers"');

      // Account request → mail to the admin → approval → mail with a set-password link that works.
      const visitor = request.agent(demo.url);
      const form = (await visitor.get('/register').expect(200)).text;
      await visitor
        .post('/register')
        .type('form')
        .send({ name: 'Carol Demo', email: 'carol@example.org', username: 'carol', reason: 'Trying the demo', _csrf: csrfOf(form) })
        .expect(201);
      await until('the account request mail', 30_000, () => demo.lines.find((l) => l === 'Subject: Berth account request: carol'));
      expect(demo.lines.join('\n')).to.match(/Mail to admin@example\.org/);
      const requests = (await admin.get('/account-requests').expect(200)).text;
      const id = /\/account-requests\/(\d+)\/approve/.exec(requests)![1];
      await admin.post(`/account-requests/${id}/approve`).type('form').send({ _csrf: csrfOf(requests) }).expect(303);
      const link = await until('the approval mail and its link', 30_000, () => {
        const subject = demo.lines.findIndex((l) => l === 'Subject: Your Berth account is ready');
        if (subject < 0) return undefined;
        return demo.lines.slice(subject).map((l) => /(http:\/\/\S+\/set-password\?token=\S+)/.exec(l)?.[1]).find(Boolean);
      });
      expect(demo.lines.join('\n')).to.match(/Mail to carol@example\.org/);
      const saved = fs.readdirSync(path.join(dataDir, 'mail'));
      expect(saved.filter((f) => f.endsWith('.eml'))).to.have.length(3);
      expect(saved.some((f) => f.includes('your-berth-account-is-ready'))).to.equal(true);

      const newcomer = request.agent(demo.url);
      const target = new URL(link);
      expect(target.origin).to.equal(demo.url);
      const setPage = (await newcomer.get(target.pathname + target.search).expect(200)).text;
      const token = /name="token" value="([^"]+)"/.exec(setPage)![1];
      await newcomer.post('/set-password').type('form').send({ token, newPassword: 'carol-demo-password-1', confirmPassword: 'carol-demo-password-1', _csrf: csrfOf(setPage) }).expect(303);
      const carol = await logIn(demo.url, 'carol', 'carol-demo-password-1');
      await carol.get('/account').expect(200);
    } finally {
      code = await demo.stop();
    }
    expect(code, 'exit code after SIGTERM').to.equal(0);
  });

  it('a second run over the same data reuses it: same admin password, no duplicated records', async () => {
    const first = await startDemo(dataDir);
    expect(await first.stop()).to.equal(0);
    expect(first.lines.find((l) => l.startsWith('Inventory:'))).to.include('3 containers, 2 VMs in the inventory (5 imported from the simulator just now)');
    const second = await startDemo(dataDir);
    let code: number | null;
    try {
      expect(second.password).to.equal(first.password);
      expect(second.lines.find((l) => l.startsWith('Inventory:'))).to.equal('Inventory: 3 containers, 2 VMs in the inventory; last sync saw 5 machines.');
      const admin = await logIn(second.url, 'admin', second.password);
      expect((await admin.get('/containers').set('Accept', 'application/json').expect(200)).body.containers).to.have.length(3);
      // The nodes now point at this run's simulator: a sync through the job runner succeeds.
      const csrf = csrfOf((await admin.get('/nodes').expect(200)).text);
      const sync = await admin.post('/inventory/sync').set('Accept', 'application/json').set('X-CSRF-Token', csrf).expect(201);
      const status = await until('the sync job to finish', 60_000, async () => {
        const s = (await admin.get(`/jobs/${sync.body.id}`).set('Accept', 'application/json').expect(200)).body.status;
        return isFinalJobStatus(s) ? s : undefined;
      });
      expect(status).to.equal('success');

      // A Proxmox user creates a container from the demo's templates (its pool gives the address),
      // stops it and deletes it, all through Berth.
      const alice = await logIn(second.url, 'alice@pve', 'alicepass123');
      const aliceCsrf = csrfOf((await alice.get('/containers/new').expect(200)).text);
      const json = (r: request.Test) => r.set('Accept', 'application/json').set('X-CSRF-Token', aliceCsrf);
      const jobDone = (id: number) => until(`job ${id} to finish`, 90_000, async () => {
        const s = (await alice.get(`/jobs/${id}`).set('Accept', 'application/json').expect(200)).body.status;
        return isFinalJobStatus(s) ? s : undefined;
      });
      const asked = await json(alice.post('/containers?init=true')).send({ hostname: 'demo-new.example.org', osRelease: 'Debian 12', nodeId: 'auto', httpPort: 8080 }).expect(202);
      expect(await jobDone(asked.body.jobId)).to.equal('success');
      const made = (await alice.get(`/containers/${asked.body.containerId}`).set('Accept', 'application/json').expect(200)).body.container;
      expect(made).to.include({ status: 'running', owner: 'alice@pve' });
      // Its default services: its name under the demo's domain, and ssh on a port of the demo's range.
      const services = (await alice.get(`/containers/${asked.body.containerId}/services`).set('Accept', 'application/json').expect(200)).body.services as Array<{ type: string; externalHostname: string | null; externalPort: number | null }>;
      expect(services.map((x) => x.type).sort()).to.deep.equal(['http', 'tcp']);
      expect(services.find((x) => x.type === 'http')!.externalHostname).to.equal('demo-new.demo.berth.test');
      expect(services.find((x) => x.type === 'tcp')!.externalPort).to.be.within(21000, 21999);
      const stop = await json(alice.post(`/containers/${asked.body.containerId}/stop`)).expect(202);
      expect(await jobDone(stop.body.jobId)).to.equal('success');
      expect((await json(alice.delete(`/containers/${asked.body.containerId}`)).expect(200)).body).to.deep.equal({ success: true, message: 'Container deleted successfully' });
    } finally {
      code = await second.stop();
    }
    expect(code, 'exit code after SIGTERM').to.equal(0);
  });
});
