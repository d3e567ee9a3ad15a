// The simulator against a real node's behaviour on the container create/lifecycle paths
// (../shared/proxmox/README.md §3-§5), and each failure switch, driven over plain HTTP and the
// /_sim control endpoints. The Berth client is left out on purpose: it is tested against this
// simulator, so the simulator must be checked on its own.
import { expect } from 'chai';
import { fetch } from 'undici';
import { ADMIN_TOKEN, startSim, type StartedSim } from '../../support/pve-sim.js';

const TOKEN = { Authorization: `PVEAPIToken=${ADMIN_TOKEN.tokenId}=${ADMIN_TOKEN.secret}` };
const DEBIAN = 'local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst';
const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl berth@test';

interface Answer {
  status: number;
  reason: string;
  headers: Headers;
  text: string;
  body: any;
  ms: number;
}

type Auth = Record<string, string>;

async function api(base: string, method: string, path: string, form?: Record<string, string>, auth: Auth = TOKEN): Promise<Answer> {
  const started = Date.now();
  const res = await fetch(`${base}/api2/json${path}`, { method, headers: auth, body: form ? new URLSearchParams(form) : undefined });
  const text = await res.text();
  const isJson = res.headers.get('content-type')?.startsWith('application/json') ?? false;
  return { status: res.status, reason: res.statusText, headers: res.headers as unknown as Headers, text, body: isJson && text ? JSON.parse(text) : undefined, ms: Date.now() - started };
}

async function control(base: string, name: string, body?: object): Promise<{ status: number; body: any }> {
  const res = await fetch(`${base}/_sim/${name}`, {
    method: body === undefined ? 'GET' : 'POST', body: body && JSON.stringify(body), headers: { 'Content-Type': 'application/json' },
  });
  return { status: res.status, body: await res.json() };
}

