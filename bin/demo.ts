// `npm run demo`: Berth wired to the Proxmox VE API simulator with sample data and a mail catcher, so
// a newcomer can try logins, the inventory, account requests and provisioning with no cluster and
// no mail server. Data lives in data/demo/ (SQLite); running it again reuses that data.
// PORT (default 3000; 0 = a free port) and DEMO_SIM_PORT (default: a free port) can be set in the
// environment. The children's JSON logs go to data/demo/logs/; only warnings and errors are shown.
// It runs from the TypeScript sources only: tsconfig.build.json leaves it out of dist/, since it
// imports the simulator (tools/pve-sim/), which must not ship.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { loadDemoSettings } from '../config/demo.js';
import { isEdgePath, loadConfig, type Config } from '../config/index.js';
import { Auditor } from '../src/audit/index.js';
import { formatMail, startMailCatcher } from '../src/dev/mail-catcher.js';
import { importMachine } from '../src/inventory/drift-actions.js';
import { KINDS } from '../src/inventory/kinds.js';
import { updateRecord } from '../src/inventory/records.js';
import { updateSchema } from '../src/inventory/schema.js';
import { syncInventory } from '../src/inventory/sync.js';
import { openDatabase } from '../src/database.js';
import { createLogger } from '../src/lib/logger.js';
import { projectRoot } from '../src/lib/paths.js';
import { Vault } from '../src/lib/vault.js';
import { parseInput } from '../src/lib/parse-input.js';
import { loadSeedFile, startPveSim, type Seed } from '../tools/pve-sim/index.js';
import { addCredential } from '../src/services/credentials.js';
import { createApiToken } from '../src/services/apiTokens.js';
import { createDomain, setDefaultDomain } from '../src/edge/domains.js';
import { createService, type ServiceInput } from '../src/edge/services.js';
import { createAdmin } from '../src/services/createAdmin.js';
import { enqueueExpiryScan } from '../src/expiry/enqueue-scan.js';
import { createNode, updateNode } from '../src/services/nodes.js';
import { addTemplates, createPool, discoverTemplates } from '../src/provisioning/settings.js';
import { nodeCreateSchema, nodeUpdateSchema } from '../src/routes/nodes.schema.js';

/**
 * What the demo gives each simulator machine when it imports it (by VMID): an owner among the demo's
 * logins, an expiry date relative to the first run (some past, some soon, some far), tags, purpose,
 * and for some a credential sealed in the vault. A machine not listed is imported for `admin`.
 */
const PLAN: Record<number, { owner: string; expiresInDays: number; tags: string; purpose: string; environment: string; credential?: { label: string; username: string } }> = {
  100: { owner: 'alice@pve', expiresInDays: 120, tags: 'web,prod', purpose: 'Team website (nginx)', environment: 'production' },
  101: { owner: 'bob@pve', expiresInDays: -12, tags: 'ci,build', purpose: 'CI build runner', environment: 'development' },
  102: {
    owner: 'alice@pve',
    expiresInDays: 6,
    tags: 'db,postgres',
    purpose: 'PostgreSQL for the team apps',
    environment: 'staging',
    credential: { label: 'postgres superuser', username: 'postgres' },
  },
  200: {
    owner: 'bob@pve',
    expiresInDays: 400,
    tags: 'windows,rdp',
    purpose: 'Windows test desktop',
    environment: 'testing',
    credential: { label: 'Local administrator', username: 'Administrator' },
  },
  201: { owner: 'admin', expiresInDays: -40, tags: 'legacy', purpose: 'Old app server, to be retired', environment: 'production' },
};

/** The demo's public domain, and the services it registers on imported containers (by VMID) so the edge config has something in it. */
const DEMO_DOMAIN = 'demo.berth.test';
const SERVICES: Record<number, ServiceInput[]> = {
  100: [
    { type: 'http', internalPort: 80, externalHostname: `web01.${DEMO_DOMAIN}` },
    { type: 'tcp', internalPort: 22 },
  ],
  102: [{ type: 'tcp', internalPort: 5432, tls: true }],
};

