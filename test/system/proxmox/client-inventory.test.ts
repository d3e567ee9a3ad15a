// Inventory reads through the client against the sample seed: nodes, resources, storages and
// templates, realms and users, QEMU VMs and their guest agent, with numbers coerced.
import { expect } from 'chai';
import { createProxmoxClient, ProxmoxError, type ProxmoxClient } from '../../../src/lib/proxmox/index.js';
import { startSim, type StartedSim } from '../../support/pve-sim.js';

describe('proxmox client: inventory', () => {
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

  it('lists nodes with their status and load, and one node status', async () => {
    const nodes = await c.cluster.nodes();
    expect(nodes.map((n) => [n.node, n.status, n.maxcpu])).to.deep.equal([['pve1', 'online', 16], ['pve2', 'online', 8]]);
    const st = await c.cluster.nodeStatus('pve1');
    expect(st.pveversion).to.equal('pve-manager/9.1.3/2d9ae8ef');
    expect(await c.cluster.version()).to.deep.equal({ version: '9.1.3', release: '9.1', repoid: '2d9ae8ef' });
  });

  it('reads /cluster/resources with machines, nodes and storages', async () => {
    const all = await c.cluster.resources();
    const ids = all.map((r) => r.id);
    expect(ids).to.include.members(['node/pve1', 'node/pve2', 'lxc/100', 'lxc/102', 'qemu/200', 'storage/pve1/local', 'storage/pve2/local-lvm']);
    const vms = await c.cluster.resources('vm');
    expect(vms.every((r) => r.type === 'lxc' || r.type === 'qemu')).to.equal(true);
    const web = vms.find((r) => r.vmid === 100)!;
    expect(web).to.include({ node: 'pve1', status: 'running', name: 'web01', tags: 'prod;web', template: 0, maxmem: 1024 * 1024 * 1024 });
    expect(vms.find((r) => r.vmid === 9000)?.template).to.equal(1);
  });

  it('lists storages by content and the templates to create from', async () => {
    const tmplStores = await c.storage.list('pve1', { content: 'vztmpl' });
    expect(tmplStores.map((x) => x.storage)).to.deep.equal(['local']);
    expect(tmplStores[0].content).to.deep.equal(['vztmpl', 'iso', 'backup']);
    const rootdir = await c.storage.list('pve1', { content: 'rootdir' });
    expect(rootdir.map((x) => [x.storage, x.type])).to.deep.equal([['local-lvm', 'lvmthin']]);
    const templates = await c.storage.templates('pve1');
    expect(templates.map((t) => t.volid)).to.deep.equal([
      'local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst',
      'local:vztmpl/ubuntu-24.04-standard_24.04-2_amd64.tar.zst',
    ]);
    expect(templates[0]).to.include({ storage: 'local', format: 'tzst', size: 126354223 });
  });

  it('lists realms and users with their groups', async () => {
    expect((await c.access.realms()).map((r) => r.realm)).to.deep.equal(['pam', 'pve']);
    const users = await c.access.users();
    expect(users.map((u) => [u.userid, u.groups])).to.deep.equal([
      ['root@pam', ['administrators']], ['alice@pve', ['developers']], ['bob@pve', ['developers']],
    ]);
    expect(await c.access.userGroups('bob@pve')).to.deep.equal(['developers']);
    expect(await c.access.userGroups('nobody@pve')).to.equal(null);
  });

  it('shows a non-admin user only themselves and the machines they may audit', async () => {
    const alice = createProxmoxClient(s.clientOptions(s.ticketAuth('alice@pve')));
    try {
      expect((await alice.access.users()).map((u) => u.userid)).to.deep.equal(['alice@pve']);
      expect(await alice.access.userGroups('alice@pve')).to.deep.equal(['developers']);
      const rows = await alice.cluster.resources();
      expect(rows.length).to.be.greaterThan(0);
      expect(rows.every((r) => r.type === 'lxc' || r.type === 'qemu')).to.equal(true);
    } finally {
      await alice.close();
    }
  });

  it('reads VMs: config numbers sent as strings, MAC from the NIC model key, IPv4 from the agent', async () => {
    expect((await c.vms.list('pve1')).map((v) => v.vmid)).to.deep.equal([200]);
    const cfg = await c.vms.config('pve1', 200);
    expect(cfg.memory).to.equal(8192);
    expect(await c.vms.mac('pve1', 200)).to.equal('BC:24:11:A0:B1:C2');
    expect(await c.vms.ipv4('pve1', 200)).to.equal('10.20.0.50');
    expect((await c.vms.status('pve2', 201)).status).to.equal('stopped');
    const noAgent = (await c.vms.interfaces('pve2', 201).catch((e: unknown) => e)) as ProxmoxError;
    expect(noAgent.message).to.equal('No QEMU guest agent configured');
  });

  it('reflects a new container in the node list and its volume in storage content', async () => {
    const upid = await c.containers.create('pve2', { vmid: 300, ostemplate: 'local:vztmpl/ubuntu-24.04-standard_24.04-2_amd64.tar.zst', rootfs: 'local-lvm:10' });
    await c.tasks.wait(upid, { pollMs: 10 });
    const list = await c.containers.list('pve2');
    expect(list.find((g) => g.vmid === 300)).to.include({ status: 'stopped', name: 'CT300', type: 'lxc' });
    expect((await c.containers.config('pve2', 300)).ostype).to.equal('ubuntu');
    const content = (await c.api.nodes.$('pve2').storage.$('local-lvm').content.$get({ content: 'rootdir' })) as Array<{ volid: string }>;
    expect(content.map((v) => v.volid)).to.include('local-lvm:vm-300-disk-0');
  });
});
