// The simulator's section 9 paths (README of the team's Proxmox notes, §9.1-9.5), driven with plain
// fetch, never Berth's client: resize, LXC reboot, snapshots, QEMU power, creating users, effective
// permissions, the cluster task list and pools. Each rule of §9.7's checklist has a test here.
import { expect } from 'chai';
import { fetch } from 'undici';
import { ADMIN_TOKEN, startSim, type StartedSim } from '../../support/pve-sim.js';
import type { SeedInput } from '../../../tools/pve-sim/index.js';
import { SEED_FILE } from '../../support/pve-sim.js';
import { readFileSync } from 'node:fs';

const TOKEN = { Authorization: `PVEAPIToken=${ADMIN_TOKEN.tokenId}=${ADMIN_TOKEN.secret}` };
const GiB = 1024 ** 3;

interface Answer { status: number; reason: string; body: any }
type Headers = Record<string, string>;

/** A call with the admin token (default) or the given auth headers; GET parameters go in the query string. */
async function api(s: StartedSim, method: string, path: string, params: Record<string, string> = {}, auth: Headers = TOKEN): Promise<Answer> {
  const url = new URL(`${s.url}/api2/json${path}`);
  let body: URLSearchParams | undefined;
  if (method === 'GET') for (const [k, v] of Object.entries(params)) url.searchParams.append(k, v);
  else if (Object.keys(params).length) body = new URLSearchParams(params);
  const res = await fetch(url, { method, headers: auth, body });
  const text = await res.text();
  return { status: res.status, reason: res.statusText, body: text ? JSON.parse(text) : undefined };
}

/** Ticket headers (cookie and CSRF token) of a password login, or the failed answer's status. */
async function login(s: StartedSim, username: string, password: string): Promise<Headers | number> {
  const res = await fetch(`${s.url}/api2/json/access/ticket`, { method: 'POST', body: new URLSearchParams({ username, password }) });
  if (res.status !== 200) return res.status;
  const { data } = (await res.json()) as { data: { ticket: string; CSRFPreventionToken: string } };
  return { Cookie: `PVEAuthCookie=${encodeURIComponent(data.ticket)}`, CSRFPreventionToken: data.CSRFPreventionToken };
}

async function ticket(s: StartedSim, username: string, password: string): Promise<Headers> {
  const headers = await login(s, username, password);
  if (typeof headers === 'number') throw new Error(`login of ${username} failed with ${headers}`);
  return headers;
}

