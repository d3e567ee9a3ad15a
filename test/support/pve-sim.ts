/**
 * Start a Proxmox VE API simulator for a test. Use from beforeEach/afterEach (or inside one test):
 * the root afterEach hook fails a test that leaves a simulator open.
 *
 *   const s = await startSim();                       // seed: test/fixtures/pve-seed.json
 *   const client = createProxmoxClient(s.clientOptions());           // admin token
 *   const alice = createProxmoxClient(s.clientOptions(s.ticketAuth('alice@pve')));
 *   s.sim.failNextCreate(); s.sim.count('POST', '/nodes/pve1/lxc');  // faults and assertions
 *   await s.close();
 *
 * Defaults are fast: tasks take 30 ms, DHCP addresses appear 30 ms after start, 401s are not delayed.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ProxmoxClientOptions, TicketAuth, TokenAuth } from '../../src/lib/proxmox/index.js';
import { generateCertificates, PveSim, type SeedInput, type TestCertificates } from '../../tools/pve-sim/index.js';
import { Op } from 'sequelize';
import { testContext } from './context.js';
import { track } from './resources.js';

export const SEED_FILE = fileURLToPath(new URL('../fixtures/pve-seed.json', import.meta.url));

interface SeedCreds {
  users: Array<{ userid: string; password?: string; groups?: string[] }>;
  tokens: Array<{ id: string; secret: string }>;
}
const seedCreds = JSON.parse(readFileSync(SEED_FILE, 'utf8')) as SeedCreds;

/** `root@pam` / `rootpass123` from the sample seed. */
export const ROOT_LOGIN: TicketAuth = { type: 'ticket', username: 'root@pam', password: 'rootpass123' };
/** The sample seed's admin token `root@pam!berth` (privilege separation off). */
export const ADMIN_TOKEN: TokenAuth = {
  type: 'token', tokenId: 'root@pam!berth', secret: seedCreds.tokens.find((t) => t.id === 'root@pam!berth')!.secret,
};

export interface StartSimOptions {
  /** Seed object or JSON file path (default: the sample seed). */
  seed?: SeedInput | string;
  /** Task duration (default 30 ms). */
  taskMs?: number;
  /** Delay before a started DHCP container shows its IPv4 (default 30 ms). */
  ipDelayMs?: number;
  /** Delay before 401 answers (default 0). */
  authFailDelayMs?: number;
  /**
   * Serve HTTPS: `true` makes a fresh CA and certificate (removed on close); or pass certificates
   * made once with `makeCertificates()` from test/support/tls.ts (the caller cleans them up).
   */
  https?: boolean | TestCertificates;
}

export interface StartedSim {
  /** Base URL for `PROXMOX_URL` / `baseUrl`, e.g. `http://127.0.0.1:40123`. */
  url: string;
  sim: PveSim;
  /** Present with `https: true`: the CA to trust and the server fingerprint. */
  certs?: TestCertificates;
  /** Ticket credentials of a seed user (default root@pam), password taken from the seed. */
  ticketAuth(userid?: string): TicketAuth;
  /** Client options for this simulator: admin token by default, the sim's clock, its CA. */
  clientOptions(auth?: TicketAuth | TokenAuth): ProxmoxClientOptions;
  close(): Promise<void>;
}

/** Start a simulator on 127.0.0.1 with a random port. */
export async function startSim(opts: StartSimOptions = {}): Promise<StartedSim> {
  const seed = typeof opts.seed === 'string' || opts.seed === undefined
    ? (JSON.parse(readFileSync(opts.seed ?? SEED_FILE, 'utf8')) as SeedInput)
    : opts.seed;
  const ownCerts = opts.https === true;
  const certs = opts.https === true ? await generateCertificates() : opts.https || undefined;
  const sim = new PveSim({
    seed,
    taskMs: opts.taskMs ?? 30,
    ipDelayMs: opts.ipDelayMs ?? 30,
    authFailDelayMs: opts.authFailDelayMs ?? 0,
    tls: certs ? { key: certs.key, cert: certs.cert } : undefined,
  });
  const url = await sim.start();
  const close = track(`pve-sim ${url}`, async () => {
    await sim.close();
    if (ownCerts) await certs?.cleanup();
  });
  const users = (seed.users ?? []) as SeedCreds['users'];
  return {
    url,
    sim,
    certs,
    close,
    ticketAuth(userid = 'root@pam') {
      const u = users.find((x) => x.userid === userid);
      if (!u?.password) throw new Error(`seed has no password for ${userid}`);
      return { type: 'ticket', username: userid, password: u.password };
    },
    clientOptions(auth = ADMIN_TOKEN) {
      return {
        baseUrl: url,
        auth,
        timeoutMs: 5000,
        clock: () => sim.clock.now(),
        ...(certs ? { tls: { ca: certs.caCert } } : {}),
      };
    },
  };
}

/**
 * Mocha hooks that delete, after the suite, the Nodes it registered: they point at simulators that are
 * gone, and later syncs would try them.
 */
export function removeNodesRegisteredHere(): void {
  let lastNodeBefore = 0;
  before(async () => {
    lastNodeBefore = ((await testContext().db.models.Node.max('id')) as number | null) ?? 0;
  });
  after(async () => {
    await testContext().db.models.Node.destroy({ where: { id: { [Op.gt]: lastNodeBefore } } });
  });
}