const ADMIN = 'admin';
const ADMIN_EMAIL = 'admin@example.org';
const rule = '═'.repeat(72);

const seedFile = fileURLToPath(new URL('../test/fixtures/pve-seed.json', import.meta.url));
const seed = loadSeedFile(seedFile);
const demo = loadDemoSettings();
const sim = await startPveSim({ seed, host: '127.0.0.1', port: demo.simPort, taskMs: 1500, ipDelayMs: 3000 });

const dataDir = path.resolve(demo.dataDir ?? path.join(projectRoot, 'data', 'demo'));
const logDir = path.join(dataDir, 'logs');
fs.mkdirSync(logDir, { recursive: true, mode: 0o700 });
const mail = await startMailCatcher({ dir: path.join(dataDir, 'mail'), onMail: (m) => console.log(formatMail(m)) });

const baseEnv: Record<string, string | undefined> = { ...demo.childEnv, DATA_DIR: dataDir, DATABASE_URL: `sqlite:${path.join(dataDir, 'berth.db')}`, PROXMOX_URL: sim.url };
const requested = loadConfig({ env: baseEnv, dotenv: true });
const port = requested.PORT === 0 ? await freePort(requested.HOST) : requested.PORT;
const berthUrl = requested.PUBLIC_URL ?? `http://${requested.HOST}:${port}`;
const env: Record<string, string | undefined> = {
  ...baseEnv,
  PORT: String(port),
  // Links in emails must point at the port the server really has.
  PUBLIC_URL: berthUrl,
  SMTP_HOST: mail.host,
  SMTP_PORT: String(mail.port),
  SMTP_SECURE: 'none',
  SMTP_USER: '',
  SMTP_PASSWORD: '',
  // /health/ready then also waits for the job runner's first heartbeat.
  READY_REQUIRES_RUNNER: 'true',
};
Object.assign(env, edgeSettings(env));
const config = loadConfig({ env, dotenv: true });
const setup = await prepareData(config, seed);

