// Container lifecycle through the client against the simulator: create with log streaming,
// the create lock, MAC and IPv4 read back, power, clone, delete, and failing or hanging tasks.
import { expect } from 'chai';
import {
  createProxmoxClient, parseUpid, ProxmoxError, ProxmoxTaskError, ProxmoxTimeoutError, type ProxmoxClient,
} from '../../../src/lib/proxmox/index.js';
import { startSim, type StartedSim } from '../../support/pve-sim.js';

const DEBIAN = 'local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst';
const fast = { pollMs: 10, timeoutMs: 5000 };

describe('proxmox client: containers and tasks', () => {
  let s: StartedSim;
  let c: ProxmoxClient;

  beforeEach(async () => {
    s = await startSim({ taskMs: 60, ipDelayMs: 40 });
    c = createProxmoxClient(s.clientOptions());
  });
  afterEach(async () => {
    await c.close();
    await s.close();
  });

  it('creates a container, streams the task log in order and clears the create lock', async () => {
    const vmid = await c.cluster.nextId();
    expect(vmid).to.equal(103);
    const upid = await c.containers.create('pve1', {
      vmid, ostemplate: DEBIAN, hostname: 'app1', memory: 1024, rootfs: 'local-lvm:8',
      net0: { ip: 'dhcp' }, sshPublicKeys: 'ssh-ed25519 AAAA test@berth', features: { nesting: true }, tags: ['berth', 'dev'],
    });
    expect(parseUpid(upid)).to.include({ node: 'pve1', type: 'vzcreate', id: '103', user: 'root@pam!berth' });

    const locked = await c.containers.config('pve1', vmid);
    expect(locked.lock).to.equal('create');
    expect(await c.cluster.nextId()).to.equal(104);

    const lines: Array<[number, string]> = [];
    const st = await c.tasks.wait(upid, { ...fast, onLog: (t, n) => { lines.push([n, t]); } });
    expect(st.status).to.equal('stopped');
    expect(st.exitstatus).to.equal('OK');
    expect(lines.map(([n]) => n)).to.deep.equal(lines.map((_, i) => i + 1));
    expect(lines[0][1]).to.equal("extracting archive '/var/lib/vz/template/cache/debian-12-standard_12.7-1_amd64.tar.zst'");
    expect(lines.at(-1)![1]).to.equal('TASK OK');

    const cfg = await c.containers.config('pve1', vmid);
    expect(cfg).not.to.have.property('lock');
    expect(cfg).to.include({ hostname: 'app1', memory: 1024, swap: 512, unprivileged: 1, features: 'nesting=1', tags: 'berth;dev' });
    expect(cfg.rootfs).to.equal('local-lvm:vm-103-disk-0,size=8G');
    expect(cfg.net0).to.match(/^name=eth0,bridge=vmbr0,hwaddr=BC:24:11:[0-9A-F]{2}:[0-9A-F]{2}:[0-9A-F]{2},ip=dhcp,type=veth$/);
    expect(cfg.digest).to.match(/^[0-9a-f]{40}$/);
    expect(cfg).not.to.have.property('ssh-public-keys');
  });

  it('reads the MAC once the create task wrote the config, and the DHCP IPv4 only after start, visible in /cluster/resources', async () => {
    const upid = await c.containers.create('pve1', { vmid: 150, ostemplate: DEBIAN, rootfs: 'local-lvm:4', net0: 'name=eth0,bridge=vmbr0,ip=dhcp' });
    expect(await c.containers.mac('pve1', 150)).to.equal(null); // the config holds only `lock: create` yet
    await c.tasks.wait(upid, fast);
    const mac = await c.containers.mac('pve1', 150);
    expect(mac).to.match(/^BC:24:11:/);
    expect(await c.containers.interfaces('pve1', 150)).to.equal(null);
    expect(await c.containers.ipv4('pve1', 150)).to.equal(null);

    await c.tasks.wait(await c.containers.start('pve1', 150), fast);
    const early = await c.containers.interfaces('pve1', 150);
    expect(early?.find((i) => i.name === 'eth0')?.hwaddr).to.equal(mac!.toLowerCase());
    let ip: string | null = null;
    for (let i = 0; i < 50 && !ip; i++) {
      ip = await c.containers.ipv4('pve1', 150);
      if (!ip) await new Promise((r) => setTimeout(r, 10));
    }
    expect(ip).to.match(/^10\.20\.0\.\d+$/);
    expect(ip).not.to.equal('10.20.0.100'); // CT 100 holds that lease

    const row = (await c.cluster.resources('vm')).find((r) => r.vmid === 150);
    expect(row).to.include({ id: 'lxc/150', type: 'lxc', node: 'pve1', status: 'running', name: 'CT150', maxmem: 512 * 1024 * 1024 });
    expect((await c.containers.status('pve1', 150)).uptime).to.be.a('number');
  });

  it('reads a static IPv4 from the config and gives every container a unique MAC', async () => {
    expect(await c.containers.ipv4('pve2', 102)).to.equal('10.20.0.12');
    const macs = new Set<string>();
    for (const vmid of [160, 161, 162]) {
      await c.tasks.wait(await c.containers.create('pve1', { vmid, ostemplate: DEBIAN, rootfs: 'local-lvm:4', net0: {} }), fast);
      macs.add((await c.containers.mac('pve1', vmid))!);
    }
    macs.add((await c.containers.mac('pve1', 100))!);
    expect(macs.size).to.equal(4);
  });

  it('rejects operations on a container that is still being created', async () => {
    s.sim.hangTasks();
    await c.containers.create('pve1', { vmid: 150, ostemplate: DEBIAN, rootfs: 'local-lvm:4' });
    const err = (await c.containers.start('pve1', 150).catch((e: unknown) => e)) as ProxmoxError;
    expect(err.message).to.equal('CT is locked (create)');
    expect(err.code).to.equal('locked');
  });

  it('stops, refuses to delete a running container, then deletes it', async () => {
    const running = (await c.containers.delete('pve1', 100).catch((e: unknown) => e)) as ProxmoxError;
    expect(running.message).to.equal('unable to destroy CT 100 - container is running');
    await c.tasks.wait(await c.containers.shutdown('pve1', 100, { timeout: 30 }), fast);
    const again = (await c.containers.stop('pve1', 100).catch((e: unknown) => e)) as ProxmoxError;
    expect([again.message, again.code]).to.deep.equal(['CT 100 not running', 'not-running']);
    await c.tasks.wait(await c.containers.delete('pve1', 100, { purge: true }), fast);
    expect((await c.containers.list('pve1')).map((g) => g.vmid)).not.to.include(100);
    expect((await c.cluster.resources('vm')).some((r) => r.vmid === 100)).to.equal(false);
  });

  it('clones a template with a new MAC; the task id is the source', async () => {
    const upid = await c.containers.clone('pve1', 9000, { newid: 170, hostname: 'from-tpl' });
    expect(parseUpid(upid)).to.include({ type: 'vzclone', id: '9000' });
    await c.tasks.wait(upid, fast);
    const [src, dst] = await Promise.all([c.containers.mac('pve1', 9000), c.containers.mac('pve1', 170)]);
    expect(dst).to.match(/^BC:24:11:/);
    expect(dst).not.to.equal(src);
    expect((await c.containers.config('pve1', 170)).hostname).to.equal('from-tpl');
    const tpl = (await c.containers.start('pve1', 9000).then((u) => c.tasks.wait(u, fast)).catch((e: unknown) => e)) as ProxmoxTaskError;
    expect(tpl.exitstatus).to.equal("you can't start a CT if it's a template");
  });

  it('a failing task rejects with ProxmoxTaskError and removes the half-created container', async () => {
    s.sim.failNextTask({ type: 'vzcreate', message: 'unable to create CT 150 - no space left on device' });
    const upid = await c.containers.create('pve1', { vmid: 150, ostemplate: DEBIAN, rootfs: 'local-lvm:4' });
    const lines: string[] = [];
    const err = (await c.tasks.wait(upid, { ...fast, onLog: (t) => { lines.push(t); } }).catch((e: unknown) => e)) as ProxmoxTaskError;
    expect(err).to.be.instanceOf(ProxmoxTaskError);
    expect(err.exitstatus).to.equal('unable to create CT 150 - no space left on device');
    expect(err.upid).to.equal(upid);
    expect(lines.at(-1)).to.equal('TASK ERROR: unable to create CT 150 - no space left on device');
    expect(s.sim.state.guests.has(150)).to.equal(false);
  });

  it('delivers exactly the real log lines of a task that writes its first line after empty polls', async () => {
    s.sim.holdTaskLogs();
    const upid = await c.containers.create('pve1', { vmid: 150, ostemplate: DEBIAN, rootfs: 'local-lvm:4' });
    const lines: Array<[number, string]> = [];
    const waiting = c.tasks.wait(upid, { ...fast, onLog: (t, n) => { lines.push([n, t]); } });
    // A real node answers an empty log with a counted placeholder; wait until the client has seen it twice.
    const logPath = `/nodes/pve1/tasks/${upid}/log`;
    const deadline = Date.now() + 3000;
    while (s.sim.count('GET', logPath) < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    expect(s.sim.count('GET', logPath)).to.be.at.least(2);
    expect(await c.tasks.log(upid)).to.deep.equal({ lines: [], total: 0 });
    s.sim.holdTaskLogs(false);
    expect((await waiting).exitstatus).to.equal('OK');
    const written = s.sim.core.tasks.tasks.get(upid)!.log;
    expect(written[0]).to.match(/^extracting archive/);
    expect(lines).to.deep.equal(written.map((t, i) => [i + 1, t]));
    expect(lines.map(([, t]) => t)).not.to.include('no content');
  });

  it('gives up waiting on a hanging task after timeoutMs, and the task can still finish', async () => {
    s.sim.hangTasks();
    const upid = await c.containers.start('pve1', 101);
    const err = await c.tasks.wait(upid, { pollMs: 10, timeoutMs: 120 }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(ProxmoxTimeoutError);
    expect((await c.tasks.status(upid)).status).to.equal('running');
    s.sim.hangTasks(false);
    expect((await c.tasks.wait(upid, fast)).exitstatus).to.equal('OK');
    const archive = await c.tasks.list('pve1', { vmid: 101 });
    expect(archive.map((t) => t.upid)).to.deep.equal([upid]);
  });

  it('stops waiting when the signal aborts', async () => {
    s.sim.hangTasks();
    const upid = await c.containers.start('pve1', 101);
    const ac = new AbortController();
    setTimeout(() => ac.abort(new Error('job cancelled')), 50);
    const err = await c.tasks.wait(upid, { pollMs: 10, signal: ac.signal }).catch((e: unknown) => e);
    expect((err as Error).message).to.equal('job cancelled');
  });

  it('updates config with a digest guard', async () => {
    const { digest } = await c.containers.config('pve1', 101);
    await c.containers.updateConfig('pve1', 101, { description: 'owner: alice', onboot: true }, { digest });
    const cfg = await c.containers.config('pve1', 101);
    expect(cfg).to.include({ description: 'owner: alice', onboot: 1 });
    const stale = (await c.containers.updateConfig('pve1', 101, { cores: 2 }, { digest }).catch((e: unknown) => e)) as ProxmoxError;
    expect(stale.message).to.equal('detected modified configuration - file changed by other user? Try again.');
  });
});
