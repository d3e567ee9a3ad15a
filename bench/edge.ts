// The edge config at size: 4,500 services (the ancestor's registry) and 10,000 (5,000 http, 4,000
// tcp, 1,000 udp) on running containers. Prints, per size:
// - the render of nginx.conf alone and the registry read plus render (what a publish does first), p50/p95;
// - GET /nginx.conf with an edge token over 127.0.0.1: warm 200 and 304 p50/p95 (sequential), and
//   requests/s at concurrency 10; the body size;
// - the time from a registry change to a published version, with `nginx -t` on this host and without;
// - the process's RSS (server and benchmark share the process).
// Printed, not asserted.
//   npx tsx bench/edge.ts   (or with BENCH_DATABASE_URL=mysql://root@127.0.0.1:3306/berth_bench)
import type { AddressInfo } from 'node:net';
import { createApp } from '../src/app.js';
import { publishEdgeConfig } from '../src/edge/publish.js';
import { loadRegistry, siteFromConfig } from '../src/edge/registry.js';
import { renderEdgeConfig } from '../src/edge/render.js';
import { nginxBinary } from '../src/edge/nginx-check.js';
import { Auditor } from '../src/audit/index.js';
import { createLogger } from '../src/lib/logger.js';
import { Vault } from '../src/lib/vault.js';
import { createApiToken } from '../src/services/apiTokens.js';
import { benchDb, dialectLabel, percentile } from './common.js';
import { createBenchUser, seedInventory } from './seed.js';

const SEQUENTIAL = 200;
const CONCURRENT_TOTAL = 1_000;
const CONCURRENCY = 10;
const CONTAINERS = 2_500;

const { db, config, cleanup } = await benchDb({ AUDIT_LOG_FILE: 'false', EDGE_NGINX_BINARY: 'none' });
const { models, sequelize } = db;
const label = dialectLabel(config);
const logger = createLogger('silent');
const auditor = Auditor.fromConfig(config, models, logger, 'audit-bench.log');
const cmd = { models, sequelize, auditor, vault: Vault.fromConfig(config), config, logger, actor: { username: null } };
const withNginx = nginxBinary({ ...config, EDGE_NGINX_BINARY: 'auto' });

// --- data: containers (all running), one domain, an admin with an edge token ---
await seedInventory(models, { containers: CONTAINERS, vms: 0 });
await models.Container.update({ status: 'running' }, { where: {} });
const containers = await models.Container.findAll({ attributes: ['id'], order: [['id', 'ASC']], raw: true });
const domain = await models.PublicDomain.create({ name: 'apps.example.org', certificatePath: null, keyPath: null, userClaimable: true, isDefault: true });
await createBenchUser(models, 'bench-edge-admin', 'admin', 'bench-password-1');
const admin = (await models.User.findOne({ where: { username: 'bench-edge-admin' } }))!;
const { token } = await createApiToken(cmd as never, { userId: admin.id, name: 'bench edge', scope: 'edge' });

/** Services number `from` … `to - 1` of the 10,000-service mix: half http, 40 % tcp, 10 % udp. */
async function addServices(from: number, to: number): Promise<void> {
  const rows = [];
  for (let i = from; i < to; i++) {
    const containerId = containers[i % containers.length]!.id;
    const slot = i % 10;
    if (slot < 5) rows.push({ containerId, type: 'http' as const, internalPort: 8080, externalPort: null, externalHostname: `svc-${String(i).padStart(5, '0')}.apps.example.org`, tls: true, domainId: domain.id });
    else if (slot < 9) rows.push({ containerId, type: 'tcp' as const, internalPort: 22, externalPort: 20_000 + i, externalHostname: null, tls: slot === 8 });
    else rows.push({ containerId, type: 'udp' as const, internalPort: 53, externalPort: 30_000 + i, externalHostname: null, tls: false });
  }
  for (let k = 0; k < rows.length; k += 1000) await models.Service.bulkCreate(rows.slice(k, k + 1000));
}

// --- app ---
const { app, stop } = createApp({ config, logger, sequelize, models });
const server = app.listen(0, '127.0.0.1');
await new Promise((r) => server.once('listening', r));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

