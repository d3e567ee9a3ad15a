// Bulk import on the drift page at size: 50 and then 500 unknown machines (containers and VMs on 3
// registered nodes) imported with one owner in ONE request (POST /inventory/drift/import-bulk, JSON,
// all or nothing, one audit event per record). Prints, per size, the request's wall time on
// 127.0.0.1, the time per record, the SQL statements it sent (per record, roughly constant: no
// statement over the whole inventory per record), and the drift page's time and statements with
// that many unknown machines listed. Printed, not asserted.
//   npx tsx bench/drift-import.ts   (or with BENCH_DATABASE_URL=mysql://root@127.0.0.1:3306/berth_bench)
import crypto from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { createApp } from '../src/app.js';
import { createLogger } from '../src/lib/logger.js';
import { loginCookie } from '../test/support/sse-client.js';
import { benchDb, dialectLabel } from './common.js';
import { createBenchUser } from './seed.js';

const SIZES = [50, 500];
const { db, config, cleanup } = await benchDb({ AUDIT_LOG_FILE: 'false' });
const { models } = db;
const label = dialectLabel(config);

const tag = crypto.randomBytes(3).toString('hex');
const nodes = await Promise.all([1, 2, 3].map((i) => models.Node.create({ name: `bench${tag}n${i}`, apiUrl: 'https://127.0.0.1:8006', tlsVerify: true, tlsFingerprint: null, apiTokenId: null, apiTokenSecret: null })));

const { app, stop } = createApp({ config, logger: createLogger('silent'), sequelize: db.sequelize, models });
const server = app.listen(0, '127.0.0.1');
await new Promise((r) => server.once('listening', r));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
const password = 'bench-password-1';
const admin = `bench-admin-${tag}`;
const owner = `bench-owner-${tag}`;
await createBenchUser(models, admin, 'admin', password);
await createBenchUser(models, owner, 'user', password);
const cookie = await loginCookie(base, admin, password);

let queries = 0;
const original = db.sequelize.query.bind(db.sequelize);
db.sequelize.query = ((...args: Parameters<typeof original>) => (queries++, original(...args))) as typeof original;

async function driftPage(): Promise<{ ms: number; queries: number; csrf: string }> {
  queries = 0;
  const s = performance.now();
  const res = await fetch(`${base}/inventory/drift`, { headers: { cookie, accept: 'text/html' } });
  const html = await res.text();
  if (res.status !== 200) throw new Error(`drift page: HTTP ${res.status}`);
  return { ms: performance.now() - s, queries, csrf: /name="_csrf" value="([^"]+)"/.exec(html)![1]! };
}

let vmid = 1000;
for (const size of SIZES) {
  const rows = Array.from({ length: size }, (_, i) => {
    const kind = i % 5 === 4 ? ('qemu' as const) : ('lxc' as const);
    const n = vmid++;
    return {
      kind,
      node: nodes[i % 3]!.name,
      vmid: n,
      name: `bench-${tag}-${n}`,
      status: 'running',
      macAddress: `02:00:${crypto.randomBytes(4).toString('hex').match(/../g)!.join(':')}`,
      ipv4Address: `10.${Math.floor(n / 62_500) % 250}.${Math.floor(n / 250) % 250}.${(n % 250) + 1}`,
      osName: kind === 'lxc' ? 'debian' : 'l26',
      syncJobId: null,
      seenAt: new Date(),
    };
  });
  await models.MachineSnapshot.bulkCreate(rows);
  const records = (await models.Container.count()) + (await models.VirtualMachine.count());
  await driftPage(); // warm-up (view compilation)
  const page = await driftPage();

  queries = 0;
  const s = performance.now();
  const res = await fetch(`${base}/inventory/drift/import-bulk`, {
    method: 'POST',
    headers: { cookie, accept: 'application/json', 'content-type': 'application/json', 'x-csrf-token': page.csrf },
    body: JSON.stringify({ machines: rows.map((r) => `${r.kind}/${r.node}/${r.vmid}`), username: owner }),
  });
  const body = (await res.json()) as { imported?: unknown[]; error?: string };
  const ms = performance.now() - s;
  if (res.status !== 201 || body.imported?.length !== size) throw new Error(`import of ${size}: HTTP ${res.status} ${JSON.stringify(body).slice(0, 300)}`);
  const events = await models.AuditEvent.count({ where: { action: ['container.create', 'vm.create'] } });
  console.log(
    `[${label}] ${size} unknown machines (${rows.filter((r) => r.kind === 'lxc').length} containers, ${rows.filter((r) => r.kind === 'qemu').length} VMs, 3 nodes; ${records} records already): ` +
      `drift page ${page.ms.toFixed(0)} ms, ${page.queries} SQL; import-bulk ${ms.toFixed(0)} ms (${(ms / size).toFixed(1)} ms/record), ${queries} SQL (${(queries / size).toFixed(1)}/record); ${events} create events in total`,
  );
}

server.close();
await stop();
await cleanup();