/** Poll until `check` returns a value, or fail after `ms`. */
async function until<T>(what: string, check: () => Promise<T | undefined | null | false>, ms = 5000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Wait for a task to end (through the API, so its node must be online) and return its status. */
async function taskEnd(base: string, upid: string): Promise<{ status: string; exitstatus: string }> {
  const node = upid.split(':')[1];
  return until(`task ${upid}`, async () => {
    const st = await api(base, 'GET', `/nodes/${node}/tasks/${encodeURIComponent(upid)}/status`);
    return st.body?.data?.status === 'stopped' ? st.body.data : undefined;
  });
}

async function taskLog(base: string, upid: string): Promise<string[]> {
  const node = upid.split(':')[1];
  const log = await api(base, 'GET', `/nodes/${node}/tasks/${encodeURIComponent(upid)}/log?limit=0`);
  return log.body.data.map((l: { t: string }) => l.t);
}

async function ctStatus(base: string, node: string, vmid: number): Promise<string> {
  return (await api(base, 'GET', `/nodes/${node}/lxc/${vmid}/status/current`)).body.data.status;
}

async function config(base: string, node: string, vmid: number): Promise<Answer> {
  return api(base, 'GET', `/nodes/${node}/lxc/${vmid}/config`);
}

/** A ticket session for a seed user: the cookie plus the CSRF header that writes need. */
async function login(base: string, username: string, password: string): Promise<Auth> {
  const res = await api(base, 'POST', '/access/ticket', { username, password }, {});
  const { ticket, CSRFPreventionToken } = res.body.data as { ticket: string; CSRFPreventionToken: string };
  return { Cookie: `PVEAuthCookie=${ticket}`, CSRFPreventionToken };
}

function eth0Ipv4(ifaces: Array<{ name: string; inet?: string }> | null): string | undefined {
  return ifaces?.find((i) => i.name === 'eth0')?.inet;
}

describe('pve-sim behaves like a real node on the container lifecycle', () => {
  let s: StartedSim;
  beforeEach(async () => { s = await startSim({ taskMs: 30, ipDelayMs: 30 }); });
  afterEach(async () => { await s.close(); });

  describe('task timing', () => {
    it('runs start, stop and shutdown tasks for the task duration; the status changes when each ends', async () => {
      await control(s.url, 'timing', { taskMs: 250 });
      const start = await api(s.url, 'POST', '/nodes/pve1/lxc/101/status/start');
      const started = Date.now();
      expect((await api(s.url, 'GET', `/nodes/pve1/tasks/${encodeURIComponent(start.body.data)}/status`)).body.data.status).to.equal('running');
      expect(await ctStatus(s.url, 'pve1', 101)).to.equal('stopped');
      expect(await taskEnd(s.url, start.body.data)).to.include({ exitstatus: 'OK' });
      expect(Date.now() - started).to.be.at.least(200);
      expect(await ctStatus(s.url, 'pve1', 101)).to.equal('running');

      for (const [action, vmid] of [['stop', 101], ['shutdown', 100]] as const) {
        const upid = (await api(s.url, 'POST', `/nodes/pve1/lxc/${vmid}/status/${action}`)).body.data;
        expect(await ctStatus(s.url, 'pve1', vmid), `${action} still running`).to.equal('running');
        expect(await taskEnd(s.url, upid)).to.include({ exitstatus: 'OK' });
        expect(await ctStatus(s.url, 'pve1', vmid), `after ${action}`).to.equal('stopped');
      }
    });
  });

  describe('create', () => {
    it('holds only `lock: create` while the task runs; the task writes the config with the generated MAC', async () => {
      await control(s.url, 'hang-tasks', { on: true });
      const upid = (await api(s.url, 'POST', '/nodes/pve1/lxc', {
        vmid: '150', ostemplate: DEBIAN, hostname: 'app1', rootfs: 'local-lvm:8', net0: 'ip=dhcp,name=eth0,bridge=vmbr0',
      })).body.data;
      const during = await config(s.url, 'pve1', 150);
      expect(Object.keys(during.body.data).sort()).to.deep.equal(['digest', 'lock']);
      expect(during.body.data.lock).to.equal('create');
      const row = (await api(s.url, 'GET', '/nodes/pve1/lxc')).body.data.find((r: { vmid: number }) => r.vmid === 150);
      // No `cores` yet: vmstatus reports the node's CPU count (pve1 has 16).
      expect(row).to.include({ lock: 'create', status: 'stopped', name: 'CT150', cpus: 16 });
      const blocked = await api(s.url, 'POST', '/nodes/pve1/lxc/150/status/start');
      expect([blocked.status, blocked.reason]).to.deep.equal([500, 'CT is locked (create)']);
      const resources = (await api(s.url, 'GET', '/cluster/resources?type=vm')).body.data;
      expect(resources.find((r: { vmid: number }) => r.vmid === 150)).to.include({ lock: 'create' });

      await control(s.url, 'hang-tasks', { on: false });
      expect(await taskEnd(s.url, upid)).to.include({ exitstatus: 'OK' });
      const after = (await config(s.url, 'pve1', 150)).body.data;
      expect(after).not.to.have.property('lock');
      expect(after).to.include({ hostname: 'app1', rootfs: 'local-lvm:vm-150-disk-0,size=8G', unprivileged: 1 });
      expect(after.net0).to.match(/^name=eth0,bridge=vmbr0,hwaddr=BC:24:11:[0-9A-F]{2}:[0-9A-F]{2}:[0-9A-F]{2},ip=dhcp,type=veth$/);
    });

    it('keeps a given MAC and writes the NIC keys in the stored order', async () => {
      const upid = (await api(s.url, 'POST', '/nodes/pve1/lxc', {
        vmid: '151', ostemplate: DEBIAN, rootfs: 'local-lvm:4', net0: 'type=veth,ip=10.20.0.77/24,gw=10.20.0.1,hwaddr=BC:24:11:01:02:03,bridge=vmbr0,name=eth0',
      })).body.data;
      expect((await config(s.url, 'pve1', 151)).body.data).not.to.have.property('net0');
      await taskEnd(s.url, upid);
      expect((await config(s.url, 'pve1', 151)).body.data.net0).to.equal('name=eth0,bridge=vmbr0,gw=10.20.0.1,hwaddr=BC:24:11:01:02:03,ip=10.20.0.77/24,type=veth');
    });

    it('fails inside the task for a template that does not exist, and removes the container', async () => {
      const res = await api(s.url, 'POST', '/nodes/pve1/lxc', { vmid: '152', ostemplate: 'local:vztmpl/x.tar.zst', rootfs: 'local-lvm:4' });
      expect(res.status).to.equal(200);
      const message = "unable to create CT 152 - volume 'local:vztmpl/x.tar.zst' does not exist";
      expect(await taskEnd(s.url, res.body.data)).to.include({ exitstatus: message });
      expect((await taskLog(s.url, res.body.data)).at(-1)).to.equal(`TASK ERROR: ${message}`);
      const gone = await config(s.url, 'pve1', 152);
      expect([gone.status, gone.reason]).to.deep.equal([500, "Configuration file 'nodes/pve1/lxc/152.conf' does not exist"]);
    });

    it('refuses invalid SSH public keys synchronously and accepts valid ones, one per line', async () => {
      for (const bad of ['not a key', 'ssh-ed25519', `${KEY}\nssh-foo AAAA`, 'ssh-rsa AAAA!!!']) {
        const res = await api(s.url, 'POST', '/nodes/pve1/lxc', { vmid: '153', ostemplate: DEBIAN, rootfs: 'local-lvm:4', 'ssh-public-keys': bad });
        expect([res.status, res.reason, res.body.message], bad).to.deep.equal([500, 'SSH public key validation error', 'SSH public key validation error\n']);
      }
      expect((await control(s.url, 'state')).body.guests.map((g: { vmid: number }) => g.vmid)).not.to.include(153);
      const keys = `${KEY}\n\necdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTY=\nssh-rsa AAAAB3NzaC1yc2E= other`;
      const ok = await api(s.url, 'POST', '/nodes/pve1/lxc', { vmid: '153', ostemplate: DEBIAN, rootfs: 'local-lvm:4', 'ssh-public-keys': keys });
      expect(ok.status).to.equal(200);
    });

    it('answers 400 on `storage` for a storage that cannot hold container root filesystems', async () => {
      for (const params of [{ rootfs: 'local:8' }, { storage: 'local', rootfs: '8' }, { storage: 'local' }] as Array<Record<string, string>>) {
        const res = await api(s.url, 'POST', '/nodes/pve1/lxc', { vmid: '154', ostemplate: DEBIAN, ...params });
        expect([res.status, res.reason, res.body.errors], JSON.stringify(params)).to.deep.equal([
          400, 'Parameter verification failed.', { storage: "storage 'local' does not support container directories" },
        ]);
      }
    });
  });

  describe('clone', () => {
    it('locks the source with `disk` while the clone runs, so a second clone fails', async () => {
      await control(s.url, 'hang-tasks', { on: true });
      const upid = (await api(s.url, 'POST', '/nodes/pve1/lxc/9000/clone', { newid: '170', hostname: 'c1' })).body.data;
      expect((await config(s.url, 'pve1', 9000)).body.data.lock).to.equal('disk');
      expect((await config(s.url, 'pve1', 170)).body.data).to.include({ lock: 'create', hostname: 'c1' });
      const second = await api(s.url, 'POST', '/nodes/pve1/lxc/9000/clone', { newid: '171' });
      expect([second.status, second.reason]).to.deep.equal([500, 'CT is locked (disk)']);
      await control(s.url, 'hang-tasks', { on: false });
      expect(await taskEnd(s.url, upid)).to.include({ exitstatus: 'OK' });
      expect((await taskLog(s.url, upid))[0]).to.equal('create linked clone of mount point rootfs (local-lvm:base-9000-disk-0)');
      expect((await config(s.url, 'pve1', 9000)).body.data).not.to.have.property('lock');
      const made = (await config(s.url, 'pve1', 170)).body.data;
      expect(made).not.to.have.property('lock');
      expect(made.rootfs).to.equal('local-lvm:vm-170-disk-0,size=4G');
    });

    it('refuses a full clone of a running container, and unlocks the source when the clone task fails', async () => {
      const running = await api(s.url, 'POST', '/nodes/pve1/lxc/100/clone', { newid: '172' });
      expect([running.status, running.reason]).to.deep.equal([500, 'Cannot do full clones on a running container without snapshots']);
      expect((await config(s.url, 'pve1', 100)).body.data).not.to.have.property('lock');
      expect((await config(s.url, 'pve1', 172)).status).to.equal(500);

      await control(s.url, 'fail-next-task', { type: 'vzclone', message: 'clone failed: copy error' });
      const upid = (await api(s.url, 'POST', '/nodes/pve1/lxc/101/clone', { newid: '173' })).body.data;
      expect(await taskEnd(s.url, upid)).to.include({ exitstatus: 'clone failed: copy error' });
      expect((await config(s.url, 'pve1', 101)).body.data).not.to.have.property('lock');
      expect((await config(s.url, 'pve1', 173)).status).to.equal(500);
    });
  });

  describe('feature flags', () => {
    const REFUSED = 'Permission check failed (changing feature flags (except nesting) is only allowed for root@pam)';

    it('lets only root@pam itself set flags other than nesting, on create and on PUT config', async () => {
      const create = (vmid: number, features: string, auth: Auth = TOKEN) =>
        api(s.url, 'POST', '/nodes/pve1/lxc', { vmid: String(vmid), ostemplate: DEBIAN, rootfs: 'local-lvm:4', features }, auth);
      // root@pam's own token is not root@pam.
      const byToken = await create(160, 'nesting=1,keyctl=1');
      expect([byToken.status, byToken.reason]).to.deep.equal([403, REFUSED]);
      expect((await create(160, 'nesting=1')).status).to.equal(200);
      const root = await login(s.url, 'root@pam', 'rootpass123');
      expect((await create(161, 'nesting=1,keyctl=1', root)).status).to.equal(200);

      const put = (features: string, auth: Auth) => api(s.url, 'PUT', '/nodes/pve1/lxc/101/config', { features }, auth);
      const keyctl = await put('keyctl=1', TOKEN);
      expect([keyctl.status, keyctl.reason]).to.deep.equal([403, REFUSED]);
      expect((await put('nesting=1', TOKEN)).status).to.equal(200);
      expect((await put('nesting=1,fuse=1', root)).status).to.equal(200);
      expect((await put('nesting=0,fuse=1', TOKEN)).status, 'only nesting changed').to.equal(200);
      expect((await put('nesting=0', TOKEN)).status, 'fuse dropped').to.equal(403);
      const del = await api(s.url, 'PUT', '/nodes/pve1/lxc/101/config', { delete: 'features' });
      expect(del.status, 'deleting fuse').to.equal(403);
      expect((await config(s.url, 'pve1', 101)).body.data.features).to.equal('nesting=0,fuse=1');
    });
  });

  describe('an offline node', () => {
    it('answers calls proxied to it with a bare 595 after the connect delay; cluster-wide calls still work', async () => {
      await control(s.url, 'timing', { offlineDelayMs: 150 });
      await control(s.url, 'node', { node: 'pve2', online: false });
      const res = await api(s.url, 'GET', '/nodes/pve2/lxc');
      expect([res.status, res.reason, res.text]).to.deep.equal([595, 'No route to host', '']);
      expect(res.headers.get('content-type')).to.equal(null);
      expect(res.headers.get('connection')).to.equal('close');
      expect(res.ms).to.be.at.least(140);
      const nodes = (await api(s.url, 'GET', '/cluster/resources?type=node')).body.data;
      expect(nodes.find((n: { node: string }) => n.node === 'pve2')).to.include({ status: 'offline' });
      expect((await api(s.url, 'GET', '/nodes/pve1/lxc')).status).to.equal(200);

      await control(s.url, 'node', { node: 'pve2', online: false, reason: 'Connection timed out' });
      expect((await api(s.url, 'POST', '/nodes/pve2/lxc/102/status/stop')).reason).to.equal('Connection timed out');
      await control(s.url, 'node', { node: 'pve2', online: true });
      expect((await api(s.url, 'GET', '/nodes/pve2/lxc')).status).to.equal(200);
    });

    it('lets a task finish on a node that went away mid-task; its status is readable once the node is back', async () => {
      await control(s.url, 'timing', { taskMs: 150, offlineDelayMs: 0 });
      const upid = (await api(s.url, 'POST', '/nodes/pve2/lxc/102/status/stop')).body.data;
      s.sim.setNodeOnline('pve2', false);
      expect((await api(s.url, 'GET', `/nodes/pve2/tasks/${encodeURIComponent(upid)}/status`)).status).to.equal(595);
      await until('the task to end on the offline node', async () => (await control(s.url, 'state')).body.tasks.running === 0);
      expect((await api(s.url, 'GET', `/nodes/pve2/tasks/${encodeURIComponent(upid)}/status`)).status).to.equal(595);
      s.sim.setNodeOnline('pve2', true);
      expect(await taskEnd(s.url, upid)).to.include({ exitstatus: 'OK' });
      expect(await ctStatus(s.url, 'pve2', 102)).to.equal('stopped');
    });
  });

  describe('failure switches', () => {
    it('fails a create task and removes the container', async () => {
      await control(s.url, 'fail-next-task', { type: 'vzcreate', message: 'unable to create CT 150 - disk full' });
      const upid = (await api(s.url, 'POST', '/nodes/pve1/lxc', { vmid: '150', ostemplate: DEBIAN, rootfs: 'local-lvm:4' })).body.data;
      expect(await taskEnd(s.url, upid)).to.include({ exitstatus: 'unable to create CT 150 - disk full' });
      expect((await config(s.url, 'pve1', 150)).status).to.equal(500);
      expect((await api(s.url, 'GET', '/nodes/pve1/lxc')).body.data.map((r: { vmid: number }) => r.vmid)).not.to.include(150);
    });

    it('fails a start task with a message; the container stays stopped', async () => {
      s.sim.failNextTask({ type: 'vzstart', message: 'startup for container 101 failed' });
      const upid = (await api(s.url, 'POST', '/nodes/pve1/lxc/101/status/start')).body.data;
      expect(await taskEnd(s.url, upid)).to.include({ exitstatus: 'startup for container 101 failed' });
      expect((await taskLog(s.url, upid)).at(-1)).to.equal('TASK ERROR: startup for container 101 failed');
      expect(await ctStatus(s.url, 'pve1', 101)).to.equal('stopped');
    });

    it('withholds DHCP from one container, or from every container started while on', async () => {
      await control(s.url, 'no-dhcp', { vmid: 101 });
      await taskEnd(s.url, (await api(s.url, 'POST', '/nodes/pve1/lxc/101/status/start')).body.data);
      await control(s.url, 'clock', { advanceMs: 3_600_000 });
      const ifaces = (await api(s.url, 'GET', '/nodes/pve1/lxc/101/interfaces')).body.data;
      expect(ifaces.find((i: { name: string }) => i.name === 'eth0')).to.have.property('hwaddr');
      expect(eth0Ipv4(ifaces), 'an hour later').to.equal(undefined);
      await control(s.url, 'no-dhcp', { vmid: 101, on: false });
      await until('the lease after no-dhcp is off', async () => eth0Ipv4((await api(s.url, 'GET', '/nodes/pve1/lxc/101/interfaces')).body.data));

      s.sim.setNoDhcp(true);
      const create = (await api(s.url, 'POST', '/nodes/pve1/lxc', { vmid: '150', ostemplate: DEBIAN, rootfs: 'local-lvm:4', net0: 'name=eth0,bridge=vmbr0,ip=dhcp', start: '1' })).body.data;
      await taskEnd(s.url, create);
      await control(s.url, 'clock', { advanceMs: 3_600_000 });
      expect(eth0Ipv4((await api(s.url, 'GET', '/nodes/pve1/lxc/150/interfaces')).body.data)).to.equal(undefined);
      expect(eth0Ipv4((await api(s.url, 'GET', '/nodes/pve1/lxc/100/interfaces')).body.data), 'leases given before stay').to.equal('10.20.0.100/24');
    });

    it('refuses the next delete synchronously, or fails the destroy task; the container stays', async () => {
      await control(s.url, 'fail-next-delete', { message: 'unable to remove CT {vmid} - used in HA resources' });
      const refused = await api(s.url, 'DELETE', '/nodes/pve1/lxc/101');
      expect([refused.status, refused.reason]).to.deep.equal([500, 'unable to remove CT 101 - used in HA resources']);
      await control(s.url, 'fail-next-task', { type: 'vzdestroy', message: 'lvremove failed' });
      const upid = (await api(s.url, 'DELETE', '/nodes/pve1/lxc/101')).body.data;
      expect(await taskEnd(s.url, upid)).to.include({ exitstatus: 'lvremove failed' });
      expect((await config(s.url, 'pve1', 101)).status).to.equal(200);
      await taskEnd(s.url, (await api(s.url, 'DELETE', '/nodes/pve1/lxc/101')).body.data);
      expect((await config(s.url, 'pve1', 101)).status).to.equal(500);
    });

    it('holds a lock on a container until it is cleared', async () => {
      await control(s.url, 'lock', { vmid: 101, lock: 'backup' });
      for (const [method, path, form] of [
        ['POST', '/nodes/pve1/lxc/101/status/start', undefined],
        ['DELETE', '/nodes/pve1/lxc/101', undefined],
        ['PUT', '/nodes/pve1/lxc/101/config', { description: 'x' }],
        ['POST', '/nodes/pve1/lxc/101/clone', { newid: '180' }],
      ] as const) {
        const res = await api(s.url, method, path, form);
        expect([res.status, res.reason], `${method} ${path}`).to.deep.equal([500, 'CT is locked (backup)']);
      }
      expect((await api(s.url, 'GET', '/nodes/pve1/lxc')).body.data.find((r: { vmid: number }) => r.vmid === 101)).to.include({ lock: 'backup' });
      expect((await control(s.url, 'lock', { vmid: 101, lock: 'nonsense' })).status).to.equal(400);
      await control(s.url, 'lock', { vmid: 101, lock: null });
      expect((await api(s.url, 'POST', '/nodes/pve1/lxc/101/status/start')).status).to.equal(200);
    });

    it('fails the next call of one route only, in the error envelope, after the parameter checks', async () => {
      expect((await control(s.url, 'fail-next-call', { route: 'nextid' })).status).to.equal(400);
      await control(s.url, 'fail-next-call', { route: 'GET /cluster/nextid', message: 'cluster not ready - no quorum?\n' });
      // A call refused by the schema does not consume it.
      expect((await api(s.url, 'GET', '/cluster/nextid?vmid=abc')).status).to.equal(400);
      const failed = await api(s.url, 'GET', '/cluster/nextid');
      expect([failed.status, failed.reason, failed.body.message]).to.deep.equal([500, 'cluster not ready - no quorum?', 'cluster not ready - no quorum?\n']);
      expect((await api(s.url, 'GET', '/cluster/nextid')).status).to.equal(200);
      s.sim.failNextCall('GET /nodes/{node}/lxc/{vmid}/config', { status: 500, message: 'got timeout\n' });
      expect((await config(s.url, 'pve1', 100)).status).to.equal(500);
      expect((await config(s.url, 'pve1', 100)).status).to.equal(200);
    });

    it('clears every switch, timing and lock on reset', async () => {
      s.sim.failNextCreate();
      s.sim.failNextDelete();
      s.sim.failNextCall('GET /cluster/nextid');
      s.sim.failNextTask({ type: 'vzstart' });
      s.sim.setNoDhcp(true);
      s.sim.setNoDhcp(true, 101);
      s.sim.hangTasks(true);
      s.sim.holdTaskLogs(true);
      s.sim.setLock(101, 'backup');
      s.sim.setNodeOnline('pve2', false, 'Connection timed out');
      s.sim.setTiming({ taskMs: 5000, ipDelayMs: 5000, responseDelayMs: 100, offlineDelayMs: 5000, authFailDelayMs: 100 });
      expect((await control(s.url, 'reset', {})).status).to.equal(200);
      const { faults, guests, nodes } = (await control(s.url, 'state')).body;
      expect(faults).to.deep.include({
        createFailures: [], deleteFailures: [], taskFailures: [], callFailures: [], hangTasks: false, holdTaskLogs: false, unreachable: 'off',
        noDhcpAll: false, noDhcpVmids: [], responseDelayMs: 0, authFailDelayMs: 0, offlineReason: 'No route to host', offlineDelayMs: 300,
      });
      expect(guests.find((g: { vmid: number }) => g.vmid === 101).lock).to.equal(null);
      expect(nodes.every((n: { online: boolean }) => n.online)).to.equal(true);
      expect([s.sim.core.taskMs, s.sim.core.ipDelayMs]).to.deep.equal([30, 30]);
    });
  });
});