const children: Array<{ name: string; proc: ChildProcess }> = [];
let stopping = false;
for (const [name, entry] of [
  ['server', 'server.ts'],
  // The job runner runs sync jobs (and the demo's other jobs); it stops with the server.
  ['runner', 'job-runner.ts'],
] as const) {
  const proc = spawn(process.execPath, ['--import', 'tsx', path.join(projectRoot, entry)], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  relayLogs(name, proc);
  proc.on('exit', (code, signal) => {
    if (stopping) return;
    console.error(`The demo's ${name} stopped (${signal ?? `exit code ${code}`}); see ${path.join(logDir, `demo-${name}.log`)}. Stopping the demo.`);
    void shutdown(1);
  });
  children.push({ name, proc });
}
process.on('SIGINT', () => void shutdown(0));
process.on('SIGTERM', () => void shutdown(0));

// Asked on the listening address itself: PUBLIC_URL may name a proxy in front of it.
if (await waitUntilReady(`http://${config.HOST}:${port}/health/ready`, 180_000)) printBanner();
else if (!stopping) {
  console.error(`Berth was not ready (/health/ready) within 3 minutes; see ${logDir}.`);
  void shutdown(1);
}

/** Stops the children (and waits for them), then the catcher and the simulator. */
async function shutdown(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  await Promise.all(
    children.map(({ proc }) => {
      if (proc.exitCode !== null || proc.signalCode !== null) return undefined;
      const exited = new Promise((resolve) => proc.once('exit', resolve));
      // Its last log lines are read once its pipes close (soon after the exit, unless a grandchild holds them).
      const drained = new Promise((resolve) => proc.once('close', resolve));
      proc.kill('SIGTERM');
      return exited.then(() => Promise.race([drained, new Promise((resolve) => setTimeout(resolve, 2000))]));
    }),
  );
  await mail.close();
  await sim.close();
  process.exit(code);
}

/**
 * The demo's edge: a prefix for a local nginx (its own pid file, logs, temporary files and a
 * self-signed certificate, made with openssl once), and the EDGE_* settings that make Berth render
 * for it, with ports above 1024 so no root is needed. Berth writes these paths into nginx.conf, so
 * they must pass its path rule: a data directory whose path has spaces gets a prefix under /tmp.
 */
function edgeSettings(childEnv: Record<string, string | undefined>): Record<string, string> {
  const inData = path.join(dataDir, 'edge');
  const dir = isEdgePath(inData) ? inData : path.join('/tmp', `berth-demo-edge-${process.getuid?.() ?? 0}`);
  fs.mkdirSync(path.join(dir, 'conf'), { recursive: true, mode: 0o700 });
  fs.mkdirSync(path.join(dir, 'temp'), { recursive: true });
  const certificate = path.join(dir, 'edge.pem');
  const key = path.join(dir, 'edge.key');
  if (!fs.existsSync(certificate)) {
    try {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '3650', '-subj', `/CN=*.${DEMO_DOMAIN}`, '-keyout', key, '-out', certificate], { stdio: 'ignore' });
    } catch {
      console.error('openssl is not installed: the demo edge has no certificate, so a local nginx will refuse its config.');
    }
  }
  // What a local nginx starts with, before the first pull replaces it.
  const bootstrap = path.join(dir, 'conf', 'nginx.conf');
  if (!fs.existsSync(bootstrap)) fs.writeFileSync(bootstrap, `pid ${dir}/nginx.pid;\nerror_log ${dir}/error.log;\nevents {}\n`);
  const streamModule = '/usr/lib/nginx/modules/ngx_stream_module.so';
  return {
    EDGE_PID_FILE: path.join(dir, 'nginx.pid'),
    EDGE_ERROR_LOG: path.join(dir, 'error.log'),
    EDGE_ACCESS_LOG: path.join(dir, 'access.log'),
    EDGE_TEMP_DIR: path.join(dir, 'temp'),
    EDGE_CERTIFICATE: certificate,
    EDGE_CERTIFICATE_KEY: key,
    EDGE_LOAD_MODULE: childEnv.EDGE_LOAD_MODULE ?? (fs.existsSync(streamModule) ? streamModule : 'none'),
    EDGE_HTTP_PORT: childEnv.EDGE_HTTP_PORT ?? '18080',
    EDGE_HTTPS_PORT: childEnv.EDGE_HTTPS_PORT ?? '18443',
    EDGE_TCP_PORTS: childEnv.EDGE_TCP_PORTS ?? '21000-21999',
    EDGE_UDP_PORTS: childEnv.EDGE_UDP_PORTS ?? '31000-31999',
  };
}

/** A free TCP port on `host` (PORT=0): chosen before the server starts, so the URL in mails is right. */
function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, host, () => {
      const { port: free } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(free));
    });
  });
}

/**
 * The demo's data, each part created once (a second run over the same folder adds nothing): the
 * local admin, the simulator's nodes with its API token, and the simulator's machines imported into
 * the inventory through the same commands as the drift page, the record form and the vault.
 */
