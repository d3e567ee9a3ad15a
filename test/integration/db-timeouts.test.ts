import net from 'node:net';
import { expect } from 'chai';
import { createSequelize } from '../../src/lib/db/connect.js';
import { testConfig, testContext } from '../support/context.js';
import { track } from '../support/resources.js';

interface BlackholeProxy {
  port: number;
  /** From now on every byte, both ways, on every open and new connection is swallowed; nothing is closed. */
  blackhole(): void;
  /** New connections are forwarded again; the ones that were blackholed stay dead. */
  restore(): void;
  close(): Promise<void>;
}

/**
 * A loopback TCP proxy that can turn into a black hole: packets silently dropped, no RST, no FIN,
 * as when a firewall or a dead NAT entry eats them. (test/support/tcp-proxy.ts cuts connections,
 * which the client notices at once.)
 */
async function startBlackholeProxy(targetHost: string, targetPort: number): Promise<BlackholeProxy> {
  const sockets = new Set<net.Socket>();
  const live = new Set<{ dead: boolean }>();
  let swallowing = false;
  const server = net.createServer((client) => {
    const link = { dead: swallowing };
    live.add(link);
    const upstream = net.connect(targetPort, targetHost);
    sockets.add(client).add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
      live.delete(link);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.on('data', (chunk) => link.dead || upstream.write(chunk));
    upstream.on('data', (chunk) => link.dead || client.write(chunk));
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as net.AddressInfo).port;
  const untrack = track(`blackhole proxy ${port}`, async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return {
    port,
    blackhole() {
      swallowing = true;
      for (const link of live) link.dead = true;
    },
    restore() {
      swallowing = false;
    },
    close: untrack,
  };
}

// MariaDB only: SQLite is a local file with no network to stall on (its busy_timeout bounds lock
// waits), so the SQLite run does not define these tests rather than skipping them.
const onMariaDB = process.env.BERTH_TEST_DATABASE !== 'sqlite';

(onMariaDB ? describe : () => {})('database query timeouts (issue 11, item 4)', function () {

  it('a query on a connection whose packets are silently dropped fails after the timeout instead of hanging, and the pool recovers', async () => {
    const { database } = testContext().config;
    if (database.host === undefined) throw new Error('a MariaDB run has a host');
    const proxy = await startBlackholeProxy(database.host, database.port);
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

      proxy.restore();
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
