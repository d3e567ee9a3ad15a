import { expect } from 'chai';
import { UniqueConstraintError } from 'sequelize';
import { createSequelize } from '../../src/lib/db/connect.js';
import { openDatabase } from '../../src/database.js';
import { createMigrator } from '../../src/lib/db/migrator.js';
import { initModels } from '../../models/index.js';
import { testConfig, testContext } from '../support/context.js';
import { createScratchDatabase, type ScratchDatabase } from '../support/databases.js';

const CORE_TABLES = ['Containers', 'JobStatuses', 'Jobs', 'Nodes', 'RateLimits', 'Services', 'Sessions', 'Users'];

describe('migrations', () => {
  let scratch: ScratchDatabase;
  beforeEach(async () => {
    scratch = await createScratchDatabase();
  });
  afterEach(async () => {
    await scratch.drop();
    // Sequelize models are global: point them back at the run's database.
    initModels(testContext().db.sequelize);
  });

  const tables = async (sequelize: ReturnType<typeof createSequelize>) =>
    ((await sequelize.getQueryInterface().showAllTables()) as unknown[]).map((t) => (typeof t === 'string' ? t : (t as { tableName: string }).tableName)).sort();

  it('run up and all the way down and up again', async () => {
    const config = testConfig(scratch.url);
    const sequelize = createSequelize(config.database);
    try {
      const migrator = createMigrator(sequelize);
      await migrator.up();
      expect(await tables(sequelize)).to.include.members(CORE_TABLES);
      await migrator.down({ to: 0 });
      expect((await tables(sequelize)).filter((t) => t !== 'SequelizeMeta')).to.deep.equal([]);
      await migrator.up();
      expect(await tables(sequelize)).to.include.members(CORE_TABLES);
      expect(await migrator.pending()).to.deep.equal([]);
    } finally {
      await sequelize.close();
    }
  });

  it('are applied once when two instances start together', async () => {
    const config = testConfig(scratch.url);
    const [a, b] = await Promise.all([openDatabase(config), openDatabase(config)]);
    try {
      const [meta] = await a.sequelize.query('SELECT COUNT(*) AS n FROM SequelizeMeta');
      const applied = Number((meta as Array<{ n: number }>)[0].n);
      expect(applied).to.equal((await createMigrator(b.sequelize).executed()).length);
      expect(await tables(a.sequelize)).to.include.members(CORE_TABLES);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('create the unique constraints of the seed', async () => {
    const config = testConfig(scratch.url);
    const db = await openDatabase(config);
    try {
      const { Node, Container, Service } = db.models;
      const node = await Node.create({ name: 'pve1', apiUrl: 'https://pve1:8006', tlsFingerprint: null, apiTokenId: null, apiTokenSecret: null });
      const base = { username: 'alice', osRelease: 'debian-12', nodeId: node.id, expiresAt: null, purpose: null, notes: null, tags: null };
      const c1 = await Container.create({ ...base, hostname: 'a.example.org', vmid: 101, macAddress: 'BC:24:11:00:00:01', ipv4Address: '10.0.0.1' });
      const clash = (fields: Record<string, unknown>) =>
        Container.create({ ...base, hostname: 'b.example.org', vmid: 102, macAddress: 'BC:24:11:00:00:02', ipv4Address: '10.0.0.2', ...fields });
      for (const fields of [{ hostname: 'a.example.org' }, { vmid: 101 }, { macAddress: 'BC:24:11:00:00:01' }, { ipv4Address: '10.0.0.1' }]) {
        const err = await clash(fields).then(() => null, (e: unknown) => e);
        expect(err, JSON.stringify(fields)).to.be.instanceOf(UniqueConstraintError);
      }
      // The same VMID on another node is fine.
      const node2 = await Node.create({ name: 'pve2', apiUrl: 'https://pve2:8006', tlsFingerprint: null, apiTokenId: null, apiTokenSecret: null });
      await clash({ nodeId: node2.id, vmid: 101 });

      await Service.create({ containerId: c1.id, type: 'http', internalPort: 80, externalPort: null, externalHostname: 'app.example.org' });
      const dupHost = await Service.create({ containerId: c1.id, type: 'http', internalPort: 81, externalPort: null, externalHostname: 'app.example.org' }).catch((e) => e);
      expect(dupHost).to.be.instanceOf(UniqueConstraintError);
      await Service.create({ containerId: c1.id, type: 'tcp', internalPort: 22, externalPort: 2201, externalHostname: null });
      const dupPort = await Service.create({ containerId: c1.id, type: 'tcp', internalPort: 23, externalPort: 2201, externalHostname: null }).catch((e) => e);
      expect(dupPort).to.be.instanceOf(UniqueConstraintError);
      // udp may reuse a tcp port number.
      await Service.create({ containerId: c1.id, type: 'udp', internalPort: 53, externalPort: 2201, externalHostname: null });
      // Deleting a container removes its services (ON DELETE CASCADE).
      await c1.destroy();
      expect(await Service.count({ where: { containerId: c1.id } })).to.equal(0);
    } finally {
      await db.close();
    }
  });
});