async function prepareData(config: Config, seed: Seed): Promise<{ adminPassword: string | null; inventory: string; edge: string }> {
  const logger = createLogger('warn');
  const db = await openDatabase(config);
  const auditor = Auditor.fromConfig(config, db.models, logger, 'audit-cli.log');
  const vault = Vault.fromConfig(config);
  // Berth itself sets the demo up (as the sync schedule does): no person is named in the audit trail.
  const cmd = { models: db.models, sequelize: db.sequelize, auditor, vault, config, logger, actor: { username: null } };
  try {
    // The admin's password is kept in the demo's folder so every run can print it again.
    const passwordFile = path.join(config.DATA_DIR, 'demo-admin-password');
    let adminPassword: string | null = fs.existsSync(passwordFile) ? fs.readFileSync(passwordFile, 'utf8').trim() : null;
    if (!(await db.models.User.findOne({ where: { username: ADMIN } }))) {
      adminPassword = crypto.randomBytes(12).toString('base64url');
      await createAdmin(db.models, { username: ADMIN, password: adminPassword, email: ADMIN_EMAIL, displayName: 'Demo admin' });
      fs.writeFileSync(passwordFile, `${adminPassword}\n`, { mode: 0o600 });
    }

    // The simulator's Proxmox users, known to Berth with the email addresses Proxmox has for them, so
    // expiry reminders and job-failure mails reach the catcher before they first log in.
    // Not the Proxmox admins: the sync would report their promotion on the console.
    for (const u of seed.users) {
      if (!u.email || u.groups.includes(config.PROXMOX_ADMIN_GROUP) || (await db.models.User.findOne({ where: { username: u.userid } }))) continue;
      const realm = u.userid.slice(u.userid.lastIndexOf('@') + 1);
      const displayName = [u.firstname, u.lastname].filter(Boolean).join(' ') || null;
      await db.models.User.create({ username: u.userid, realm, role: 'user', email: u.email, displayName, passwordHash: null, lastLoginAt: null });
    }

    // The simulator's nodes, registered with its API token (through the nodes page's commands), so
    // "Sync now" on the drift page works at once. The simulator answers on a new port each run, so a
    // second run points the nodes at it, giving the token again as a changed address requires.
    const token = seed.tokens?.[0];
    for (const node of seed.nodes) {
      const input = { name: node.name, apiUrl: sim.url, apiTokenId: token?.id ?? '', apiTokenSecret: token?.secret ?? '' };
      const existing = await db.models.Node.findOne({ where: { name: node.name } });
      if (!existing) await createNode(cmd, parseInput(nodeCreateSchema, input));
      else if (existing.apiUrl !== new URL(sim.url).origin) await updateNode(cmd, existing, parseInput(nodeUpdateSchema, input));
    }

    // Self-service containers: the templates the simulator's storages hold, offered on each node
    // under their suggested labels, and an IP pool on the first node (a subnet of its own, apart
    // from the simulator's DHCP range), set up once through the admin pages' commands.
    if (!(await db.models.ContainerTemplate.count())) {
      const { found } = await discoverTemplates(cmd);
      await addTemplates(cmd, found.map((f) => ({ nodeId: f.nodeId, volid: f.volid, osRelease: f.suggestedLabel })));
    }
    const firstNode = await db.models.Node.findOne({ where: { name: seed.nodes[0].name } });
    if (firstNode && !(await db.models.IpPool.count())) {
      await createPool(cmd, { nodeId: firstNode.id, bridge: 'vmbr0', cidr: '10.30.0.0/24', gateway: '10.30.0.1', rangeStart: '10.30.0.10', rangeEnd: '10.30.0.99' });
    }

    const report = await syncInventory({ models: db.models, sequelize: db.sequelize, vault, config }, { stderr: (text) => process.stderr.write(`sync: ${text}`) });
    let imported = 0;
    for (const snap of await db.models.MachineSnapshot.findAll({ order: [['vmid', 'ASC']] })) {
      const kind = KINDS.find((k) => k.proxmoxType === snap.kind)!;
      const node = await db.models.Node.findOne({ where: { name: snap.node } });
      if (!node || (await kind.model(db.models).findOne({ where: { nodeId: node.id, vmid: snap.vmid } }))) continue;
      const plan = PLAN[snap.vmid];
      try {
        const { record } = await importMachine(cmd, { kind: snap.kind as 'lxc' | 'qemu', node: snap.node, vmid: snap.vmid, username: plan?.owner ?? ADMIN });
        if (plan) {
          const expires = new Date(Date.now() + plan.expiresInDays * 86_400_000).toISOString().slice(0, 10);
          const fields = parseInput(updateSchema(kind), { expiresAt: expires, tags: plan.tags, purpose: plan.purpose, environment: plan.environment });
          await updateRecord(cmd, kind, record, fields);
          if (plan.credential) await addCredential(cmd, kind, record, { ...plan.credential, password: crypto.randomBytes(12).toString('base64url') });
        }
        imported++;
      } catch (err) {
        console.error(`Could not import ${snap.kind} ${snap.vmid} (${snap.name ?? 'unnamed'}): ${(err as Error).message}`);
      }
    }
    // The edge: a default domain users may claim names under, services on two containers (through
    // the same commands as the container page), an edge token kept in the edge's folder, and the
    // settings file bin/berth-edge-pull reads.
    if (!(await db.models.PublicDomain.findOne({ where: { name: DEMO_DOMAIN } }))) {
      const { domain } = await createDomain(cmd, { name: DEMO_DOMAIN, certificatePath: null, keyPath: null, userClaimable: true });
      await setDefaultDomain(cmd, domain);
    }
    for (const [vmid, services] of Object.entries(SERVICES)) {
      const container = await db.models.Container.findOne({ where: { vmid: Number(vmid) } });
      if (!container || (await db.models.Service.count({ where: { containerId: container.id } }))) continue;
      for (const input of services) await createService(cmd, container, input, { anyName: true, anyContainer: true });
    }
    const edgeDir = path.dirname(config.EDGE_PID_FILE);
    const tokenFile = path.join(edgeDir, 'edge-token');
    if (!fs.existsSync(tokenFile)) {
      const admin = (await db.models.User.findOne({ where: { username: ADMIN } }))!;
      const { token } = await createApiToken(cmd, { userId: admin.id, name: 'demo edge', scope: 'edge' });
      fs.writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
    }
    const nginx = ['/usr/sbin/nginx', '/usr/local/sbin/nginx'].find((f) => fs.existsSync(f)) ?? 'nginx';
    const envFile = path.join(edgeDir, 'berth-edge.env');
    fs.writeFileSync(
      envFile,
      [`BERTH_URL=${config.publicUrl}`, `BERTH_EDGE_TOKEN_FILE=${tokenFile}`, 'EDGE_NAME=demo-edge', `NGINX_CONF=${path.join(edgeDir, 'conf', 'nginx.conf')}`, `NGINX_BIN=${nginx}`, `NGINX_PREFIX=${edgeDir}/`, `STATE_DIR=${path.join(edgeDir, 'state')}`, ''].join('\n'),
      { mode: 0o600 },
    );
    // An expiry scan now (the schedule's is at EXPIRY_SCAN_TIME): the demo's machines that expire
    // within a week remind their owners, and the mails reach the catcher once the runner is up.
    // Run again on the same day, it finds every notice already sent.
    await db.sequelize.transaction((t) => enqueueExpiryScan({ models: db.models, auditor }, { username: null }, undefined, t));
    const edge = [
      `Edge: ${await db.models.Service.count()} services, ${config.publicUrl}/nginx.conf for edge tokens (admin page ${config.publicUrl}/admin/edge).`,
      `  A local nginx on ports ${config.EDGE_HTTP_PORT}/${config.EDGE_HTTPS_PORT} runs it, as a reverse-proxy host's cron would:`,
      `    ${nginx} -p ${edgeDir}/ -c ${path.join(edgeDir, 'conf', 'nginx.conf')}      # start it once`,
      `    bin/berth-edge-pull -c ${envFile} -v      # fetch, nginx -t, swap, reload, report (docs/edge.md)`,
      `  Edge token (scope edge, also in ${tokenFile}): ${fs.readFileSync(tokenFile, 'utf8').trim()}`,
    ].join('\n');
    const counts = await Promise.all(KINDS.map(async (k) => `${await k.model(db.models).count()} ${k.plural}`));
    const inventory = `${counts.join(', ')} in the inventory${imported ? ` (${imported} imported from the simulator just now)` : ''}; last sync saw ${report.machines} machines`;
    return { adminPassword, inventory, edge };
  } finally {
    await auditor.close();
    await db.close();
  }
}

