// The error mapping and size reading the provisioning jobs rely on: an unreachable cluster node is
// its own error, lock timeouts and stale digests have codes of their own, and what a job prints is
// Proxmox's text without Perl's file-and-line tail.
import { expect } from 'chai';
import {
  cleanProxmoxText, errorFromResponse, ProxmoxError, ProxmoxNodeOfflineError, ProxmoxTaskError, ProxmoxTimeoutError,
} from '../../../src/lib/proxmox/errors.js';
import { formatSize, parseSize, volumeSize } from '../../../src/lib/proxmox/sizes.js';
import { ClusterApi } from '../../../src/lib/proxmox/cluster.js';
import type { Proxmox } from 'proxmox-api';

const GiB = 1024 ** 3;

describe('proxmox errors for provisioning', () => {
  const on = (path: string, method = 'GET') => ({ method, path });

  it('turns a 595 with an empty body into ProxmoxNodeOfflineError naming the node', () => {
    const e = errorFromResponse(595, 'No route to host', undefined, on('/nodes/pve2/lxc'));
    expect(e).to.be.instanceOf(ProxmoxNodeOfflineError).and.instanceOf(ProxmoxError);
    expect([e.kind, e.status, e.code, e.message, e.proxmoxMessage]).to.deep.equal([
      'node-offline', 595, 'node-offline', 'node pve2 is unreachable from the cluster: No route to host', 'No route to host',
    ]);
    expect((e as ProxmoxNodeOfflineError).node).to.equal('pve2');
  });

  it('treats 596 the same, and still names the node when the answer says nothing', () => {
    const e = errorFromResponse(596, '', undefined, on('/nodes/pve%2Dx/tasks/UPID/status')) as ProxmoxNodeOfflineError;
    expect(e).to.be.instanceOf(ProxmoxNodeOfflineError);
    expect([e.node, e.message]).to.deep.equal(['pve-x', 'node pve-x is unreachable from the cluster']);
    const noNode = errorFromResponse(595, 'Connection timed out', { data: null } as never, on('/cluster/resources'));
    expect(noNode.message).to.equal('a cluster node is unreachable from the cluster: Connection timed out');
  });

  it("codes a config lock timeout apart from a guest's lock", () => {
    const timeout = errorFromResponse(500, "can't lock file '/run/lock/lxc/pve-config-101.lock' - got timeout", {
      message: "can't lock file '/run/lock/lxc/pve-config-101.lock' - got timeout\n",
    }, on('/nodes/pve/lxc/101/resize', 'PUT'));
    expect(timeout.code).to.equal('lock-timeout');
    expect(errorFromResponse(500, 'CT is locked (snapshot)', undefined, on('/nodes/pve/lxc/101/resize', 'PUT')).code).to.equal('locked');
    expect(errorFromResponse(500, 'VM is locked (backup)', undefined, on('/nodes/pve/qemu/100/status/start', 'POST')).code).to.equal('locked');
  });

  it('codes clashes, stale digests and state errors of the provisioning calls', () => {
    const code = (msg: string) => errorFromResponse(500, msg, { message: `${msg}\n` }, on('/x', 'POST')).code;
    expect(code("CT 101 already exists on node 'pve'")).to.equal('already-exists');
    expect(code("create user failed: user 'alice@pve' already exists")).to.equal('already-exists');
    expect(code('detected modified configuration - file changed by other user? Try again.')).to.equal('config-changed');
    expect(code('VM 101 not running')).to.equal('not-running');
    expect(code('unable to shrink disk size')).to.equal(undefined);
    const nextid = errorFromResponse(400, 'Parameter verification failed.', { errors: { vmid: 'VM 101 already exists' } }, on('/cluster/nextid'));
    expect(nextid.code).to.equal('already-exists');
  });

  it("drops Perl's file-and-line tail from the message and from proxmoxMessage", () => {
    const raw = "can't resize mount point owned by another container (102) at /usr/share/perl5/PVE/API2/LXC.pm line 2080.\n";
    const e = errorFromResponse(500, raw.split('\n')[0], { message: raw }, on('/nodes/pve/lxc/101/resize', 'PUT'));
    expect(e.message).to.equal("can't resize mount point owned by another container (102)");
    expect(e.proxmoxMessage).to.equal(e.message);
    expect(cleanProxmoxText('  command failed at /usr/share/perl5/PVE/Tools.pm line 12, <GEN3> line 4.\nsecond line\n'))
      .to.equal('command failed\nsecond line');
    expect(cleanProxmoxText("CT 101 already exists on node 'pve'\n")).to.equal("CT 101 already exists on node 'pve'");
  });

  it("keeps Proxmox's words apart from Berth's wording in tasks and parameter errors", () => {
    const task = new ProxmoxTaskError('UPID:pve:00000001:00000001:00000001:vzsnapshot:101:root@pam:', "snapshot name 'before' already used at /usr/share/perl5/PVE/AbstractConfig.pm line 823.");
    expect([task.message, task.proxmoxMessage, task.code]).to.deep.equal([
      "Proxmox task failed: snapshot name 'before' already used", "snapshot name 'before' already used", 'already-exists',
    ]);
    expect(task.exitstatus).to.match(/line 823\.$/); // the raw text stays available
    const param = errorFromResponse(400, 'Parameter verification failed.', {
      message: 'Parameter verification failed.\n', errors: { size: 'value does not match the regex pattern' },
    }, on('/nodes/pve/lxc/101/resize', 'PUT'));
    expect(param.proxmoxMessage).to.equal('Parameter verification failed: size: value does not match the regex pattern');
    const timeout = new ProxmoxTimeoutError('Proxmox at https://pve:8006 did not answer within 100 ms');
    expect(timeout.proxmoxMessage).to.equal(timeout.message);
  });
});

