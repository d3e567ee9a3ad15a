// Self-service container creation: Berth's own overhead per create, with the simulator's delays at
// zero (tasks end at once, DHCP answers at once), so what is measured is Berth: the request
// transaction, the claim, the job's Proxmox calls and polls, and the final write. Prints p50/p95 of
// request-to-success for sequential creates, then the wall time of 50 creates with two runners.
// Figures are printed, not asserted.
//   UV_THREADPOOL_SIZE=16 npx tsx bench/provisioning.ts            (SQLite; the thread pool as npm start sizes it, docs/deploy.md)
//   BENCH_DATABASE_URL=mysql://root@127.0.0.1:3306/berth_bench npx tsx bench/provisioning.ts
// BENCH_CREATES (30) sets the sequential sample; BENCH_PARALLEL (50) the two-runner batch.
import crypto from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Auditor } from '../src/audit/index.js';
import { createLogger } from '../src/lib/logger.js';
import { Vault } from '../src/lib/vault.js';
import { requestContainer } from '../src/provisioning/request.js';
import type { CommandContext } from '../src/services/context.js';
import type { Node } from '../models/index.js';
import { PveSim, type SeedInput } from '../tools/pve-sim/index.js';
import { benchDb, dialectLabel, exitWhenDone, percentile, runner } from './common.js';

const sequential = Number(process.env.BENCH_CREATES ?? 30);
const parallel = Number(process.env.BENCH_PARALLEL ?? 50);
// The poll interval is Berth's choice, not Proxmox's: at the GUI's 1 s it would dominate every figure.
const { db, config, cleanup } = await benchDb({ PROVISION_POLL_MS: '10', ENCRYPTION_KEY: crypto.randomBytes(32).toString('base64'), QUOTA_CONTAINERS: '100000', QUOTA_CORES: '100000', QUOTA_MEMORY_MB: '100000000', QUOTA_DISK_GB: '100000000' });
const { models } = db;
const label = dialectLabel(config);
if (config.database.dialect === 'sqlite' && !process.env.UV_THREADPOOL_SIZE) console.warn('UV_THREADPOOL_SIZE is not set: with SQLite the batch below can fail with SQLITE_BUSY (docs/deploy.md); run it as npm run bench does.');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const seed = JSON.parse(readFileSync(fileURLToPath(new URL('../test/fixtures/pve-seed.json', import.meta.url)), 'utf8')) as SeedInput;
// The first node's containers take pool addresses; the second node's DHCP subnet (/24) holds the rest.
const sim = new PveSim({ seed, taskMs: 0, ipDelayMs: 0, authFailDelayMs: 0 });
const simUrl = await sim.start();
const token = (seed as { tokens: { id: string; secret: string }[] }).tokens[0];
const vault = Vault.fromConfig(config);
const nodes: Node[] = [];
for (const n of seed.nodes as { name: string }[]) {
  const node = await models.Node.create({ name: n.name, apiUrl: simUrl, tlsVerify: false, tlsFingerprint: null, apiTokenId: token.id, apiTokenSecret: vault.seal(token.secret, 'node-token') });
  await models.ContainerTemplate.create({ nodeId: node.id, volid: 'local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst', osRelease: 'Debian 12' });
  nodes.push(node);
}
await models.IpPool.create({ nodeId: nodes[0].id, bridge: 'vmbr0', cidr: '10.88.0.0/16', gateway: '10.88.0.1', rangeStart: '10.88.0.10', rangeEnd: '10.88.255.250' });
const user = await models.User.create({ username: 'bench', passwordHash: null, role: 'user', email: null } as never);
const cmd: CommandContext = {
  models, sequelize: db.sequelize, auditor: new Auditor(models, null), vault, config, logger: createLogger('silent'),
  actor: { username: user.username }, user: { id: user.id, username: user.username, isAdmin: true },
};
const ask = (i: number, node: number) => requestContainer(cmd, {
  hostname: `bench-${i}-${crypto.randomBytes(3).toString('hex')}.example.org`, osRelease: 'Debian 12', nodeId: nodes[node].id,
  cores: 1, memoryMb: 256, diskGb: 4, httpPort: null, sshPublicKey: null, aiContainer: 'N', expiresAt: null, purpose: null, submitForApproval: false,
}, { isAdmin: true, chooseNode: async (c) => c[0] });

