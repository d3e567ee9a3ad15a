// The default services of a new container: the container.create task registers its httpPort as an
// http service under the default domain and ssh as a tcp service, audited by the job's actor and
// printed in the job's output; without a default domain only ssh, with a line saying why. Also the
// command alone: a taken name or existing services are skipped, never failing the create.
import { expect } from 'chai';
import type { Config } from '../../../config/index.js';
import { registerDefaultServices } from '../../../src/edge/default-services.js';
import { setDefaultDomain } from '../../../src/edge/domains.js';
import { requestContainer } from '../../../src/provisioning/request.js';
import type { ContainerRequestInput } from '../../../src/provisioning/params.js';
import { createDomain, createService } from '../../factories/edge.js';
import { createContainer } from '../../factories/inventory.js';
import { createUser } from '../../factories/users.js';
import { testCommand } from '../../support/command.js';
import { testContext } from '../../support/context.js';
import { jobOutput, waitForJob } from '../../support/runner.js';
import { startProvisioningWorld, type ProvisioningWorld } from '../provisioning/world.js';

const models = () => testContext().db.models;

/** Asks for a container with an http port as `username` (admin rights: no expiry needed, roomy quota). */
async function ask(world: ProvisioningWorld, username: string, hostname: string) {
  const input: ContainerRequestInput = {
    hostname, osRelease: 'Debian 12', nodeId: world.n1.id, cores: 1, memoryMb: 256, diskGb: 2, httpPort: 8080, sshPublicKey: null,
    aiContainer: 'N', expiresAt: null, purpose: null, submitForApproval: false,
  };
  const cmd = testCommand({
    actor: { username },
    user: { id: 0, username, isAdmin: true },
    config: { ...testContext().config, QUOTA_CONTAINERS: 100, QUOTA_CORES: 100, QUOTA_MEMORY_MB: 100_000, QUOTA_DISK_GB: 1000 },
  });
  return requestContainer(cmd, input, { isAdmin: true, chooseNode: async (nodes) => nodes[0] });
}

/**
 * Runs `work` with no default domain, then gives the default back to whichever domain had it (the
 * database is shared by the run's files; this test changes nothing it does not restore).
 */
async function withoutDefaultDomain<T>(work: () => Promise<T>): Promise<T> {
  const { PublicDomain } = models();
  const had = await PublicDomain.findAll({ where: { isDefault: true }, attributes: ['id'] });
  await PublicDomain.update({ isDefault: false }, { where: { id: had.map((d) => d.id) } });
  try {
    return await work();
  } finally {
    if (had.length) await PublicDomain.update({ isDefault: true }, { where: { id: had.map((d) => d.id) } });
  }
}

