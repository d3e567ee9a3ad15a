// Runs the Proxmox VE API simulator (tools/pve-sim/) on its own, always from the TypeScript sources
// (bin/pve-sim, `npm run pve-sim`): like the simulator, this script is left out of dist/.
//   tsx bin/pve-sim.ts [--seed FILE] [--port N] [--https] [--task-ms MS] [--ip-delay-ms MS] [--auth-delay-ms MS]
// Prints the URL, the seed's credentials and, with --https, the CA file and fingerprint to trust.
import path from 'node:path';
import { parseArgs } from 'node:util';
import { projectRoot } from '../src/lib/paths.js';
import { generateCertificates, loadSeedFile, startPveSim, type TestCertificates } from '../tools/pve-sim/index.js';

const { values } = parseArgs({
  options: {
    seed: { type: 'string', default: path.join(projectRoot, 'test/fixtures/pve-seed.json') },
    port: { type: 'string', default: '8006' },
    host: { type: 'string', default: '127.0.0.1' },
    https: { type: 'boolean', default: false },
    'task-ms': { type: 'string', default: '1500' },
    'ip-delay-ms': { type: 'string', default: '3000' },
    'auth-delay-ms': { type: 'string', default: '0' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (values.help) {
  console.log('usage: bin/pve-sim.ts [--seed FILE] [--port N] [--host ADDR] [--https] [--task-ms MS] [--ip-delay-ms MS] [--auth-delay-ms MS]');
  process.exit(0);
}

const int = (name: string, v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) {
    console.error(`--${name} must be a non-negative integer`);
    process.exit(2);
  }
  return n;
};

const seed = loadSeedFile(values.seed);
let certs: TestCertificates | undefined;
if (values.https) certs = await generateCertificates();

const sim = await startPveSim({
  seed,
  host: values.host,
  port: int('port', values.port),
  taskMs: int('task-ms', values['task-ms']),
  ipDelayMs: int('ip-delay-ms', values['ip-delay-ms']),
  authFailDelayMs: int('auth-delay-ms', values['auth-delay-ms']),
  tls: certs ? { key: certs.key, cert: certs.cert } : undefined,
});

console.log(`Proxmox VE API simulator listening on ${sim.url}  (API: ${sim.url}/api2/json, control: ${sim.url}/_sim/state)`);
if (certs) {
  console.log(`TLS: trust CA file ${certs.caCertFile} or pin fingerprint ${certs.fingerprint256}`);
}
console.log(`Seed ${values.seed}: nodes ${seed.nodes.map((n) => n.name).join(', ')}`);
for (const u of seed.users) {
  console.log(`  user  ${u.userid.padEnd(16)} password ${u.password ?? '(none)'}  groups ${u.groups.join(',') || '-'}`);
}
for (const t of seed.tokens) console.log(`  token ${t.id.padEnd(16)} secret   ${t.secret}`);

const stop = async () => {
  await sim.close();
  await certs?.cleanup();
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