/** Only warnings and errors of a child reach the console, one readable line each; every line goes to its log file. */
function relayLogs(name: string, proc: ChildProcess): void {
  const file = fs.createWriteStream(path.join(logDir, `demo-${name}.log`), { flags: 'a', mode: 0o600 });
  // 'close', not 'exit': it comes after the last line of both pipes has been read.
  proc.once('close', () => file.end());
  for (const [stream, out] of [
    [proc.stdout!, process.stdout],
    [proc.stderr!, process.stderr],
  ] as const) {
    readline.createInterface({ input: stream }).on('line', (line) => {
      file.write(`${line}\n`);
      const shown = readableLogLine(name, line);
      if (shown) out.write(`${shown}\n`);
    });
  }
}

function readableLogLine(name: string, line: string): string | null {
  let entry: { level?: unknown; time?: unknown; msg?: unknown; err?: { message?: string }; reason?: unknown } | null = null;
  try {
    entry = JSON.parse(line);
  } catch {
    /* not a log line: shown as it is */
  }
  if (!entry || typeof entry !== 'object' || typeof entry.level !== 'number') return line.trim() ? `[${name}] ${line}` : null;
  if (entry.level < 40) return null;
  const time = typeof entry.time === 'string' ? `${entry.time.slice(11, 19)} ` : '';
  const detail = entry.err?.message ?? (typeof entry.reason === 'string' ? entry.reason : '');
  return `${time}${entry.level >= 50 ? 'ERROR' : 'WARN'} [${name}] ${String(entry.msg ?? '')}${detail ? `: ${detail}` : ''}`;
}

