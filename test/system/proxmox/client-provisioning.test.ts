// The client calls self-service provisioning is built on, against the simulator: the templates a
// node offers, each node's free memory, following a task's log as it is written, reboot, resize and
// snapshots of a container, VM power, and a typed error for a node the cluster cannot reach.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import {
  createProxmoxClient, isTaskSuccess, parseUpid, ProxmoxError, ProxmoxNodeOfflineError, volumeSize, type ProxmoxClient,
} from '../../../src/lib/proxmox/index.js';
import type { SeedInput } from '../../../tools/pve-sim/index.js';
import { SEED_FILE, startSim, type StartedSim } from '../../support/pve-sim.js';

const GiB = 1024 ** 3;
const DEBIAN = 'local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst';
const fast = { pollMs: 10, timeoutMs: 5000 };

/** Poll `check` until it holds or `ms` pass; the assertion after it says what was expected. */
async function until(check: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
}

describe('proxmox client for provisioning', () => {
  let s: StartedSim;
  let c: ProxmoxClient;

  beforeEach(async () => {
    s = await startSim();
    c = createProxmoxClient(s.clientOptions());
  });
  afterEach(async () => {
    await c.close();
    await s.close();
  });

  describe('templates', () => {
    it('lists every template on every template storage of the node, with its file name', async () => {
      await c.close();
      await s.close();
      const seed = JSON.parse(readFileSync(SEED_FILE, 'utf8')) as SeedInput & { storages: unknown[] };
      seed.storages.push(
        { id: 'nfs-tpl', type: 'nfs', content: ['vztmpl', 'backup'], shared: true, nodes: ['pve1'],
          templates: [{ name: 'alpine-3.20-default_20240908_amd64.tar.xz', size: 3_000_000, ctime: 1725753600 }] },
        { id: 'backups', type: 'dir', content: ['backup'], nodes: ['pve1'] },
      );
      s = await startSim({ seed });
      c = createProxmoxClient(s.clientOptions());

      const onPve1 = await c.storage.templates('pve1');
      expect(onPve1.map((t) => [t.storage, t.file])).to.deep.equal([
        ['local', 'debian-12-standard_12.7-1_amd64.tar.zst'],
        ['local', 'ubuntu-24.04-standard_24.04-2_amd64.tar.zst'],
        ['nfs-tpl', 'alpine-3.20-default_20240908_amd64.tar.xz'],
      ]);
      expect(onPve1[0]).to.include({ volid: DEBIAN, size: 126354223, ctime: 1727740800 });
      expect(onPve1[2]).to.include({ volid: 'nfs-tpl:vztmpl/alpine-3.20-default_20240908_amd64.tar.xz', size: 3_000_000, ctime: 1725753600 });
      expect(s.sim.count('GET', '/nodes/pve1/storage/backups/content')).to.equal(0);
      // pve2 does not have the NFS share.
      expect((await c.storage.templates('pve2')).map((t) => t.storage)).to.deep.equal(['local', 'local']);
    });
  });

  describe('node resources', () => {
    it("reports each node's memory with free = maxmem - mem, and less free memory once a container runs", async () => {
      const before = await c.cluster.nodeResources();
      expect(before.map((n) => [n.node, n.status])).to.deep.equal([['pve1', 'online'], ['pve2', 'online']]);
      const pve1 = before.find((n) => n.node === 'pve1')!;
      expect(pve1).to.include({ maxmem: 68719476736, maxcpu: 16, maxdisk: 500107862016 });
      expect(pve1.mem).to.be.greaterThan(0);
      expect(pve1.free).to.equal(pve1.maxmem - pve1.mem);
      expect(pve1.disk).to.be.within(1, pve1.maxdisk);

      await c.tasks.wait(await c.containers.start('pve1', 101), fast);
      const after = (await c.cluster.nodeResources()).find((n) => n.node === 'pve1')!;
      expect(after.free).to.be.lessThan(pve1.free);
      expect(after.free).to.equal(after.maxmem - after.mem);
    });

    it('shows an offline node as offline with no room', async () => {
      s.sim.setNodeOnline('pve2', false);
      const pve2 = (await c.cluster.nodeResources()).find((n) => n.node === 'pve2')!;
      expect(pve2).to.deep.equal({ node: 'pve2', status: 'offline', maxmem: 0, mem: 0, free: 0, maxcpu: 0, cpu: 0, maxdisk: 0, disk: 0 });
    });
  });

  describe('following a task', () => {
    it('hands over log lines while the task still runs, then resolves with the final status', async () => {
      s.sim.hangTasks(); // lines are written, the end waits
      const upid = await c.containers.create('pve1', { vmid: 150, ostemplate: DEBIAN, rootfs: 'local-lvm:8', hostname: 'ct150' });
      const task = s.sim.core.tasks.tasks.get(upid)!;
      const seen: Array<[number, string]> = [];
      const following = c.tasks.follow('pve1', upid, { ...fast, onLine: (t, n) => { seen.push([n, t]); } });
      // The task writes its lines over its 30 ms and then hangs: what it has written must arrive while it runs.
      await until(() => task.log.length > 0 && seen.length === task.log.length && s.sim.core.tasks.running() === 1);
      expect(seen.length).to.be.greaterThan(0);
      expect(task.status).to.equal('running');
      expect(seen).to.deep.equal(task.log.map((t, i) => [i + 1, t]));
      s.sim.hangTasks(false);
      const st = await following;
      expect([st.status, st.exitstatus]).to.deep.equal(['stopped', 'OK']);
      expect(seen.at(-1)).to.deep.equal([task.log.length, 'TASK OK']);
    });

    it('resolves with a failed exit status instead of throwing, after the last line', async () => {
      s.sim.failNextTask({ type: 'vzstart', message: 'startup for container 101 failed' });
      const upid = await c.containers.start('pve1', 101);
      const lines: string[] = [];
      const st = await c.tasks.follow(upid, { ...fast, onLine: (t) => { lines.push(t); } });
      expect(st.exitstatus).to.equal('startup for container 101 failed');
      expect(isTaskSuccess(st.exitstatus)).to.equal(false);
      expect(lines.at(-1)).to.equal('TASK ERROR: startup for container 101 failed');
    });

    it('refuses a node that is not the one in the UPID', async () => {
      const upid = await c.containers.start('pve1', 101);
      const err = await c.tasks.follow('pve2', upid, fast).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(TypeError);
      expect((err as Error).message).to.equal(`task ${upid} runs on node pve1, not pve2`);
      await c.tasks.wait(upid, fast);
    });
  });

  describe('reboot and resize', () => {
    it('reboots a running container in a vzreboot task and refuses a stopped one', async () => {
      const upid = await c.containers.reboot('pve1', 100, { timeout: 30 });
      expect(parseUpid(upid)).to.include({ node: 'pve1', type: 'vzreboot', id: '100' });
      expect((await c.tasks.wait(upid, fast)).exitstatus).to.equal('OK');
      expect((await c.containers.status('pve1', 100)).status).to.equal('running');
      const err = (await c.containers.reboot('pve1', 101).catch((e: unknown) => e)) as ProxmoxError;
      expect([err.status, err.message, err.code]).to.deep.equal([500, 'VM 101 not running', 'not-running']);
    });

    it('grows a root disk by a relative size and to an absolute one', async () => {
      const { rootfs, digest } = await c.containers.config('pve1', 100);
      expect(volumeSize(String(rootfs))).to.equal(8 * GiB);
      const upid = await c.containers.resize('pve1', 100, { disk: 'rootfs', size: '+2G' }, { digest });
      expect(parseUpid(upid)).to.include({ type: 'resize', id: '100' });
      await c.tasks.wait(upid, fast);
      const grown = await c.containers.config('pve1', 100);
      expect(grown.rootfs).to.equal('local-lvm:vm-100-disk-0,size=10G');
      await c.tasks.wait(await c.containers.resize('pve1', 100, { disk: 'rootfs', size: '12G' }), fast);
      expect(volumeSize(String((await c.containers.config('pve1', 100)).rootfs))).to.equal(12 * GiB);
    });

    it('reports a shrink and a stale digest as Proxmox words them, and sends no unit-less size', async () => {
      const shrink = (await c.containers.resize('pve1', 100, { disk: 'rootfs', size: '4G' }).catch((e: unknown) => e)) as ProxmoxError;
      expect([shrink.status, shrink.proxmoxMessage]).to.deep.equal([500, 'unable to shrink disk size']);
      const { digest } = await c.containers.config('pve1', 100);
      await c.containers.updateConfig('pve1', 100, { description: 'changed meanwhile' });
      const stale = (await c.containers.resize('pve1', 100, { disk: 'rootfs', size: '+1G' }, { digest }).catch((e: unknown) => e)) as ProxmoxError;
      expect(stale.code).to.equal('config-changed');
      const bare = await c.containers.resize('pve1', 100, { disk: 'rootfs', size: '10' }).catch((e: unknown) => e);
      expect(bare).to.be.instanceOf(TypeError);
      expect((bare as Error).message).to.match(/needs a unit/);
      expect(s.sim.count('PUT', '/nodes/pve1/lxc/100/resize')).to.equal(2);
    });
  });

  describe('snapshots and VM power', () => {
    it('takes a snapshot in a vzsnapshot task and lists it before `current`', async () => {
      const upid = await c.containers.createSnapshot('pve1', 100, 'before-upgrade', { description: 'berth test' });
      expect(parseUpid(upid)).to.include({ type: 'vzsnapshot', id: '100' });
      await c.tasks.wait(upid, fast);
      const snaps = await c.containers.snapshots('pve1', 100);
      expect(snaps.map((x) => x.name)).to.deep.equal(['before-upgrade', 'current']);
      expect(snaps[0]).to.include({ description: 'berth test' });
      expect(snaps[0].snaptime).to.be.a('number');
      expect(snaps[1]).to.include({ parent: 'before-upgrade', running: 1 });
      const dup = (await c.tasks.wait(await c.containers.createSnapshot('pve1', 100, 'before-upgrade'), fast).catch((e: unknown) => e)) as ProxmoxError;
      expect(dup.code).to.equal('already-exists');
    });

    it('stops and starts a VM through qmstop/qmstart tasks', async () => {
      const stop = await c.vms.stop('pve1', 200);
      expect(parseUpid(stop)?.type).to.equal('qmstop');
      await c.tasks.wait(stop, fast);
      expect((await c.vms.status('pve1', 200)).status).to.equal('stopped');
      const start = await c.vms.start('pve1', 200);
      expect(parseUpid(start)?.type).to.equal('qmstart');
      await c.tasks.wait(start, fast);
      expect((await c.vms.status('pve1', 200)).status).to.equal('running');
      const shutdown = await c.vms.shutdown('pve1', 200, { timeout: 30, forceStop: true });
      expect(parseUpid(shutdown)?.type).to.equal('qmshutdown');
      await c.tasks.wait(shutdown, fast);
    });
  });

  describe('an offline node', () => {
    it('is a ProxmoxNodeOfflineError naming the node, for reads and writes', async () => {
      s.sim.setNodeOnline('pve2', false);
      const read = await c.containers.list('pve2').catch((e: unknown) => e);
      expect(read).to.be.instanceOf(ProxmoxNodeOfflineError);
      const e = read as ProxmoxNodeOfflineError;
      expect([e.node, e.status, e.code, e.kind]).to.deep.equal(['pve2', 595, 'node-offline', 'node-offline']);
      expect(e.message).to.equal('node pve2 is unreachable from the cluster: No route to host');
      expect(e.proxmoxMessage).to.equal('No route to host');
      const write = await c.containers.create('pve2', { vmid: 160, ostemplate: DEBIAN, rootfs: 'local-lvm:8' }).catch((x: unknown) => x);
      expect(write).to.be.instanceOf(ProxmoxNodeOfflineError);
      expect(s.sim.count('POST', '/nodes/pve2/lxc')).to.equal(1); // a write is never sent twice
      // The rest of the cluster still answers.
      expect((await c.containers.list('pve1')).length).to.be.greaterThan(0);
    });

    it('stops following a task on a node that went offline with the typed error', async () => {
      s.sim.hangTasks();
      const upid = await c.containers.stop('pve2', 102); // 102 runs on pve2 in the seed
      s.sim.setNodeOnline('pve2', false);
      const err = await c.tasks.follow(upid, fast).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(ProxmoxNodeOfflineError);
      expect((err as ProxmoxNodeOfflineError).node).to.equal('pve2');
    });
  });
});