async function pull(etag?: string): Promise<{ status: number; etag: string; bytes: number }> {
  const headers: Record<string, string> = { authorization: `Bearer ${token}`, 'x-berth-edge': 'bench-edge' };
  if (etag) headers['if-none-match'] = etag;
  const res = await fetch(`${base}/nginx.conf`, { headers });
  const body = await res.arrayBuffer();
  if (res.status !== 200 && res.status !== 304) throw new Error(`GET /nginx.conf: HTTP ${res.status}`);
  return { status: res.status, etag: res.headers.get('etag') ?? '', bytes: body.byteLength };
}

async function timed(n: number, fn: () => Promise<unknown>): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const s = performance.now();
    await fn();
    times.push(performance.now() - s);
  }
  return times;
}

let extraPorts = 0;
const ms = (times: number[]) => `p50 ${percentile(times, 50).toFixed(2)} ms, p95 ${percentile(times, 95).toFixed(2)} ms`;

async function measure(size: number): Promise<void> {
  const tag = `[${label}] ${size.toLocaleString('en')} services`;
  const snapshot = await loadRegistry(models);
  const site = siteFromConfig(config);
  renderEdgeConfig(snapshot, site); // warm-up (JIT)
  console.log(`${tag}: render alone ${ms(await timed(20, async () => renderEdgeConfig(snapshot, site)))} (20 runs)`);
  console.log(`${tag}: registry read + render ${ms(await timed(10, async () => renderEdgeConfig(await loadRegistry(models), site)))} (10 runs)`);

  // A change (one more service), then the publish that makes it a version, without and with nginx -t.
  const change = async () => {
    await models.Service.create({ containerId: containers[0]!.id, type: 'tcp', internalPort: 2222, externalPort: 40_000 + ++extraPorts, externalHostname: null, tls: false });
  };
  const publishTimes = await timed(5, async () => {
    await change();
    await publishEdgeConfig(cmd, { reason: 'bench' });
  });
  console.log(`${tag}: registry change → published version, without nginx -t: ${ms(publishTimes)} (5 changes)`);
  if (withNginx) {
    const checked = { ...cmd, config: { ...config, EDGE_NGINX_BINARY: withNginx } };
    const checkedTimes = await timed(5, async () => {
      await change();
      await publishEdgeConfig(checked, { reason: 'bench, checked' });
    });
    console.log(`${tag}: registry change → published version, with nginx -t (${withNginx}): ${ms(checkedTimes)} (5 changes)`);
  } else {
    console.log(`${tag}: no nginx on this host: the publish with nginx -t is not measured`);
  }

  // First pull after the change (loads the new version once), then warm 200s and 304s.
  const s = performance.now();
  const first = await pull();
  console.log(`${tag}: first GET /nginx.conf after a publish ${(performance.now() - s).toFixed(1)} ms; body ${(first.bytes / 1024).toFixed(0)} KiB`);
  console.log(`${tag}: warm 200 ${ms(await timed(SEQUENTIAL, () => pull()))} (${SEQUENTIAL} sequential)`);
  console.log(`${tag}: 304 (If-None-Match) ${ms(await timed(SEQUENTIAL, () => pull(first.etag)))} (${SEQUENTIAL} sequential)`);
  for (const [name, etag] of [
    ['200', undefined],
    ['304', first.etag],
  ] as const) {
    let next = 0;
    const c0 = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next++ < CONCURRENT_TOTAL) await pull(etag);
      }),
    );
    console.log(`${tag}: ${name} at concurrency ${CONCURRENCY}: ${(CONCURRENT_TOTAL / ((performance.now() - c0) / 1000)).toFixed(0)} req/s (${CONCURRENT_TOTAL} requests)`);
  }
  console.log(`${tag}: process RSS ${(process.memoryUsage().rss / 1048576).toFixed(0)} MiB (server and benchmark in one process)`);
}

await addServices(0, 4_500);
await measure(4_500);
await addServices(4_500, 10_000);
await measure(10_000);

server.close();
await stop();
await auditor.close();
await cleanup();