describe('edge: default services of a new container', function () {
  this.timeout(60_000);

  describe('through the container.create task', () => {
    let world: ProvisioningWorld;
    // Four ports of this file's own (15000-15963; the command tests below use 15998 and 15999).
    const tcp: [number, number] = [15_000 + (process.pid % 240) * 4, 15_000 + (process.pid % 240) * 4 + 3];
    beforeEach(async () => {
      world = await startProvisioningWorld({ config: { EDGE_TCP_PORTS: tcp, EDGE_NGINX_BINARY: 'none' } });
    });
    afterEach(() => world?.cleanup());

    it('registers http under the default domain and ssh on an allocated tcp port, audited and printed', async () => {
      const domain = await createDomain();
      await setDefaultDomain(testCommand(), domain);
      const owner = (await createUser()).user.username;
      const answer = await ask(world, owner, world.name('web'));
      const job = await waitForJob(answer.jobId!, 30_000);
      const out = await jobOutput(job.id);
      expect(job.status, `${job.error}\n${out}`).to.equal('success');

      const name = `${world.name('web')}.${domain.name}`;
      const services = await models().Service.findAll({ where: { containerId: answer.containerId }, order: [['id', 'ASC']] });
      expect(services.map((s) => [s.type, s.internalPort, s.externalHostname, s.domainId])).to.deep.equal([
        ['http', 8080, name, domain.id],
        ['tcp', world.config.EDGE_SSH_INTERNAL_PORT, null, null],
      ]);
      expect(services[1]!.externalPort).to.be.within(tcp[0], tcp[1]);
      expect(out).to.contain(`Default http service: https://${name} -> port 8080`);
      expect(out).to.contain(`Default ssh service: tcp port ${services[1]!.externalPort} on the edge -> port ${world.config.EDGE_SSH_INTERNAL_PORT}`);
      const audited = await models().AuditEvent.findAll({ where: { objectType: 'container', objectId: String(answer.containerId), action: 'service.create' }, order: [['id', 'ASC']] });
      expect(audited.map((e) => e.actor)).to.deep.equal([owner, owner]);
      expect(audited.map((e) => JSON.parse(e.changes!).serviceId.after)).to.deep.equal(services.map((s) => s.id));
    });

    it('without a default domain registers only ssh, saying why http was skipped', async () => {
      const owner = (await createUser()).user.username;
      const { job, out, services } = await withoutDefaultDomain(async () => {
        const answer = await ask(world, owner, world.name('nodomain'));
        const done = await waitForJob(answer.jobId!, 30_000);
        return { job: done, out: await jobOutput(done.id), services: await models().Service.findAll({ where: { containerId: answer.containerId } }) };
      });
      expect(job.status, `${job.error}\n${out}`).to.equal('success');
      expect(services.map((s) => s.type)).to.deep.equal(['tcp']);
      expect(out).to.contain('Default http service skipped: no default domain is set');
      expect(out).to.contain('Default ssh service: tcp port');
    });
  });

  describe('the command alone', () => {
    const cmdWith = (edge: Partial<Config>) => testCommand({ actor: { username: 'default-services-test' }, config: { ...testContext().config, EDGE_NGINX_BINARY: 'none', ...edge } as Config });

    it('skips a taken name and a full port range with lines saying why, registering nothing for them', async () => {
      const domain = await createDomain();
      await setDefaultDomain(testCommand(), domain);
      const ct = await createContainer({ hostname: `taken-${domain.id}.example.org`, httpPort: 3000 });
      await createService({ externalHostname: `taken-${domain.id}.${domain.name}` });
      const held = await createService({ type: 'tcp', externalPort: 15_999 });
      const cmd = cmdWith({ EDGE_TCP_PORTS: [15_999, 15_999] });
      const lines = await testContext().db.sequelize.transaction((t) => registerDefaultServices(cmd, ct, t));
      expect(lines).to.deep.equal([
        'Default http service skipped: That name is already taken by another service; choose another.',
        'Default ssh service skipped: No free tcp port is left in 15999-15999.',
      ]);
      expect(await models().Service.count({ where: { containerId: ct.id } })).to.equal(0);
      expect((await held.reload()).containerId).not.to.equal(ct.id);
    });

    it('skips a container that already has services, and does nothing when both defaults are off', async () => {
      const ct = await createContainer({ httpPort: 3000 });
      await createService({ containerId: ct.id, type: 'tcp', externalPort: 15_998 });
      const lines = await testContext().db.sequelize.transaction((t) => registerDefaultServices(testCommand(), ct, t));
      expect(lines).to.deep.equal([`Default services: skipped, ${ct.hostname} already has services.`]);
      const bare = await createContainer({ httpPort: 3000 });
      const off = cmdWith({ EDGE_DEFAULT_HTTP_SERVICE: false, EDGE_DEFAULT_SSH_SERVICE: false });
      expect(await testContext().db.sequelize.transaction((t) => registerDefaultServices(off, bare, t))).to.deep.equal([]);
      expect(await models().Service.count({ where: { containerId: [ct.id, bare.id] } })).to.equal(1);
    });
  });
});
