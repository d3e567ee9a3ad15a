// Inventory pages at size: 10,000 containers and 2,000 VMs on 3 nodes, 50 owners. Prints, per page,
// p50/p95 response time measured on 127.0.0.1 (sequential requests: server time plus loopback), requests/s
// at concurrency 10, and the number of SQL queries one request makes (constant whatever the row count:
// no N+1). Printed, not asserted.
//   npx tsx bench/inventory.ts   (or with BENCH_DATABASE_URL=mysql://root@127.0.0.1:3306/berth_bench)
import type { AddressInfo } from 'node:net';
import { createApp } from '../src/app.js';
import { createLogger } from '../src/lib/logger.js';
import { hashPassword } from '../src/lib/passwords.js';
import { loginCookie } from '../test/support/sse-client.js';
import { benchDb, dialectLabel, percentile } from './common.js';

const CONTAINERS = Number(process.env.BENCH_CONTAINERS ?? 10_000);
const VMS = Number(process.env.BENCH_VMS ?? 2_000);
const SEQUENTIAL = 200;
const CONCURRENT_TOTAL = 1_000;
const CONCURRENCY = 10;

const { db, config, cleanup } = await benchDb({ AUDIT_LOG_FILE: 'false' });
const { models } = db;
const label = dialectLabel(config);
for (const m of [models.Credential, models.Service, models.Container, models.VirtualMachine, models.GuestSnapshot, models.Node]) await (m as typeof models.Node).destroy({ where: {} });

// --- data ---
const t0 = Date.now();
const nodes = await models.Node.bulkCreate(['pve1', 'pve2', 'pve3'].map((name) => ({ name, apiUrl: `https://${name}.example.org:8006`, tlsVerify: true, tlsFingerprint: null, apiTokenId: null, apiTokenSecret: null })));
const owners = Array.from({ length: 50 }, (_, i) => `user${String(i).padStart(2, '0')}`);
const tagsets = ['web,prod', 'db,prod', 'ci', 'lab,test', null, 'gpu,ai', 'web,staging'];
const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');
const mac = (prefix: string, n: number) => `${prefix}:${hex((n >> 16) & 255, 2)}:${hex((n >> 8) & 255, 2)}:${hex(n & 255, 2)}`;
const day = (n: number) => new Date(Date.UTC(2026, 10, 21) + (n % 400) * 86_400_000).toISOString().slice(0, 10);
for (let start = 0; start < CONTAINERS; start += 1000) {
  await models.Container.bulkCreate(
    Array.from({ length: Math.min(1000, CONTAINERS - start) }, (_, k) => {
      const i = start + k;
      return {
        hostname: `ct-${String(i).padStart(5, '0')}.lab.example.org`,
        username: i % 17 === 0 ? null : owners[i % owners.length]!,
        osRelease: i % 2 ? 'debian-12' : 'ubuntu-24.04',
        nodeId: nodes[i % 3]!.id,
        containerId: 1000 + i,
        macAddress: mac('bc:24:11', i),
        ipv4Address: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
        status: i % 5 ? 'running' : 'stopped',
        environment: i % 3 ? 'production' : 'staging',
        expiresAt: i % 4 ? day(i) : null,
        purpose: `service ${i}`,
        notes: null,
        tags: tagsets[i % tagsets.length]!,
      } as never;
    }),
  );
}
for (let start = 0; start < VMS; start += 1000) {
  await models.VirtualMachine.bulkCreate(
    Array.from({ length: Math.min(1000, VMS - start) }, (_, k) => {
      const i = start + k;
      return {
        name: `vm-${String(i).padStart(5, '0')}.lab.example.org`,
        username: owners[i % owners.length]!,
        osName: 'Windows Server 2022',
        nodeId: nodes[i % 3]!.id,
        vmid: 50_000 + i,
        macAddress: mac('bc:24:12', i),
        ipv4Address: `10.200.${(i >> 8) & 255}.${i & 255}`,
        environment: 'production',
        expiresAt: day(i),
        purpose: `vm ${i}`,
        notes: null,
        tags: tagsets[i % tagsets.length]!,
      } as never;
    }),
  );
}
console.log(`[${label}] seeded ${CONTAINERS} containers and ${VMS} VMs on 3 nodes in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

// --- app ---
const { app, stop } = createApp({ config, logger: createLogger('silent'), sequelize: db.sequelize, models });
const server = app.listen(0, '127.0.0.1');
await new Promise((r) => server.once('listening', r));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
const password = 'bench-password-1';
const admin = `bench-admin-${Date.now()}`;
await models.User.create({ username: admin, realm: 'local', role: 'admin', disabled: false, displayName: null, email: null, passwordHash: await hashPassword(password), lastLoginAt: null });
await models.User.create({ username: owners[7]!, realm: 'local', role: 'user', disabled: false, displayName: null, email: null, passwordHash: await hashPassword(password), lastLoginAt: null }).catch(() => undefined);
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

const someContainer = await models.Container.findOne({ where: { hostname: 'ct-04242.lab.example.org' } });
const someVm = await models.VirtualMachine.findOne({ where: { name: 'vm-01234.lab.example.org' } });
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