/** Polls until the server answers ready (database and job runner); false if a child exits or time runs out. */
async function waitUntilReady(url: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !stopping) {
    try {
      if ((await fetch(url, { signal: AbortSignal.timeout(5000) })).ok) return true;
    } catch {
      /* not listening yet */
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return false;
}

/** The banner, printed last so the URL and the logins stay on screen. */
function printBanner(): void {
  const rows: Array<[string, string]> = [
    [`${ADMIN} / ${setup.adminPassword ?? '(the password printed at its first run)'}`, 'Berth admin, a local account (realm "Berth (local)")'],
    ...seed.users.map((u): [string, string] => [`${u.userid} / ${u.password ?? '(none)'}`, `Proxmox user, groups ${u.groups.join(',') || '-'}`]),
  ];
  const width = Math.max(...rows.map(([login]) => login.length));
  console.log(
    [
      rule,
      `Proxmox VE simulator: ${sim.url} (nodes ${seed.nodes.map((n) => n.name).join(', ')}, registered in Berth)`,
      `Inventory: ${setup.inventory}.`,
      `Self-service: log in as alice@pve and open ${berthUrl}/containers/new to create a container (templates and`,
      `  an IP pool on ${seed.nodes[0].name} are set up; admins change them at ${berthUrl}/admin/templates).`,
      setup.edge,
      `Mail: Berth sends to the demo's catcher (smtp://${mail.host}:${mail.port}); every mail is printed here`,
      `  and saved in ${mail.dir}. Try ${berthUrl}/register, approve it at ${berthUrl}/account-requests,`,
      '  then follow the set-password link printed here. Expiry reminders: a scan ran at start (see /admin/notifications);',
      `  to see the reminders of another day (here: five days on), run in another terminal:`,
      `  DATA_DIR=${dataDir} PUBLIC_URL=${berthUrl} bin/expiry-scan --at ${new Date(Date.now() + 5 * 86_400_000).toISOString().slice(0, 10)}T08:00:00Z`,
      `Logs: ${logDir} (warnings and errors are shown here). Data: ${dataDir} (delete it to start over).`,
      rule,
      `Berth is ready at ${berthUrl}   (Ctrl-C stops the demo)`,
      'Log in as (type Proxmox users as name@realm, as shown: the @realm picks the realm):',
      ...rows.map(([login, what]) => `  ${login.padEnd(width)}   ${what}`),
      rule,
    ].join('\n'),
  );
}