/** Poll a task until it has stopped (deadline 5 s); returns its status row. */
async function finished(s: StartedSim, node: string, upid: string): Promise<Record<string, unknown>> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const { body } = await api(s, 'GET', `/nodes/${node}/tasks/${encodeURIComponent(upid)}/status`);
    if (body.data.status === 'stopped') return body.data;
    if (Date.now() > deadline) throw new Error(`task ${upid} still running`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function taskLog(s: StartedSim, node: string, upid: string): Promise<string[]> {
  const { body } = await api(s, 'GET', `/nodes/${node}/tasks/${encodeURIComponent(upid)}/log`, { limit: '0' });
  return body.data.map((l: { t: string }) => l.t);
}

async function config(s: StartedSim, node: string, vmid: number): Promise<Record<string, any>> {
  return (await api(s, 'GET', `/nodes/${node}/lxc/${vmid}/config`)).body.data;
}

function expect500(a: Answer, message: string): void {
  expect([a.status, a.reason, a.body]).to.deep.equal([500, message, { data: null, message: `${message}\n` }]);
}

describe('pve-sim section 9 paths', () => {
  let s: StartedSim;
  beforeEach(async () => { s = await startSim({ taskMs: 20 }); });
  afterEach(async () => { await s.close(); });

  describe('PUT /nodes/{node}/lxc/{vmid}/resize', () => {
    it('grows by a relative size in a `resize` task and writes size= in the largest exact unit', async () => {
      s.sim.hangTasks(true);
      const a = await api(s, 'PUT', '/nodes/pve1/lxc/100/resize', { disk: 'rootfs', size: '+2G' });
      expect(a.status).to.equal(200);
      expect(a.body.data).to.match(/^UPID:pve1:[0-9A-F]{8}:[0-9A-F]{8,9}:[0-9A-F]{8}:resize:100:root@pam!berth:$/);
      // Resize sets no `lock:` in the config; the new size appears when the task ends.
      expect(await config(s, 'pve1', 100)).to.include({ rootfs: 'local-lvm:vm-100-disk-0,size=8G' }).and.not.have.property('lock');
      s.sim.hangTasks(false);
      expect(await finished(s, 'pve1', a.body.data)).to.include({ exitstatus: 'OK', type: 'resize', id: '100' });
      expect((await config(s, 'pve1', 100)).rootfs).to.equal('local-lvm:vm-100-disk-0,size=10G');
      const half = await api(s, 'PUT', '/nodes/pve1/lxc/100/resize', { disk: 'rootfs', size: '+0.5G' });
      await finished(s, 'pve1', half.body.data);
      expect((await config(s, 'pve1', 100)).rootfs).to.equal('local-lvm:vm-100-disk-0,size=10752M');
    });

    it('takes a size without + as the new absolute size, and a bare number as bytes', async () => {
      const abs = await api(s, 'PUT', '/nodes/pve1/lxc/101/resize', { disk: 'rootfs', size: '20G' });
      await finished(s, 'pve1', abs.body.data);
      expect((await config(s, 'pve1', 101)).rootfs).to.equal('local-lvm:vm-101-disk-0,size=20G');
      const bytes = await api(s, 'PUT', '/nodes/pve1/lxc/101/resize', { disk: 'rootfs', size: String(20 * GiB + 512) });
      await finished(s, 'pve1', bytes.body.data);
      expect((await config(s, 'pve1', 101)).rootfs).to.equal(`local-lvm:vm-101-disk-0,size=${20 * GiB + 512}`);
    });

    it('refuses a shrink, an equal size and a bare small number synchronously, starting no task', async () => {
      const before = s.sim.core.tasks.tasks.size;
      expect500(await api(s, 'PUT', '/nodes/pve1/lxc/100/resize', { disk: 'rootfs', size: '10' }), 'unable to shrink disk size');
      expect500(await api(s, 'PUT', '/nodes/pve1/lxc/100/resize', { disk: 'rootfs', size: '4G' }), 'unable to shrink disk size');
      expect500(await api(s, 'PUT', '/nodes/pve1/lxc/100/resize', { disk: 'rootfs', size: '8G' }), 'disk is already at specified size');
      expect500(await api(s, 'PUT', '/nodes/pve1/lxc/100/resize', { disk: 'rootfs', size: '+0' }), 'disk is already at specified size');
      expect(s.sim.core.tasks.tasks.size).to.equal(before);
    });

    it('validates the size grammar and the disk key against the schema', async () => {
      for (const size of ['abc', '10X', '-1G', '+1.G']) {
        const a = await api(s, 'PUT', '/nodes/pve1/lxc/100/resize', { disk: 'rootfs', size });
        expect([a.status, a.body.errors], size).to.deep.equal([400, { size: 'value does not match the regex pattern' }]);
      }
      const disk = await api(s, 'PUT', '/nodes/pve1/lxc/100/resize', { disk: 'root', size: '+1G' });
      expect(disk.status).to.equal(400);
      expect(disk.body.errors.disk).to.match(/^value 'root' does not have a value in the enumeration 'rootfs, mp0, mp1/);
    });

    it('checks lock, digest, the container and the caller before the task', async () => {
      s.sim.state.guests.get(101)!.config.lock = 'backup';
      expect500(await api(s, 'PUT', '/nodes/pve1/lxc/101/resize', { disk: 'rootfs', size: '+1G' }), 'CT is locked (backup)');
      const stale = await api(s, 'PUT', '/nodes/pve1/lxc/100/resize', { disk: 'rootfs', size: '+1G', digest: '0'.repeat(40) });
      expect500(stale, 'detected modified configuration - file changed by other user? Try again.');
      const { digest } = await config(s, 'pve1', 100);
      expect((await api(s, 'PUT', '/nodes/pve1/lxc/100/resize', { disk: 'rootfs', size: '+1G', digest })).status).to.equal(200);
      expect500(await api(s, 'PUT', '/nodes/pve1/lxc/999/resize', { disk: 'rootfs', size: '+1G' }), "Configuration file 'nodes/pve1/lxc/999.conf' does not exist");
      const alice = await ticket(s, 'alice@pve', 'alicepass123');
      const denied = await api(s, 'PUT', '/nodes/pve1/lxc/100/resize', { disk: 'rootfs', size: '+1G' }, alice);
      expect([denied.status, denied.reason]).to.deep.equal([403, 'Permission check failed (/vms/100, VM.Config.Disk)']);
      // VM.Config.Disk is not enough: the volume's storage needs Datastore.AllocateSpace.
      s.sim.state.acl.push({ path: '/vms/100', user: 'bob@pve', role: 'PVEVMAdmin', propagate: true });
      const bob = await ticket(s, 'bob@pve', 'bobpass123');
      const noSpace = await api(s, 'PUT', '/nodes/pve1/lxc/100/resize', { disk: 'rootfs', size: '+1G' }, bob);
      expect([noSpace.status, noSpace.reason]).to.deep.equal([403, 'Permission check failed (/storage/local-lvm, Datastore.AllocateSpace)']);
      s.sim.state.acl.push({ path: '/storage/local-lvm', user: 'bob@pve', role: 'PVEDatastoreUser', propagate: true });
      expect((await api(s, 'PUT', '/nodes/pve1/lxc/100/resize', { disk: 'rootfs', size: '+1G' }, bob)).status).to.equal(200);
    });

    it('fails the task when the config changed in the meantime, as the worker checks again', async () => {
      s.sim.hangTasks(true);
      const a = await api(s, 'PUT', '/nodes/pve1/lxc/101/resize', { disk: 'rootfs', size: '20G' });
      s.sim.state.guests.get(101)!.config.lock = 'backup';
      s.sim.hangTasks(false);
      expect(await finished(s, 'pve1', a.body.data)).to.include({ exitstatus: 'CT is locked (backup)' });
      expect((await config(s, 'pve1', 101)).rootfs).to.equal('local-lvm:vm-101-disk-0,size=16G');
    });
    it('holds the config file lock while it runs: a config change that would wait over 10 s times out', async () => {
      const timeout = "can't lock file '/run/lock/lxc/pve-config-101.lock' - got timeout";
      s.sim.hangTasks(true);
      const a = await api(s, 'PUT', '/nodes/pve1/lxc/101/resize', { disk: 'rootfs', size: '+1G' });
      expect500(await api(s, 'PUT', '/nodes/pve1/lxc/101/config', { description: 'x' }), timeout);
      const snap = await api(s, 'POST', '/nodes/pve1/lxc/101/snapshot', { snapname: 'snap1' });
      const again = await api(s, 'PUT', '/nodes/pve1/lxc/101/resize', { disk: 'rootfs', size: '+1G' });
      // Other containers are not affected.
      expect((await api(s, 'PUT', '/nodes/pve1/lxc/100/config', { description: 'x' })).status).to.equal(200);
      s.sim.hangTasks(false);
      expect(await finished(s, 'pve1', a.body.data)).to.include({ exitstatus: 'OK' });
      expect(await finished(s, 'pve1', snap.body.data)).to.include({ exitstatus: timeout });
      expect(await finished(s, 'pve1', again.body.data)).to.include({ exitstatus: timeout });
      expect((await api(s, 'PUT', '/nodes/pve1/lxc/101/config', { description: 'x' })).status).to.equal(200);
      expect((await config(s, 'pve1', 101)).rootfs).to.equal('local-lvm:vm-101-disk-0,size=17G');
    });

    it('lets a config change through when the resize ends within the 10 s wait', async () => {
      const a = await api(s, 'PUT', '/nodes/pve1/lxc/101/resize', { disk: 'rootfs', size: '+1G' });
      expect((await api(s, 'PUT', '/nodes/pve1/lxc/101/config', { description: 'x' })).status).to.equal(200);
      expect(await finished(s, 'pve1', a.body.data)).to.include({ exitstatus: 'OK' });
    });
  });

  describe('POST /nodes/{node}/lxc/{vmid}/status/reboot', () => {
    it('refuses a stopped or unknown container with "VM <id> not running"', async () => {
      expect500(await api(s, 'POST', '/nodes/pve1/lxc/101/status/reboot'), 'VM 101 not running');
      expect500(await api(s, 'POST', '/nodes/pve1/lxc/999/status/reboot'), 'VM 999 not running');
    });

    it('reboots a running container in a vzreboot task: still running, uptime from 0', async () => {
      const status = async () => (await api(s, 'GET', '/nodes/pve1/lxc/100/status/current')).body.data;
      expect((await status()).uptime).to.be.at.least(3600);
      const a = await api(s, 'POST', '/nodes/pve1/lxc/100/status/reboot', { timeout: '10' });
      expect(a.body.data).to.match(/:vzreboot:100:root@pam!berth:$/);
      expect(await finished(s, 'pve1', a.body.data)).to.include({ exitstatus: 'OK' });
      const after = await status();
      expect(after.status).to.equal('running');
      expect(after.uptime).to.be.below(5);
    });
  });

  describe('POST /nodes/{node}/qemu/{vmid}/status/start|stop|shutdown', () => {
    it('checks no run state before the task: start on a running VM fails in the task', async () => {
      const a = await api(s, 'POST', '/nodes/pve1/qemu/200/status/start');
      expect(a.body.data).to.match(/:qmstart:200:root@pam!berth:$/);
      expect(await finished(s, 'pve1', a.body.data)).to.include({ exitstatus: 'VM 200 already running' });
      expect((await taskLog(s, 'pve1', a.body.data)).at(-1)).to.equal('TASK ERROR: VM 200 already running');
    });

    it('ends stop and shutdown of a stopped VM OK, and flips status when the task ends', async () => {
      const noop = await api(s, 'POST', '/nodes/pve2/qemu/201/status/shutdown');
      expect(noop.body.data).to.match(/:qmshutdown:201:/);
      expect(await finished(s, 'pve2', noop.body.data)).to.include({ exitstatus: 'OK' });
      const stop = await api(s, 'POST', '/nodes/pve1/qemu/200/status/stop', { timeout: '5' });
      expect(stop.body.data).to.match(/:qmstop:200:/);
      await finished(s, 'pve1', stop.body.data);
      expect((await api(s, 'GET', '/nodes/pve1/qemu/200/status/current')).body.data).to.include({ status: 'stopped', qmpstatus: 'stopped' });
      const again = await api(s, 'POST', '/nodes/pve1/qemu/200/status/stop');
      expect(await finished(s, 'pve1', again.body.data)).to.include({ exitstatus: 'OK' });
      const start = await api(s, 'POST', '/nodes/pve1/qemu/200/status/start');
      expect(await finished(s, 'pve1', start.body.data)).to.include({ exitstatus: 'OK' });
      expect((await api(s, 'GET', '/nodes/pve1/qemu/200/status/current')).body.data).to.include({ status: 'running' });
    });

    it('fails unknown, locked and template VMs inside the task with the messages of qemu-server', async () => {
      const cases: Array<[string, string, string]> = [
        ['/nodes/pve1/qemu/999/status/start', 'pve1', "Configuration file 'nodes/pve1/qemu-server/999.conf' does not exist"],
        ['/nodes/pve1/qemu/999/status/stop', 'pve1', "unable to find configuration file for VM 999 on node 'pve1'"],
        ['/nodes/pve1/qemu/999/status/shutdown', 'pve1', "unable to find configuration file for VM 999 on node 'pve1'"],
      ];
      for (const [path, node, message] of cases) {
        const a = await api(s, 'POST', path);
        expect(a.status, path).to.equal(200);
        expect(await finished(s, node, a.body.data), path).to.include({ exitstatus: message });
      }
      const vm = s.sim.state.guests.get(201)!;
      vm.config.lock = 'backup';
      const locked = await api(s, 'POST', '/nodes/pve2/qemu/201/status/start');
      expect(await finished(s, 'pve2', locked.body.data)).to.include({ exitstatus: 'VM is locked (backup)' });
      delete vm.config.lock;
      vm.config.template = 1;
      const template = await api(s, 'POST', '/nodes/pve2/qemu/201/status/start');
      expect(await finished(s, 'pve2', template.body.data)).to.include({ exitstatus: "you can't start a vm if it's a template" });
    });

    it('times out a shutdown the guest ignores, unless forceStop=1 terminates it', async () => {
      s.sim.state.guests.get(200)!.ignoresShutdown = true;
      const polite = await api(s, 'POST', '/nodes/pve1/qemu/200/status/shutdown', { timeout: '5' });
      expect(await finished(s, 'pve1', polite.body.data)).to.include({ exitstatus: 'VM quit/powerdown failed - got timeout' });
      expect((await api(s, 'GET', '/nodes/pve1/qemu/200/status/current')).body.data.status).to.equal('running');
      const forced = await api(s, 'POST', '/nodes/pve1/qemu/200/status/shutdown', { timeout: '5', forceStop: '1' });
      expect(await finished(s, 'pve1', forced.body.data)).to.include({ exitstatus: 'OK' });
      expect(await taskLog(s, 'pve1', forced.body.data)).to.deep.equal(['VM still running - terminating now with SIGTERM', 'TASK OK']);
      expect((await api(s, 'GET', '/nodes/pve1/qemu/200/status/current')).body.data.status).to.equal('stopped');
    });

    it('gives 400 for root-only parameters unless the caller is root@pam itself', async () => {
      const byToken = await api(s, 'POST', '/nodes/pve2/qemu/201/status/start', { skiplock: '1' });
      expect([byToken.status, byToken.body.errors]).to.deep.equal([400, { skiplock: 'Only root may use this option.' }]);
      const keep = await api(s, 'POST', '/nodes/pve1/qemu/200/status/stop', { keepActive: '1' });
      expect(keep.body.errors).to.deep.equal({ keepActive: 'Only root may use this option.' });
      const root = await ticket(s, 'root@pam', 'rootpass123');
      const byRoot = await api(s, 'POST', '/nodes/pve2/qemu/201/status/start', { skiplock: '1' }, root);
      expect(byRoot.status).to.equal(200);
      expect((await api(s, 'POST', '/nodes/pve2/qemu/201/status/start', { skiplock: '0' })).status).to.equal(200);
    });
  });

  describe('GET and POST /nodes/{node}/lxc/{vmid}/snapshot', () => {
    it('lists only `current` for a container without snapshots, with digest and running', async () => {
      const { body } = await api(s, 'GET', '/nodes/pve1/lxc/100/snapshot');
      const { digest } = await config(s, 'pve1', 100);
      expect(body.data).to.deep.equal([{ name: 'current', description: 'You are here!', digest, running: 1 }]);
      expect500(await api(s, 'GET', '/nodes/pve1/lxc/999/snapshot'), "Configuration file 'nodes/pve1/lxc/999.conf' does not exist");
    });

    it('locks the container while the vzsnapshot task runs, then records the snapshot as parent', async () => {
      s.sim.hangTasks(true);
      const a = await api(s, 'POST', '/nodes/pve1/lxc/100/snapshot', { snapname: 'before-upgrade', description: 'pre' });
      expect(a.body.data).to.match(/:vzsnapshot:100:root@pam!berth:$/);
      expect((await config(s, 'pve1', 100)).lock).to.equal('snapshot');
      const during = (await api(s, 'GET', '/nodes/pve1/lxc/100/snapshot')).body.data;
      expect(during[0]).to.include({ name: 'before-upgrade', description: 'pre', snapstate: 'prepare' });
      expect500(await api(s, 'PUT', '/nodes/pve1/lxc/100/resize', { disk: 'rootfs', size: '+1G' }), 'CT is locked (snapshot)');
      s.sim.hangTasks(false);
      expect(await finished(s, 'pve1', a.body.data)).to.include({ exitstatus: 'OK' });
      const conf = await config(s, 'pve1', 100);
      expect(conf).to.not.have.property('lock');
      expect(conf.parent).to.equal('before-upgrade');
      const second = await api(s, 'POST', '/nodes/pve1/lxc/100/snapshot', { snapname: 'second' });
      await finished(s, 'pve1', second.body.data);
      const list = (await api(s, 'GET', '/nodes/pve1/lxc/100/snapshot')).body.data;
      expect(list.map((e: { name: string }) => e.name)).to.deep.equal(['before-upgrade', 'second', 'current']);
      expect(list[0]).to.not.have.property('snapstate');
      expect(list[0]).to.not.have.property('parent');
      expect(list[0].snaptime).to.be.a('number');
      expect(list[1]).to.include({ parent: 'before-upgrade', description: '' });
      expect(list[2]).to.include({ name: 'current', parent: 'second', digest: (await config(s, 'pve1', 100)).digest });
    });

    it('refuses only reserved names synchronously; a duplicate fails the task', async () => {
      for (const name of ['current', 'vzdump']) {
        expect500(await api(s, 'POST', '/nodes/pve1/lxc/100/snapshot', { snapname: name }), `unable to use snapshot name '${name}' (reserved name)`);
      }
      const first = await api(s, 'POST', '/nodes/pve1/lxc/100/snapshot', { snapname: 'snap1' });
      await finished(s, 'pve1', first.body.data);
      const dup = await api(s, 'POST', '/nodes/pve1/lxc/100/snapshot', { snapname: 'snap1' });
      expect(dup.status).to.equal(200);
      expect(await finished(s, 'pve1', dup.body.data)).to.include({ exitstatus: "snapshot name 'snap1' already used" });
    });

    it('checks the name format and length in the schema', async () => {
      const bad = await api(s, 'POST', '/nodes/pve1/lxc/100/snapshot', { snapname: '1st' });
      expect([bad.status, bad.body.errors]).to.deep.equal([400, { snapname: "invalid format - invalid configuration ID '1st'\n" }]);
      const long = await api(s, 'POST', '/nodes/pve1/lxc/100/snapshot', { snapname: `s${'x'.repeat(40)}` });
      expect(long.body.errors).to.deep.equal({ snapname: 'value may only be 40 characters long' });
    });

    it('fails templates, unknown containers and storages without snapshots inside the task', async () => {
      const cases: Array<[number, string]> = [
        [9000, "you can't take a snapshot if it's a template"],
        [999, "Configuration file 'nodes/pve1/lxc/999.conf' does not exist"],
      ];
      s.sim.state.guests.get(101)!.config.rootfs = 'local:101/vm-101-disk-0.raw,size=16G';
      cases.push([101, 'snapshot feature is not available']);
      for (const [vmid, message] of cases) {
        const a = await api(s, 'POST', `/nodes/pve1/lxc/${vmid}/snapshot`, { snapname: 'snap1' });
        expect(a.status).to.equal(200);
        expect(await finished(s, 'pve1', a.body.data), String(vmid)).to.include({ exitstatus: message });
      }
    });

    it('cleans up a failed snapshot: no entry, no lock, and the log says so', async () => {
      s.sim.failNextTask({ type: 'vzsnapshot', message: 'lvcreate snapshot failed' });
      const a = await api(s, 'POST', '/nodes/pve1/lxc/100/snapshot', { snapname: 'snap1' });
      expect(await finished(s, 'pve1', a.body.data)).to.include({ exitstatus: 'lvcreate snapshot failed' });
      expect(await taskLog(s, 'pve1', a.body.data)).to.include('snapshot create failed: starting cleanup');
      expect((await api(s, 'GET', '/nodes/pve1/lxc/100/snapshot')).body.data.map((e: { name: string }) => e.name)).to.deep.equal(['current']);
      expect(await config(s, 'pve1', 100)).to.not.have.property('lock');
    });
  });

  describe('POST /access/users', () => {
    it('creates a pve user with a password who can log in at once and has no permissions', async () => {
      const a = await api(s, 'POST', '/access/users', { userid: 'carol@pve', password: 'carolpass123', firstname: 'Carol', groups: 'developers' });
      expect([a.status, a.body]).to.deep.equal([200, { data: null }]);
      const carol = await ticket(s, 'carol@pve', 'carolpass123');
      const own = await api(s, 'GET', '/access/permissions', {}, carol);
      // Group membership alone grants what the group's ACLs give; a user in no group gets {}.
      expect(Object.keys(own.body.data)).to.deep.equal(['/vms']);
      await api(s, 'POST', '/access/users', { userid: 'dan@pve', password: 'danpass1234' });
      const dan = await ticket(s, 'dan@pve', 'danpass1234');
      expect((await api(s, 'GET', '/access/permissions', {}, dan)).body).to.deep.equal({ data: {} });
      const listed = (await api(s, 'GET', '/access/users')).body.data.find((u: { userid: string }) => u.userid === 'carol@pve');
      expect(listed).to.include({ userid: 'carol@pve', enable: 1, expire: 0, firstname: 'Carol', groups: 'developers', 'realm-type': 'pve' });
    });

    it('creates a user without password who cannot log in', async () => {
      expect((await api(s, 'POST', '/access/users', { userid: 'erin@pve' })).body).to.deep.equal({ data: null });
      expect(await login(s, 'erin@pve', 'anything123')).to.equal(401);
      // The realm is looked up only for a password.
      expect((await api(s, 'POST', '/access/users', { userid: 'frank@nowhere' })).status).to.equal(200);
      expect500(await api(s, 'POST', '/access/users', { userid: 'gina@nowhere', password: 'ginapass123' }), "create user failed: auth domain 'nowhere' does not exist");
    });

    it('wraps every refusal as a 500 "create user failed: …"', async () => {
      expect500(await api(s, 'POST', '/access/users', { userid: 'alice@pve' }), "create user failed: user 'alice@pve' already exists");
      expect500(await api(s, 'POST', '/access/users', { userid: 'hal@pve', groups: 'developers,devs' }), "create user failed: no such group 'devs'");
      const pam = await api(s, 'POST', '/access/users', { userid: 'ivan@pam', password: 'ivanpass123' });
      expect(pam.status).to.equal(500);
      expect(pam.reason).to.match(/^create user failed: change password failed: command 'usermod -p .* ivan' failed: exit code 6$/);
      s.sim.state.realms.push({ realm: 'corp', type: 'ldap' });
      expect500(await api(s, 'POST', '/access/users', { userid: 'jo@corp', password: 'jopass1234' }), "create user failed: can't set password on auth type 'ldap'");
      expect((await api(s, 'POST', '/access/users', { userid: 'jo@corp' })).status).to.equal(200);
    });

    it('validates the user id, password length and permissions', async () => {
      const bad = await api(s, 'POST', '/access/users', { userid: 'alice' });
      expect([bad.status, bad.body.errors]).to.deep.equal([400, { userid: "invalid format - value 'alice' does not look like a valid user name\n" }]);
      const short = await api(s, 'POST', '/access/users', { userid: 'kim@pve', password: 'short' });
      expect(short.body.errors).to.deep.equal({ password: 'value must be at least 8 characters long' });
      const alice = await ticket(s, 'alice@pve', 'alicepass123');
      const denied = await api(s, 'POST', '/access/users', { userid: 'kim@pve' }, alice);
      expect([denied.status, denied.reason]).to.deep.equal([403, 'Permission check failed (/access/realm/pve, Realm.AllocateUser)']);
    });
  });

  describe('GET /access/permissions', () => {
    it('gives root@pam every privilege with 1 on every listed path', async () => {
      const root = await ticket(s, 'root@pam', 'rootpass123');
      const { data } = (await api(s, 'GET', '/access/permissions', {}, root)).body;
      expect(Object.keys(data)).to.include.members(['/', '/access', '/access/groups', '/nodes', '/pool', '/sdn', '/storage', '/vms']);
      for (const privs of Object.values(data) as Array<Record<string, number>>) {
        expect(privs).to.include({ 'Sys.Audit': 1, 'VM.Allocate': 1, 'Realm.AllocateUser': 1, 'Permissions.Modify': 1 });
        expect(new Set(Object.values(privs))).to.deep.equal(new Set([1]));
      }
    });

    it('lists only paths where a user has something; path= asks about one object', async () => {
      const alice = await ticket(s, 'alice@pve', 'alicepass123');
      const all = (await api(s, 'GET', '/access/permissions', {}, alice)).body.data;
      expect(all).to.deep.equal({
        '/vms': { 'Datastore.Audit': 1, 'Mapping.Audit': 1, 'Pool.Audit': 1, 'SDN.Audit': 1, 'Sys.Audit': 1, 'VM.Audit': 1, 'VM.GuestAgent.Audit': 1 },
      });
      const one = (await api(s, 'GET', '/access/permissions', { path: '/vms/100' }, alice)).body.data;
      expect(one).to.deep.equal({ '/vms/100': all['/vms'] });
      expect((await api(s, 'GET', '/access/permissions', { path: '/nodes' }, alice)).body.data).to.deep.equal({ '/nodes': {} });
    });

    it('marks a privilege 0 when it holds on that exact path only', async () => {
      s.sim.state.acl.push({ path: '/vms/101', user: 'bob@pve', role: 'PVEVMUser', propagate: false });
      const { data } = (await api(s, 'GET', '/access/permissions', { userid: 'bob@pve' })).body;
      expect(data['/vms/101']).to.include({ 'VM.PowerMgmt': 0, 'VM.Audit': 0 });
      expect(data['/vms']).to.include({ 'VM.Audit': 1 });
      expect(data['/vms']).to.not.have.property('VM.PowerMgmt');
    });

    it('needs Sys.Audit on /access to ask about someone else, not about yourself', async () => {
      const alice = await ticket(s, 'alice@pve', 'alicepass123');
      const other = await api(s, 'GET', '/access/permissions', { userid: 'bob@pve' }, alice);
      expect([other.status, other.reason]).to.deep.equal([403, 'Permission check failed (/access, Sys.Audit)']);
      expect((await api(s, 'GET', '/access/permissions', { userid: 'alice@pve' }, alice)).status).to.equal(200);
      const bad = await api(s, 'GET', '/access/permissions', { userid: 'bob' });
      expect([bad.status, bad.body.errors]).to.deep.equal([400, { userid: 'value does not match the regex pattern' }]);
    });
  });

  describe('GET /cluster/tasks', () => {
    it('lists running tasks with pid and finished ones with status and endtime, token users split', async () => {
      s.sim.hangTasks(true);
      const running = (await api(s, 'POST', '/nodes/pve1/lxc/101/status/start')).body.data;
      const { data } = (await api(s, 'GET', '/cluster/tasks')).body;
      const row = data.find((t: { upid: string }) => t.upid === running);
      expect(row).to.deep.include({ node: 'pve1', type: 'vzstart', id: '101', user: 'root@pam', tokenid: 'berth' });
      expect(row.pid).to.be.a('number');
      expect(row).to.not.have.any.keys('status', 'endtime', 'pstart');
      s.sim.hangTasks(false);
      await finished(s, 'pve1', running);
      const done = (await api(s, 'GET', '/cluster/tasks')).body.data.find((t: { upid: string }) => t.upid === running);
      expect(done).to.include({ status: 'OK' });
      expect(done.endtime).to.be.a('number');
      expect(done).to.not.have.property('pid');
    });

    it('keeps each node to its running tasks plus the newest finished ones, 25 in all', async () => {
      const upids: string[] = [];
      for (let i = 0; i < 27; i++) upids.push((await api(s, 'POST', '/nodes/pve2/qemu/201/status/stop')).body.data);
      for (const upid of upids) await finished(s, 'pve2', upid);
      s.sim.hangTasks(true);
      const busy = (await api(s, 'POST', '/nodes/pve2/lxc/102/status/shutdown')).body.data;
      const other = (await api(s, 'POST', '/nodes/pve1/lxc/101/status/start')).body.data;
      const data = (await api(s, 'GET', '/cluster/tasks')).body.data as Array<{ upid: string; node: string }>;
      const pve2 = data.filter((t) => t.node === 'pve2').map((t) => t.upid);
      expect(pve2).to.have.length(25);
      expect(pve2[0]).to.equal(busy);
      expect(pve2).to.not.include(upids[0]);
      expect(pve2).to.not.include(upids[1]);
      expect(pve2).to.include(upids[26]);
      expect(data.map((t) => t.upid)).to.include(other);
    });

    it('shows a caller without Sys.Audit on / only their own tasks', async () => {
      const alice = await ticket(s, 'alice@pve', 'alicepass123');
      s.sim.core.tasks.start({ node: 'pve1', type: 'vzstart', id: 101, principal: { userid: 'alice@pve' }, lines: [] });
      s.sim.core.tasks.start({ node: 'pve1', type: 'vzstart', id: 101, principal: { userid: 'alice@pve', tokenid: 'alice@pve!ci' }, lines: [] });
      await api(s, 'POST', '/nodes/pve1/lxc/101/status/start');
      const seen = (await api(s, 'GET', '/cluster/tasks', {}, alice)).body.data as Array<{ user: string; tokenid?: string }>;
      expect(seen).to.have.length(2);
      expect(seen.every((t) => t.user === 'alice@pve')).to.equal(true);
      expect(seen.map((t) => t.tokenid ?? null)).to.have.members([null, 'ci']);
      expect((await api(s, 'GET', '/cluster/tasks')).body.data).to.have.length(3);
    });
  });

  describe('GET /pools', () => {
    let p: StartedSim;
    beforeEach(async () => {
      const seed = JSON.parse(readFileSync(SEED_FILE, 'utf8')) as SeedInput;
      seed.pools = [
        { poolid: 'web', comment: 'Web servers', vms: [100, 200], storage: ['local-lvm'] },
        { poolid: 'dev', vms: [101] },
      ];
      seed.acl = [...(seed.acl ?? []), { path: '/pool/dev', user: 'bob@pve', role: 'PVEAuditor' }];
      p = await startSim({ seed, taskMs: 20 });
    });
    afterEach(async () => { await p.close(); });

    it('lists the pools a caller may audit, sorted, with comment only when set', async () => {
      expect((await api(p, 'GET', '/pools')).body.data).to.deep.equal([{ poolid: 'dev' }, { poolid: 'web', comment: 'Web servers' }]);
      const bob = await ticket(p, 'bob@pve', 'bobpass123');
      expect((await api(p, 'GET', '/pools', {}, bob)).body.data).to.deep.equal([{ poolid: 'dev' }]);
      const alice = await ticket(p, 'alice@pve', 'alicepass123');
      expect((await api(p, 'GET', '/pools', {}, alice)).body.data).to.deep.equal([]);
    });

    it('gives one pool with its members for poolid=, to any caller; type= filters members', async () => {
      const alice = await ticket(p, 'alice@pve', 'alicepass123');
      const { data } = (await api(p, 'GET', '/pools', { poolid: 'web' }, alice)).body;
      expect(data).to.have.length(1);
      expect(data[0]).to.include({ poolid: 'web', comment: 'Web servers' });
      const ids = data[0].members.map((m: { id: string }) => m.id);
      expect(ids).to.have.members(['lxc/100', 'qemu/200', 'storage/pve1/local-lvm', 'storage/pve2/local-lvm']);
      expect(data[0].members.find((m: { id: string }) => m.id === 'lxc/100')).to.include({ vmid: 100, node: 'pve1', type: 'lxc', status: 'running' });
      expect(data[0].members.find((m: { id: string }) => m.id === 'storage/pve1/local-lvm')).to.include({ storage: 'local-lvm', type: 'storage', plugintype: 'lvmthin' });
      const lxc = (await api(p, 'GET', '/pools', { poolid: 'web', type: 'lxc' })).body.data[0].members;
      expect(lxc.map((m: { id: string }) => m.id)).to.deep.equal(['lxc/100']);
      expect500(await api(p, 'GET', '/pools', { poolid: 'nope' }), "pool 'nope' does not exist");
      const orphan = await api(p, 'GET', '/pools', { type: 'lxc' });
      expect([orphan.status, orphan.body.errors]).to.deep.equal([400, { poolid: "missing property - 'type' requires this property" }]);
    });

    it('adds pool members to the paths GET /access/permissions looks at', async () => {
      p.sim.state.acl.push({ path: '/vms/101', user: 'bob@pve', role: 'PVEVMUser', propagate: true });
      const bob = await ticket(p, 'bob@pve', 'bobpass123');
      const { data } = (await api(p, 'GET', '/access/permissions', {}, bob)).body;
      expect(Object.keys(data)).to.include.members(['/vms', '/vms/100', '/vms/101', '/pool/dev']);
    });
  });
});
