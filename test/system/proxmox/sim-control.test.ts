// The simulator as another process sees it: the /_sim HTTP control endpoints, the standalone
// bin/pve-sim, and transport details of the API (501s, duplicate parameters, raw or encoded
// UPIDs, task log paging, nextid's 400).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { fetch } from 'undici';
import { ADMIN_TOKEN, SEED_FILE, startSim, type StartedSim } from '../../support/pve-sim.js';

const AUTH = { Authorization: `PVEAPIToken=${ADMIN_TOKEN.tokenId}=${ADMIN_TOKEN.secret}` };
const DEBIAN = 'local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst';

async function api(base: string, method: string, path: string, form?: Record<string, string>) {
  const res = await fetch(`${base}/api2/json${path}`, { method, headers: AUTH, body: form ? new URLSearchParams(form) : undefined });
  const text = await res.text();
  return { status: res.status, reason: res.statusText, body: text ? JSON.parse(text) : undefined };
}

async function control(base: string, name: string, body?: object) {
  const res = await fetch(`${base}/_sim/${name}`, { method: body === undefined ? 'GET' : 'POST', body: body && JSON.stringify(body), headers: { 'Content-Type': 'application/json' } });
  return { status: res.status, body: (await res.json()) as any };
}

/** Poll a pve1 task until it has stopped (5 s at most) and return its status. */
async function taskEnded(base: string, upid: string) {
  const deadline = Date.now() + 5000;
  for (;;) {
    const st = await api(base, 'GET', `/nodes/pve1/tasks/${encodeURIComponent(upid)}/status`);
    if (st.body.data.status === 'stopped') return st.body.data as Record<string, unknown>;
    if (Date.now() > deadline) throw new Error(`task ${upid} did not end within 5 s`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('pve-sim control endpoints and transport details', () => {
  let s: StartedSim;
  beforeEach(async () => { s = await startSim({ taskMs: 20 }); });
  afterEach(async () => { await s.close(); });

  it('injects a create failure and a task failure over HTTP', async () => {
    await control(s.url, 'fail-next-create', { message: "CT {vmid} already exists on node '{node}'" });
    const first = await api(s.url, 'POST', '/nodes/pve1/lxc', { vmid: '150', ostemplate: DEBIAN, rootfs: 'local-lvm:4' });
    expect([first.status, first.reason, first.body.message]).to.deep.equal([500, "CT 150 already exists on node 'pve1'", "CT 150 already exists on node 'pve1'\n"]);
    await control(s.url, 'fail-next-task', { type: 'vzstart', message: 'startup for container 101 failed' });
    const { body } = await api(s.url, 'POST', '/nodes/pve1/lxc/101/status/start');
    const st = await taskEnded(s.url, body.data);
    expect(st).to.include({ status: 'stopped', exitstatus: 'startup for container 101 failed', user: 'root@pam', tokenid: 'berth' });
  });

  it('hangs tasks until released, and keeps /_sim reachable while the API is unreachable', async () => {
    await control(s.url, 'hang-tasks', { on: true });
    const { body } = await api(s.url, 'POST', '/nodes/pve1/lxc/101/status/start');
    await new Promise((r) => setTimeout(r, 60));
    expect((await control(s.url, 'state')).body.tasks).to.deep.equal({ total: 1, running: 1 });
    await control(s.url, 'unreachable', { mode: 'reset' });
    const err = await fetch(`${s.url}/api2/json/version`, { headers: AUTH }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(Error);
    await control(s.url, 'unreachable', { mode: 'off' });
    await control(s.url, 'hang-tasks', { on: false });
    const st = await api(s.url, 'GET', `/nodes/pve1/tasks/${encodeURIComponent(body.data)}/status`);
    expect(st.body.data.exitstatus).to.equal('OK');
    const requests = (await control(s.url, 'requests')).body as Array<{ path: string }>;
    expect(requests.map((r) => r.path)).to.include('/version');
  });

  it('expires tickets through the clock and the expire endpoint', async () => {
    const login = async () => {
      const res = await fetch(`${s.url}/api2/json/access/ticket`, { method: 'POST', body: new URLSearchParams({ username: 'bob@pve', password: 'bobpass123' }) });
      return ((await res.json()) as { data: { ticket: string } }).data.ticket;
    };
    const get = (ticket: string) => fetch(`${s.url}/api2/json/version`, { headers: { Cookie: `PVEAuthCookie=${ticket}` } });
    let ticket = await login();
    expect((await get(ticket)).status).to.equal(200);
    await control(s.url, 'clock', { advanceMs: 7200 * 1000 });
    const expired = await get(ticket);
    expect([expired.status, expired.statusText]).to.deep.equal([401, 'Authentication failed!']);
    ticket = await login();
    expect((await get(ticket)).status).to.equal(200);
    await control(s.url, 'expire-tickets', {});
    expect((await get(ticket)).status).to.equal(401);
    await control(s.url, 'reset', {});
    expect((await control(s.url, 'logins')).body).to.deep.equal([]);
    expect((await control(s.url, 'nope')).status).to.equal(404);
  });

  it('answers unknown paths and a DELETE with a body with 501, and conflicting path parameters with 400', async () => {
    const unknown = await api(s.url, 'GET', '/nodes/pve1/foo');
    expect([unknown.status, unknown.reason, unknown.body]).to.deep.equal([501, "Method 'GET /nodes/pve1/foo' not implemented", { data: null, message: "Method 'GET /nodes/pve1/foo' not implemented\n" }]);
    const withBody = await api(s.url, 'DELETE', '/nodes/pve1/lxc/101', { purge: '1' });
    expect([withBody.status, withBody.reason]).to.deep.equal([501, "Unexpected content for method 'DELETE'"]);
    const dup = await api(s.url, 'PUT', '/nodes/pve1/lxc/101/config', { vmid: '102', description: 'x' });
    expect([dup.status, dup.reason]).to.deep.equal([400, 'duplicate parameter (already defined in URI) with conflicting values!']);
  });

  it('pages a task log with start/limit and total, and answers unknown tasks like Tasks.pm', async () => {
    const { body } = await api(s.url, 'POST', '/nodes/pve1/lxc', { vmid: '150', ostemplate: DEBIAN, rootfs: 'local-lvm:4' });
    await taskEnded(s.url, body.data);
    const page = await api(s.url, 'GET', `/nodes/pve1/tasks/${body.data}/log?start=2&limit=2`);
    expect(page.body.total).to.equal(8);
    expect(page.body.data.map((l: { n: number }) => l.n)).to.deep.equal([3, 4]);
    const all = await api(s.url, 'GET', `/nodes/pve1/tasks/${body.data}/log?limit=0`);
    expect(all.body.data.at(-1)).to.deep.equal({ n: 8, t: 'TASK OK' });
    const bad = await api(s.url, 'GET', '/nodes/pve1/tasks/nonsense/status');
    expect([bad.status, bad.body.errors]).to.deep.equal([400, { upid: 'unable to parse worker upid' }]);
    const gone = await api(s.url, 'GET', `/nodes/pve1/tasks/${encodeURIComponent(body.data.replace('vzcreate', 'vzstart'))}/status`);
    expect(gone.body.errors).to.deep.equal({ upid: 'no such task' });
    const taken = await api(s.url, 'GET', '/cluster/nextid?vmid=100');
    expect([taken.status, taken.body.errors]).to.deep.equal([400, { vmid: 'VM 100 already exists' }]);
  });

  it('answers an empty task log as a real node does: total 1 and the "no content" line, at any start', async () => {
    await control(s.url, 'hold-task-logs', { on: true });
    const { body } = await api(s.url, 'POST', '/nodes/pve1/lxc/101/status/start');
    const upid = encodeURIComponent(body.data);
    for (const start of [0, 3]) {
      const empty = await api(s.url, 'GET', `/nodes/pve1/tasks/${upid}/log?start=${start}&limit=50`);
      expect(empty.body).to.deep.equal({ data: [{ n: 1, t: 'no content' }], total: 1 });
    }
    expect((await api(s.url, 'GET', `/nodes/pve1/tasks/${upid}/status`)).body.data.status).to.equal('running');
    await control(s.url, 'hold-task-logs', { on: false });
    await taskEnded(s.url, body.data); // a start task runs its full duration, after the held lines too
    const all = await api(s.url, 'GET', `/nodes/pve1/tasks/${upid}/log?limit=0`);
    expect(all.body.data.at(-1)).to.deep.equal({ n: all.body.total, t: 'TASK OK' });
    expect(all.body.data.map((l: { t: string }) => l.t)).not.to.include('no content');
  });

  it('runs standalone: bin/pve-sim prints its URL and credentials and obeys /_sim', async function () {
    // tsx compiles the simulator at start: seconds on a loaded machine.
    this.timeout(90_000);
    const bin = fileURLToPath(new URL('../../../bin/pve-sim', import.meta.url));
    const child = spawn(bin, ['--seed', SEED_FILE, '--port', '0', '--task-ms', '20'], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      let out = '';
      child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
      const deadline = Date.now() + 60_000;
      while (Date.now() < deadline && !/secret/.test(out) && child.exitCode === null) await new Promise((r) => setTimeout(r, 25));
      const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1];
      expect(url, out).to.be.a('string');
      expect(out).to.include('root@pam').and.include('rootpass123').and.include(ADMIN_TOKEN.secret);
      expect((await api(url!, 'GET', '/cluster/nextid')).body).to.deep.equal({ data: '103' });
      expect((await control(url!, 'state')).body.guests).to.have.length(6);
    } finally {
      child.kill('SIGTERM');
      if (child.exitCode === null) await once(child, 'exit');
    }
  });
});
