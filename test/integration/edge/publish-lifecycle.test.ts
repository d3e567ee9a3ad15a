// A lifecycle job that changes a container's status publishes the edge config once its record is
// written: a stop takes the container's services out (left out, with why), a start puts them back.
import crypto from 'node:crypto';
import { expect } from 'chai';
import { publishEdgeConfig } from '../../../src/edge/publish.js';
import { BERTH_TAG, berthDescription } from '../../../src/provisioning/marker.js';
import { useApp } from '../../support/app.js';
import { testCommand } from '../../support/command.js';
import { testContext } from '../../support/context.js';
import { signedInAgent } from '../../support/login.js';
import { waitForJob } from '../../support/runner.js';
import { DEBIAN, startProvisioningWorld, type ProvisioningWorld } from '../provisioning/world.js';

const models = () => testContext().db.models;

describe('publishing after a lifecycle job', function () {
  this.timeout(60_000);
  const fixture = useApp({ EDGE_NGINX_BINARY: 'none' });
  let world: ProvisioningWorld;

  beforeEach(async () => {
    world = await startProvisioningWorld({ config: { EDGE_NGINX_BINARY: 'none' } });
  });
  afterEach(() => world.cleanup());

  it('takes a stopped container out of the config and puts it back when started', async () => {
    const owner = await signedInAgent(fixture.app);
    const vmid = 150 + crypto.randomInt(0, 50);
    const hostname = `edge-lc-${crypto.randomBytes(3).toString('hex')}`;
    const record = await models().Container.create({
      hostname: `${hostname}.example.org`, username: owner.user.username, osRelease: 'Debian 12', nodeId: world.n1.id, vmid, macAddress: null,
      ipv4Address: `10.251.${crypto.randomInt(0, 255)}.${crypto.randomInt(1, 254)}`, expiresAt: null, purpose: null, notes: null, tags: null,
      status: 'running', managed: true, cores: 1, memoryMb: 512, diskGb: 4,
    });
    const wait = async (upid: string) => expect((await world.pve.tasks.wait(upid, { pollMs: 10 })).exitstatus).to.equal('OK');
    const marker = { tags: BERTH_TAG, description: berthDescription(record.id, 0, owner.user.username) };
    await wait(await world.pve.containers.create(world.n1.name, { vmid, ostemplate: DEBIAN, hostname, rootfs: 'local-lvm:4', cores: 1, memory: 512, net0: 'name=eth0,bridge=vmbr0,ip=dhcp', ...marker }));
    await wait(await world.pve.containers.start(world.n1.name, vmid));
    const service = await models().Service.create({ containerId: record.id, type: 'tcp', internalPort: 22, externalPort: 20_000 + crypto.randomInt(0, 10_000), externalHostname: null });
    await publishEdgeConfig(testCommand(), { reason: 'lifecycle: baseline' });

    for (const [action, status, entry] of [
      ['stop', 'stopped', `+ # service ${service.id} left out: container ${record.hostname} is stopped`],
      ['start', 'running', `+ # service ${service.id}: tcp`],
    ] as const) {
      const res = await owner.agent.post(`/containers/${record.id}/${action}`).set('Accept', 'application/json').set('X-CSRF-Token', owner.csrf).send({}).expect(202);
      const job = await waitForJob(res.body.jobId);
      expect(job.status, job.error ?? '').to.equal('success');
      const newest = await models().EdgeConfigVersion.findOne({ order: [['id', 'DESC']] });
      expect(newest!.reason).to.equal(`container ${record.hostname} is now ${status} (container.${action})`);
      expect(newest!.createdBy).to.equal(owner.user.username);
      expect(newest!.changes).to.include(entry);
    }
  });
});
