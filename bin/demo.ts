// `npm run demo`: Berth wired to the Proxmox VE API simulator with sample data, so a newcomer can try
// logins, inventory sync and provisioning with no cluster. Data lives in data/demo/ (SQLite).
// PORT (default 3000) and DEMO_SIM_PORT (default: a free port) can be set in the environment.
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../config/index.js';
import { openDatabase } from '../src/lib/db/index.js';
import { projectRoot } from '../src/lib/paths.js';
import { loadSeedFile, startPveSim } from '../src/pve-sim/index.js';
import { createAdmin } from '../src/services/createAdmin.js';
import { Vault } from '../src/lib/vault.js';

const seedFile = fileURLToPath(new URL('../test/fixtures/pve-seed.json', import.meta.url));
const seed = loadSeedFile(seedFile);
const sim = await startPveSim({ seed, host: '127.0.0.1', port: Number(process.env.DEMO_SIM_PORT ?? 0), taskMs: 1500, ipDelayMs: 3000 });

const dataDir = process.env.DATA_DIR ?? path.join(projectRoot, 'data', 'demo');
const env = { ...process.env, DATA_DIR: dataDir, DATABASE_URL: `sqlite:${path.join(dataDir, 'berth.db')}`, PROXMOX_URL: sim.url };

// A local admin for the demo, created once; its password is printed once.
const config = loadConfig({ env, dotenv: false });
const db = await openDatabase(config);
let adminLine = "  local admin 'admin' exists already (data/demo/; delete the folder to start over)";
if (!(await db.models.User.findOne({ where: { username: 'admin' } }))) {
  const password = crypto.randomBytes(12).toString('base64url');
  await createAdmin(db.models, { username: 'admin', password });
  adminLine = `  local admin: admin / ${password}`;
}
// The simulator's nodes, registered with its API token, so "Sync now" on the drift page works at once.
// The demo simulator speaks plain HTTP on 127.0.0.1, so there is no certificate to verify.
const token = seed.tokens?.[0];
const vault = Vault.fromConfig(config);
for (const node of seed.nodes) {
  if (await db.models.Node.findOne({ where: { name: node.name } })) continue;
  await db.models.Node.create({
    name: node.name,
    apiUrl: sim.url,
    tlsVerify: true,
    tlsFingerprint: null,
    apiTokenId: token?.id ?? null,
    apiTokenSecret: token?.secret ? vault.seal(token.secret, 'node-token') : null,
  });
}
await db.close();

console.log(`Proxmox VE simulator: ${sim.url} (nodes ${seed.nodes.map((n) => n.name).join(', ')})`);
console.log('Log in to Berth with:');
console.log(adminLine);
for (const u of seed.users) console.log(`  Proxmox user: ${u.userid} / ${u.password ?? '(none)'}  groups ${u.groups.join(',') || '-'}`);

console.log(`Nodes ${seed.nodes.map((n) => n.name).join(', ')} are registered in Berth (admin: Sync & drift → Sync now).`);

const server = spawn(process.execPath, ['--import', 'tsx', path.join(projectRoot, 'server.ts')], { env, stdio: 'inherit' });
// The job runner runs sync jobs (and the demo's other jobs); it stops with the server.
const runner = spawn(process.execPath, ['--import', 'tsx', path.join(projectRoot, 'job-runner.ts')], { env, stdio: 'inherit' });
const stop = async (signal: NodeJS.Signals) => {
  runner.kill(signal);
  server.kill(signal);
};
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));
server.on('exit', async (code) => {
  runner.kill('SIGTERM');
  await sim.close();
  process.exit(code ?? 0);
});
