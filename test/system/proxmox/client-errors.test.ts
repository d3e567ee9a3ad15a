// Failure handling of the client against the simulator: Proxmox errors become typed errors with
// status and message, a hanging node times out, writes are never retried (a retried create could
// make two containers), and an unreachable node is reported as such.
import { expect } from 'chai';
import proxmoxApi, { ProxmoxEngine } from 'proxmox-api';
import {
  createProxmoxClient, ProxmoxError, ProxmoxTimeoutError, ProxmoxUnreachableError, type ProxmoxClient,
} from '../../../src/lib/proxmox/index.js';
import { ADMIN_TOKEN, startSim, type StartedSim } from '../../support/pve-sim.js';

const DEBIAN = 'local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst';

describe('proxmox client error handling', () => {
  let s: StartedSim;
  let c: ProxmoxClient;

  beforeEach(async () => {
    s = await startSim();
    c = createProxmoxClient({ ...s.clientOptions(), timeoutMs: 300 });
  });
  afterEach(async () => {
    await c.close();
    await s.close();
  });

  it("carries Proxmox's status and message for a name clash", async () => {
    const err = await c.containers.create('pve1', { vmid: 100, ostemplate: DEBIAN, rootfs: 'local-lvm:8' }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(ProxmoxError);
    const e = err as ProxmoxError;
    expect([e.kind, e.status, e.reason, e.message, e.code]).to.deep.equal([
      'http', 500, "CT 100 already exists on node 'pve1'", "CT 100 already exists on node 'pve1'", 'already-exists',
    ]);
    expect([e.method, e.path]).to.deep.equal(['POST', '/nodes/pve1/lxc']);
  });

  it('maps parameter errors, unknown machines and unknown nodes', async () => {
    const bad = (await c.containers.create('pve1', { vmid: 101, ostemplate: DEBIAN, extra: { arch: 'sparc' } }).catch((e: unknown) => e)) as ProxmoxError;
    expect(bad.status).to.equal(400);
    expect(bad.errors).to.have.property('arch').that.match(/enumeration/);
    const missing = (await c.containers.config('pve1', 999).catch((e: unknown) => e)) as ProxmoxError;
    expect(missing.message).to.equal("Configuration file 'nodes/pve1/lxc/999.conf' does not exist");
    expect(missing.code).to.equal('not-found');
    const node = (await c.containers.list('nosuch').catch((e: unknown) => e)) as ProxmoxError;
    expect(node.message).to.match(/^hostname lookup 'nosuch' failed/);
  });

  it('an injected create failure is a synchronous error and starts no task', async () => {
    s.sim.failNextCreate({ message: 'unable to create CT {vmid} - no space left on {node}' });
    const err = (await c.containers.create('pve1', { vmid: 150, ostemplate: DEBIAN, rootfs: 'local-lvm:8' }).catch((e: unknown) => e)) as ProxmoxError;
    expect(err.message).to.equal('unable to create CT 150 - no space left on pve1');
    expect(s.sim.core.tasks.tasks.size).to.equal(0);
    expect(await c.containers.create('pve1', { vmid: 150, ostemplate: DEBIAN, rootfs: 'local-lvm:8' })).to.match(/:vzcreate:150:/);
  });

  it('times out on a node that never answers', async () => {
    s.sim.setUnreachable('hang');
    const t0 = Date.now();
    const err = await c.cluster.version().catch((e: unknown) => e);
    expect(err).to.be.instanceOf(ProxmoxTimeoutError);
    expect((err as Error).message).to.match(/did not answer within 300 ms \(GET http:\/\/127\.0\.0\.1:\d+\/api2\/json\/version\)/);
    expect(Date.now() - t0).to.be.within(280, 2000);
  });

  it('never retries a POST after a timeout: the simulator sees exactly one create', async () => {
    s.sim.setUnreachable('hang');
    const err = await c.containers.create('pve1', { vmid: 150, ostemplate: DEBIAN, rootfs: 'local-lvm:8' }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(ProxmoxTimeoutError);
    await new Promise((r) => setTimeout(r, 200)); // time for a (wrong) retry to arrive
    expect(s.sim.count('POST', '/nodes/pve1/lxc')).to.equal(1);
  });

  it('a slow create that timed out still ran once on the node', async () => {
    s.sim.setTiming({ responseDelayMs: 400 });
    const err = await c.containers.create('pve1', { vmid: 152, ostemplate: DEBIAN, rootfs: 'local-lvm:8' }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(ProxmoxTimeoutError);
    for (let i = 0; i < 50 && !s.sim.state.guests.has(152); i++) await new Promise((r) => setTimeout(r, 20));
    expect(s.sim.count('POST', '/nodes/pve1/lxc')).to.equal(1);
    expect(s.sim.state.guests.has(152)).to.equal(true);
  });

  it('never retries a POST on a reset connection, but retries a GET once', async () => {
    s.sim.setUnreachable('reset');
    const post = await c.containers.start('pve1', 101).catch((e: unknown) => e);
    expect(post).to.be.instanceOf(ProxmoxUnreachableError);
    expect(s.sim.count('POST', '/nodes/pve1/lxc/101/status/start')).to.equal(1);
    const get = await c.cluster.nodes().catch((e: unknown) => e);
    expect(get).to.be.instanceOf(ProxmoxUnreachableError);
    expect((get as Error).message).to.match(/^Proxmox at http:\/\/127\.0\.0\.1:\d+ is unreachable/);
    expect(s.sim.count('GET', '/nodes')).to.equal(2);
  });

  it('reports a closed port as unreachable', async () => {
    const url = s.url;
    await s.close();
    const dead = createProxmoxClient({ baseUrl: url, auth: ADMIN_TOKEN, timeoutMs: 1000 });
    try {
      const err = await dead.cluster.version().catch((e: unknown) => e);
      expect(err).to.be.instanceOf(ProxmoxUnreachableError);
      expect((err as Error).message).to.include('ECONNREFUSED');
    } finally {
      await dead.close();
    }
  });

  it("answers an offline cluster node's calls with 595", async () => {
    s.sim.setNodeOnline('pve2', false);
    s.sim.setTiming({ offlineDelayMs: 50 }); // pveproxy's connect wait, kept under this client's 300 ms timeout
    const err = (await c.containers.list('pve2').catch((e: unknown) => e)) as ProxmoxError;
    expect(err.status).to.equal(595);
    expect((await c.cluster.nodes()).find((n) => n.node === 'pve2')?.status).to.equal('offline');
  });

  it("stays compatible with proxmox-api's own engine (exact content type, string nextid)", async () => {
    const engine = new ProxmoxEngine({ host: '127.0.0.1', port: Number(new URL(s.url).port), schema: 'http', username: 'root@pam', password: 'rootpass123' });
    const api = proxmoxApi(engine);
    const nodes = await api.nodes.$get();
    expect(nodes.map((n) => n.node)).to.deep.equal(['pve1', 'pve2']);
    expect(await api.cluster.nextid.$get()).to.equal('103');
    expect(await c.cluster.nextId()).to.equal(103);
  });
});
