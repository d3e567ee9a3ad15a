// Inventory pages at size: 10,000 containers and 2,000 VMs on 3 nodes, 50 owners. Prints, per page,
// p50/p95 response time measured on 127.0.0.1 (sequential requests: server time plus loopback), requests/s
// at concurrency 10, and the number of SQL queries one request makes (constant whatever the row count:
// no N+1). Printed, not asserted.
//   npx tsx bench/inventory.ts   (or with BENCH_DATABASE_URL=mysql://root@127.0.0.1:3306/berth_bench)
import type { AddressInfo } from 'node:net';
import { createApp } from '../src/app.js';
import { createLogger } from '../src/lib/logger.js';
import { loginCookie } from '../test/support/sse-client.js';
import { benchDb, dialectLabel, percentile } from './common.js';
import { createBenchUser, inventorySize, seedInventory } from './seed.js';

const { containers: CONTAINERS, vms: VMS } = inventorySize();
const SEQUENTIAL = 200;
const CONCURRENT_TOTAL = 1_000;
const CONCURRENCY = 10;

const { db, config, cleanup } = await benchDb({ AUDIT_LOG_FILE: 'false' });
const { models } = db;
const label = dialectLabel(config);

// --- data ---
const { owners, seconds } = await seedInventory(models, { containers: CONTAINERS, vms: VMS });
console.log(`[${label}] seeded ${CONTAINERS} containers and ${VMS} VMs on 3 nodes in ${seconds.toFixed(1)} s`);

// --- app ---
const { app, stop } = createApp({ config, logger: createLogger('silent'), sequelize: db.sequelize, models });
const server = app.listen(0, '127.0.0.1');
await new Promise((r) => server.once('listening', r));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
const password = 'bench-password-1';
const admin = `bench-admin-${Date.now()}`;
await createBenchUser(models, admin, 'admin', password);
await createBenchUser(models, owners[7]!, 'user', password);
const adminCookie = await loginCookie(base, admin, password);
const userCookie = await loginCookie(base, owners[7]!, password);

let queries = 0;
const original = db.sequelize.query.bind(db.sequelize);
db.sequelize.query = ((...args: Parameters<typeof original>) => (queries++, original(...args))) as typeof original;

async function get(path: string, cookie: string): Promise<number> {
  const res = await fetch(base + path, { headers: { cookie, accept: 'text/html' } });
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`${path}: HTTP ${res.status}`);
  return res.status;
}

async function measure(name: string, path: string, cookie: string): Promise<void> {
  await get(path, cookie); // warm-up (view compilation, caches)
  queries = 0;
  await get(path, cookie);
  const perRequest = queries;
  const times: number[] = [];
  for (let i = 0; i < SEQUENTIAL; i++) {
    const s = performance.now();
    await get(path, cookie);
    times.push(performance.now() - s);
  }
  let next = 0;
  const c0 = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next++ < CONCURRENT_TOTAL) await get(path, cookie);
    }),
  );
  const rps = CONCURRENT_TOTAL / ((performance.now() - c0) / 1000);
  console.log(
    `[${label}] ${name.padEnd(44)} p50 ${percentile(times, 50).toFixed(1)} ms, p95 ${percentile(times, 95).toFixed(1)} ms (${SEQUENTIAL} sequential); ` +
      `${rps.toFixed(0)} req/s at concurrency ${CONCURRENCY} (${CONCURRENT_TOTAL} requests); ${perRequest} SQL queries/request`,
  );
}

const someContainer = await models.Container.findOne({ where: { hostname: `ct-${String(Math.min(4242, CONTAINERS - 1)).padStart(5, '0')}.lab.example.org` } });
const someVm = await models.VirtualMachine.findOne({ where: { name: `vm-${String(Math.min(1234, VMS - 1)).padStart(5, '0')}.lab.example.org` } });
await measure('containers list, admin, q=ct-04 (50/page)', '/containers?q=ct-04&per=50', adminCookie);
await measure('containers list, admin, first page (50/page)', '/containers?per=50', adminCookie);
await measure('containers list, admin, page 150 sorted by IP', '/containers?per=50&sort=ip&page=150', adminCookie);
await measure('containers list, admin, tag=prod + expiring 30d', '/containers?tag=prod&expiring=30', adminCookie);
await measure('containers list, one owner (200 rows), q=lab', '/containers?q=lab', userCookie);
await measure('VMs list, admin, q=vm-01 (50/page)', '/vms?q=vm-01&per=50', adminCookie);
await measure('container detail page', `/containers/${someContainer!.id}`, adminCookie);
await measure('VM detail page', `/vms/${someVm!.id}`, adminCookie);

db.sequelize.query = original;
server.close();
await stop();
await cleanup();