async function untilDone(jobIds: number[]): Promise<void> {
  for (;;) {
    const jobs = await models.Job.findAll({ where: { id: jobIds }, attributes: ['id', 'status', 'error'] });
    const failed = jobs.filter((j) => j.status === 'failure' || j.status === 'cancelled');
    if (failed.length) throw new Error(`job ${failed[0].id} ended ${failed[0].status}: ${failed[0].error}`);
    if (jobs.every((j) => j.status === 'success')) return;
    await sleep(2);
  }
}

// 1. Sequential creates, one runner: request → job success, each on its own.
{
  const r = runner(db, config, { pollMs: 50, concurrency: 4 });
  await r.start();
  const times: number[] = [];
  const accept: number[] = [];
  const jobIds: number[] = [];
  for (let i = 0; i < sequential; i++) {
    const t0 = performance.now();
    const answer = await ask(i, i % 2);
    accept.push(performance.now() - t0);
    await untilDone([answer.jobId!]);
    times.push(performance.now() - t0);
    jobIds.push(answer.jobId!);
  }
  await r.stop('bench');
  // From the rows: how long each job waited for a runner, and ran (the Proxmox calls, polls and writes).
  const jobs = await models.Job.findAll({ where: { id: jobIds } });
  const waited = jobs.map((j) => j.startedAt!.getTime() - j.createdAt.getTime());
  const ran = jobs.map((j) => j.finishedAt!.getTime() - j.startedAt!.getTime());
  const fmt = (v: number[]) => `p50 ${percentile(v, 50).toFixed(0)} ms, p95 ${percentile(v, 95).toFixed(0)} ms`;
  console.log(`[${label}] ${sequential} sequential creates on 2 nodes, simulator delays 0, PROVISION_POLL_MS 10, one runner:`);
  console.log(`  request accepted (quota, reservation, address, job, audit; one transaction): ${fmt(accept)}`);
  // MariaDB's DATETIME columns keep whole seconds: the split is only meaningful on SQLite.
  if (config.database.dialect === 'sqlite') console.log(`  job waited for the runner: ${fmt(waited)}; job ran (6 steps, ~12 Proxmox calls): ${fmt(ran)}`);
  console.log(`  request to running record, as a client sees it: ${fmt(times)}, max ${Math.max(...times).toFixed(0)} ms`);
}

// 2. A batch with two runners: all requests at once, wall time until every container runs.
{
  const runners = [runner(db, config, { pollMs: 50, concurrency: 8 }), runner(db, config, { pollMs: 50, concurrency: 8 })];
  await Promise.all(runners.map((r) => r.start()));
  const t0 = performance.now();
  // Requests arrive 10 at a time (a burst of 50 simultaneous writers outlasts SQLite's 5 s busy wait).
  const answers: Awaited<ReturnType<typeof ask>>[] = [];
  for (let i = 0; i < parallel; i += 10) answers.push(...(await Promise.all(Array.from({ length: Math.min(10, parallel - i) }, (_, k) => ask(1000 + i + k, (i + k) % 2)))));
  const accepted = performance.now() - t0;
  await untilDone(answers.map((a) => a.jobId!));
  const wall = performance.now() - t0;
  await Promise.all(runners.map((r) => r.stop('bench')));
  const rows = await models.Container.findAll({ where: { id: answers.map((a) => a.containerId) } });
  const unique = (k: 'vmid' | 'ipv4Address' | 'macAddress') => new Set(rows.map((c) => `${c.nodeId}/${c[k]}`)).size;
  console.log(`[${label}] ${parallel} creates at once, 2 runners (concurrency 8 each), 2 nodes: all accepted (10 requests in flight at a time) in ${accepted.toFixed(0)} ms, all running after ${(wall / 1000).toFixed(2)} s (${(parallel / (wall / 1000)).toFixed(1)} creates/s); distinct VMIDs ${unique('vmid')}, IPs ${unique('ipv4Address')}, MACs ${unique('macAddress')} of ${rows.length}`);
}

await sim.close();
await cleanup();
exitWhenDone();
