import { expect } from 'chai';
import { createSequelize } from '../../src/lib/db/connect.js';
import { testConfig, testContext } from '../support/context.js';
import { startTcpProxy } from '../support/tcp-proxy.js';

// MariaDB only: SQLite is a local file with no network to stall on (its busy_timeout bounds lock
// waits), so the SQLite run does not define these tests rather than skipping them.
const onMariaDB = process.env.BERTH_TEST_DATABASE !== 'sqlite';

(onMariaDB ? describe : () => {})('database query timeouts (issue 11, item 4)', function () {

  it('a query on a connection whose packets are silently dropped fails after the timeout instead of hanging, and the pool recovers', async () => {
    const { database } = testContext().config;
    if (database.host === undefined) throw new Error('a MariaDB run has a host');
    const proxy = await startTcpProxy(database.host, database.port);
    const sequelize = createSequelize({ ...database, host: '127.0.0.1', port: proxy.port }, { poolMax: 1, queryTimeoutSeconds: 2 });
    try {
      await sequelize.query('SELECT 1');
      proxy.blackhole();
      const started = Date.now();
      const err = await sequelize.query('SELECT 1').then(
        () => null,
        (e: Error) => e,
      );
      expect(err, 'the query through the black hole').to.be.an('error');
      expect(err!.message).to.match(/no reply from the database/);
      expect(Date.now() - started, 'not before the limit').to.be.at.least(2000);

      await proxy.restore();
      // The dropped connection is discarded; the pool (of one) opens a new one.
      const [rows] = await sequelize.query('SELECT 42 AS answer');
      expect(rows).to.deep.equal([{ answer: 42 }]);
    } finally {
      await sequelize.close().catch(() => {});
      await proxy.close();
    }
  });

  it('DB_QUERY_TIMEOUT_SECONDS limits every statement on the server; the connection stays usable', async () => {
    const config = testConfig(testContext().scratch.url, { DB_QUERY_TIMEOUT_SECONDS: '1' });
    expect(config.database.queryTimeoutSeconds).to.equal(1);
    // The settings as every caller passes them (openDatabase, bin/migrate): no option needed.
    const sequelize = createSequelize(config.database, { poolMax: 1 });
    try {
      const err = await sequelize.query('SELECT SLEEP(5)').then(
        () => null,
        (e: Error & { original?: { errno?: number } }) => e,
      );
      expect(err, 'a 5 s statement under a 1 s limit').to.be.an('error');
      expect(err!.message).to.match(/max_statement_time/);
      const [rows] = await sequelize.query('SELECT @@max_statement_time AS seconds');
      expect(rows).to.deep.equal([{ seconds: 1 }]);
    } finally {
      await sequelize.close();
    }
  });
});