describe('proxmox disk sizes', () => {
  it('reads absolute and relative sizes in binary units, a bare number as bytes', () => {
    expect(parseSize('10G')).to.deep.equal({ bytes: 10 * GiB, relative: false });
    expect(parseSize('+2G')).to.deep.equal({ bytes: 2 * GiB, relative: true });
    expect(parseSize('+0.5G')).to.deep.equal({ bytes: GiB / 2, relative: true });
    expect(parseSize('8704M')).to.deep.equal({ bytes: 8704 * 1024 ** 2, relative: false });
    expect(parseSize('1T')?.bytes).to.equal(1024 ** 4);
    expect(parseSize('10')).to.deep.equal({ bytes: 10, relative: false });
  });

  it('refuses what Proxmox refuses', () => {
    for (const bad of ['', '-2G', '2g', '2GB', '2 G', '+', '.5G', '2G ']) expect(parseSize(bad), bad).to.equal(null);
  });

  it('writes sizes in the largest exact unit, as a config says them', () => {
    expect([formatSize(10 * GiB), formatSize(8 * GiB + GiB / 2), formatSize(1536), formatSize(1000), formatSize(2 * 1024 ** 4)])
      .to.deep.equal(['10G', '8704M', '1536', '1000', '2T']);
    expect(formatSize(1024)).to.equal('1K');
  });

  it('reads the size of a rootfs or mount point value', () => {
    expect(volumeSize('local-lvm:vm-101-disk-0,size=8G')).to.equal(8 * GiB);
    expect(volumeSize('volume=local:101/vm-101-disk-0.raw,mp=/srv,size=8704M')).to.equal(8704 * 1024 ** 2);
    expect(volumeSize('local-lvm:8')).to.equal(null);
    expect(volumeSize(undefined)).to.equal(null);
    expect(volumeSize('local-lvm:x,size=8G,size=9G')).to.equal(null);
  });
});

describe('proxmox node resources', () => {
  /** A ClusterApi over a fixed `/cluster/resources?type=node` answer. */
  const clusterAnswering = (rows: unknown[]) => new ClusterApi({ cluster: { resources: { $get: async () => rows } } } as unknown as Proxmox.Api);

  it('accepts numbers sent as strings and computes free memory', async () => {
    const rows = [
      { id: 'node/pve', type: 'node', node: 'pve', status: 'online', maxmem: '68719476736', mem: '17179869184', maxcpu: '16', cpu: '0.25', maxdisk: 100, disk: '40' },
    ];
    expect(await clusterAnswering(rows).nodeResources()).to.deep.equal([
      { node: 'pve', status: 'online', maxmem: 64 * GiB, mem: 16 * GiB, free: 48 * GiB, maxcpu: 16, cpu: 0.25, maxdisk: 100, disk: 40 },
    ]);
  });

  it('gives a node without numbers no room, never negative room, and skips rows that are not nodes', async () => {
    const rows = [
      { id: 'node/pve2', type: 'node', node: 'pve2', status: 'offline' },
      { id: 'node/pve3', type: 'node', node: 'pve3', status: 'online', maxmem: 100, mem: 120 },
      { id: 'storage/pve/local', type: 'storage', node: 'pve', storage: 'local' },
    ];
    const res = await clusterAnswering(rows).nodeResources();
    expect(res.map((n) => [n.node, n.status, n.maxmem, n.free])).to.deep.equal([['pve2', 'offline', 0, 0], ['pve3', 'online', 100, 0]]);
  });
});
