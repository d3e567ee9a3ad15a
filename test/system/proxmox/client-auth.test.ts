// The client's authentication against the simulator: ticket login, API tokens, ticket renewal on
// the simulated clock, recovery from a ticket the node stopped accepting, and the simulator's
// 401/CSRF behaviour that the client relies on.
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { fetch } from 'undici';
import {
  authenticateUser, createProxmoxClient, listRealms, ProxmoxAuthError, ProxmoxPermissionError, ProxmoxTfaRequiredError,
  TICKET_LIFETIME_MS, type ProxmoxClient,
} from '../../../src/lib/proxmox/index.js';
import { totpCode, type SeedInput } from '../../../tools/pve-sim/index.js';
import { ADMIN_TOKEN, SEED_FILE, startSim, type StartedSim } from '../../support/pve-sim.js';

/** The sample seed plus dave@pve, who has a TOTP second factor. */
const TOTP_SECRET = 'JBSWY3DPEHPK3PXP';
function seedWithTfaUser(): SeedInput {
  const seed = JSON.parse(readFileSync(SEED_FILE, 'utf8')) as { users: object[] };
  seed.users.push({ userid: 'dave@pve', password: 'davepass123', groups: ['developers'], totp: TOTP_SECRET });
  return seed as SeedInput;
}

describe('proxmox client authentication', () => {
  let s: StartedSim;
  const clients: ProxmoxClient[] = [];
  const client = (opts: Parameters<typeof createProxmoxClient>[0]) => {
    const c = createProxmoxClient(opts);
    clients.push(c);
    return c;
  };

  beforeEach(async () => { s = await startSim(); });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await s.close();
  });

  it('logs in with user@realm and password and reports the user and capabilities', async () => {
    const c = client(s.clientOptions(s.ticketAuth('root@pam')));
    const res = await c.login();
    expect(res.username).to.equal('root@pam');
    expect(res.clustername).to.equal('berth-lab');
    expect(res.cap?.vms['VM.Allocate']).to.equal(1);
    expect((await c.cluster.version()).release).to.equal('9.1');
  });

  it('rejects a bad password with ProxmoxAuthError and a message without the password', async () => {
    const c = client(s.clientOptions({ type: 'ticket', username: 'alice@pve', password: 'wrong-secret' }));
    const err = await c.login().catch((e: unknown) => e);
    expect(err).to.be.instanceOf(ProxmoxAuthError);
    expect((err as ProxmoxAuthError).status).to.equal(401);
    expect((err as Error).message).to.equal('Proxmox login failed for alice@pve: authentication failure');
    expect((err as Error).message).not.to.include('wrong-secret');
  });

  it('rejects the right password in the wrong realm', async () => {
    const c = client(s.clientOptions({ type: 'ticket', username: 'alice@pam', password: 'alicepass123' }));
    const err = await c.cluster.nodes().catch((e: unknown) => e);
    expect(err).to.be.instanceOf(ProxmoxAuthError);
    expect(s.sim.logins).to.deep.equal([{ username: 'alice@pam', ok: false, renewal: false }]);
  });

  it('authenticateUser joins the realm and returns the groups of the user', async () => {
    const res = await authenticateUser({ baseUrl: s.url }, { username: 'alice', realm: 'pve', password: 'alicepass123' });
    expect(res).to.deep.equal({ username: 'alice@pve', groups: ['developers'] });
    const root = await authenticateUser({ baseUrl: s.url }, { username: 'root@pam', password: 'rootpass123' });
    expect(root.groups).to.deep.equal(['administrators']);
  });

  it('lists realms without credentials, for the login form', async () => {
    const realms = await listRealms({ baseUrl: s.url, timeoutMs: 2000 });
    expect(realms.map((r) => [r.realm, r.type, r.default])).to.deep.equal([['pam', 'pam', undefined], ['pve', 'pve', 1]]);
    expect(s.sim.requests.map((r) => [r.path, r.user, r.status])).to.deep.equal([['/access/domains', undefined, 200]]);
  });

  it('works with an API token and sends no CSRF token', async () => {
    const c = client(s.clientOptions(ADMIN_TOKEN));
    expect(await c.login()).to.deep.equal({ username: 'root@pam' });
    const upid = await c.containers.start('pve1', 101);
    expect(upid).to.match(/^UPID:pve1:[0-9A-F]{8}:[0-9A-F]{8,9}:[0-9A-F]{8}:vzstart:101:root@pam!berth:$/);
    expect(s.sim.logins).to.have.length(0);
  });

  it('rejects an unknown token secret', async () => {
    const c = client(s.clientOptions({ type: 'token', tokenId: 'root@pam!berth', secret: '00000000-0000-4000-8000-000000000000' }));
    const err = await c.cluster.nodes().catch((e: unknown) => e);
    expect(err).to.be.instanceOf(ProxmoxAuthError);
    expect((err as ProxmoxAuthError).reason).to.equal('Authentication failed!');
  });

  it('refuses malformed token ids and secrets before sending anything', () => {
    expect(() => createProxmoxClient({ baseUrl: s.url, auth: { type: 'token', tokenId: 'root@pam', secret: ADMIN_TOKEN.secret } })).to.throw(TypeError);
    expect(() => createProxmoxClient({ baseUrl: s.url, auth: { type: 'token', tokenId: 'root@pam!x', secret: 'nope' } })).to.throw(TypeError);
  });

  it('renews the ticket with the ticket itself once it is an hour old', async () => {
    const c = client(s.clientOptions(s.ticketAuth('alice@pve')));
    await c.access.users();
    s.sim.clock.advance(61 * 60 * 1000);
    const users = await c.access.users();
    expect(users.map((u) => u.userid)).to.deep.equal(['alice@pve']);
    expect(s.sim.logins).to.deep.equal([
      { username: 'alice@pve', ok: true, renewal: false },
      { username: 'alice@pve', ok: true, renewal: true },
    ]);
  });

  it('logs in again with the password when the ticket has expired on the clock', async () => {
    const c = client(s.clientOptions(s.ticketAuth('bob@pve')));
    await c.cluster.version();
    s.sim.clock.advance(TICKET_LIFETIME_MS + 60_000);
    await c.cluster.version();
    expect(s.sim.logins.map((l) => l.renewal)).to.deep.equal([false, false]);
    expect(s.sim.count('GET', '/version')).to.equal(2);
  });

  it('recovers once from a ticket the node stopped accepting (401 Authentication failed!)', async () => {
    const c = client(s.clientOptions(s.ticketAuth('root@pam')));
    await c.cluster.version();
    s.sim.expireTickets();
    const upid = await c.containers.start('pve1', 101);
    expect(upid).to.include(':vzstart:101:root@pam:');
    expect(s.sim.requests.filter((r) => r.path === '/nodes/pve1/lxc/101/status/start').map((r) => r.status)).to.deep.equal([401, 200]);
    expect(s.sim.logins).to.have.length(2);
  });

  it('maps a missing privilege to ProxmoxPermissionError with the path in the reason', async () => {
    const c = client(s.clientOptions(s.ticketAuth('alice@pve')));
    const err = await c.containers.start('pve1', 101).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(ProxmoxPermissionError);
    expect((err as ProxmoxPermissionError).status).to.equal(403);
    expect((err as Error).message).to.equal('Permission check failed (/vms/101, VM.PowerMgmt)');
  });

  describe('simulator 401 and CSRF rules', () => {
    it('answers a request without credentials with an empty 401 "No ticket" and no content type', async () => {
      const res = await fetch(`${s.url}/api2/json/nodes`);
      expect(res.status).to.equal(401);
      expect(res.statusText).to.equal('No ticket');
      expect(res.headers.get('content-type')).to.equal(null);
      expect(await res.text()).to.equal('');
    });

    it('delays 401 answers when configured', async () => {
      s.sim.setTiming({ authFailDelayMs: 150 });
      const t0 = Date.now();
      const res = await fetch(`${s.url}/api2/json/nodes`, { headers: { Cookie: 'PVEAuthCookie=PVE:root@pam:00000000::forged' } });
      expect(res.status).to.equal(401);
      expect(res.statusText).to.equal('Authentication failed!');
      expect(Date.now() - t0).to.be.at.least(140);
    });

    it('requires the CSRF token for ticket-authenticated writes but not for reads', async () => {
      const login = await fetch(`${s.url}/api2/json/access/ticket`, { method: 'POST', body: new URLSearchParams({ username: 'root@pam', password: 'rootpass123' }) });
      const { data } = (await login.json()) as { data: { ticket: string; CSRFPreventionToken: string } };
      const cookie = `PVEAuthCookie=${encodeURIComponent(data.ticket)}`;
      expect((await fetch(`${s.url}/api2/json/nodes`, { headers: { Cookie: cookie } })).status).to.equal(200);
      const noCsrf = await fetch(`${s.url}/api2/json/nodes/pve1/lxc/101/status/start`, { method: 'POST', headers: { Cookie: cookie } });
      expect(noCsrf.status).to.equal(401);
      expect(noCsrf.statusText).to.equal('Permission denied - invalid csrf token');
      const ok = await fetch(`${s.url}/api2/json/nodes/pve1/lxc/101/status/start`, {
        method: 'POST', headers: { Cookie: `PVEAuthCookie=${data.ticket}`, CSRFPreventionToken: data.CSRFPreventionToken },
      });
      expect(ok.status).to.equal(200);
    });

    it('refuses API tokens on POST /access/ticket (allowtoken 0)', async () => {
      const res = await fetch(`${s.url}/api2/json/access/ticket`, {
        method: 'POST', headers: { Authorization: `PVEAPIToken=${ADMIN_TOKEN.tokenId}=${ADMIN_TOKEN.secret}` },
        body: new URLSearchParams({ username: 'root@pam', password: 'rootpass123' }),
      });
      expect(res.status).to.equal(403);
      expect(res.statusText).to.equal("URI '/access/ticket' not available with API token, need proper ticket.");
    });

    it('serves the realm list without authentication', async () => {
      const res = await fetch(`${s.url}/api2/json/access/domains`);
      expect(res.status).to.equal(200);
      expect(((await res.json()) as { data: Array<{ realm: string }> }).data.map((r) => r.realm)).to.deep.equal(['pam', 'pve']);
    });
  });

  describe('two-factor (TOTP) users', () => {
    let t: StartedSim;
    beforeEach(async () => { t = await startSim({ seed: seedWithTfaUser() }); });
    afterEach(async () => { await t.close(); });

    const ticketPost = async (form: Record<string, string>) => {
      const res = await fetch(`${t.url}/api2/json/access/ticket`, { method: 'POST', body: new URLSearchParams(form) });
      return { status: res.status, body: (await res.json()) as { data: Record<string, unknown> | null } };
    };
    const version = async (ticket: string) =>
      (await fetch(`${t.url}/api2/json/version`, { headers: { Cookie: `PVEAuthCookie=${encodeURIComponent(ticket)}` } }));

    it('never takes the half ticket of a NeedTFA answer as a login', async () => {
      const c = client(t.clientOptions({ type: 'ticket', username: 'dave@pve', password: 'davepass123' }));
      const err = await c.login().catch((e: unknown) => e);
      expect(err).to.be.instanceOf(ProxmoxTfaRequiredError);
      expect(err).to.be.instanceOf(ProxmoxAuthError);
      expect((err as Error).message).to.include('two-factor login is required');
      const call = await c.cluster.nodes().catch((e: unknown) => e);
      expect(call).to.be.instanceOf(ProxmoxTfaRequiredError);
      // No API call was ever sent with the half ticket.
      expect(t.sim.requests.filter((r) => r.path !== '/access/ticket')).to.deep.equal([]);
      const viaLogin = await authenticateUser({ baseUrl: t.url }, { username: 'dave', realm: 'pve', password: 'davepass123' }).catch((e: unknown) => e);
      expect(viaLogin).to.be.instanceOf(ProxmoxTfaRequiredError);
      const wrong = await authenticateUser({ baseUrl: t.url }, { username: 'dave@pve', password: 'nope' }).catch((e: unknown) => e);
      expect(wrong).to.be.instanceOf(ProxmoxAuthError);
      expect(wrong).not.to.be.instanceOf(ProxmoxTfaRequiredError);
    });

    it('simulator step 1 answers a half ticket with NeedTFA and no cap, refused as a cookie', async () => {
      const step1 = await ticketPost({ username: 'dave@pve', password: 'davepass123' });
      expect(step1.status).to.equal(200);
      const data = step1.body.data!;
      expect(data).to.include({ username: 'dave@pve', NeedTFA: 1 });
      expect(data).not.to.have.property('cap');
      expect(data.ticket).to.match(/^PVE:!tfa!\{"totp"%3Atrue\}:[0-9A-F]{8}::.+$/);
      expect(data.CSRFPreventionToken).to.match(/^[0-9A-F]{8}:.+$/);
      const challenge = JSON.parse(decodeURIComponent((data.ticket as string).split(':')[1].slice('!tfa!'.length)));
      expect(challenge).to.deep.equal({ totp: true });
      const refused = await version(data.ticket as string);
      expect([refused.status, refused.statusText]).to.deep.equal([401, 'Authentication failed!']);
      expect(t.sim.logins).to.deep.equal([{ username: 'dave@pve', ok: true, renewal: false, tfa: 'challenge' }]);
      // A user without a second factor still gets a full login, and `otp` makes it fail.
      expect((await ticketPost({ username: 'bob@pve', password: 'bobpass123' })).body.data).to.have.property('cap');
      expect((await ticketPost({ username: 'bob@pve', password: 'bobpass123', otp: '123456' })).status).to.equal(401);
    });

    it('simulator step 2 takes tfa-challenge and totp:<code>, refuses reuse, other users and otp, locks after 8 failures', async () => {
      const half = (await ticketPost({ username: 'dave@pve', password: 'davepass123' })).body.data!.ticket as string;
      const now = () => t.sim.clock.seconds();
      const code = totpCode(TOTP_SECRET, now());
      const wrongCode = code === '000000' ? '000001' : '000000';
      expect((await ticketPost({ username: 'dave@pve', 'tfa-challenge': half, password: `totp:${wrongCode}` })).status).to.equal(401);
      expect((await ticketPost({ username: 'dave@pve', 'tfa-challenge': half, password: code })).status).to.equal(401);
      expect((await ticketPost({ username: 'dave@pve', 'tfa-challenge': half, password: 'x', otp: `totp:${code}` })).status).to.equal(401);
      expect((await ticketPost({ username: 'bob@pve', 'tfa-challenge': half, password: `totp:${code}` })).status).to.equal(401);
      const ok = await ticketPost({ username: 'dave@pve', 'tfa-challenge': half, password: `totp:${code}` });
      expect(ok.status).to.equal(200);
      expect(ok.body.data).to.include({ username: 'dave@pve' }).and.to.have.property('cap');
      expect(ok.body.data).not.to.have.property('NeedTFA');
      expect(ok.body.data!.ticket).to.match(/^PVE:dave@pve:[0-9A-F]{8}::/);
      expect((await version(ok.body.data!.ticket as string)).status).to.equal(200);
      // Renewal with the full ticket needs no second factor.
      const renewed = await ticketPost({ username: 'dave@pve', password: ok.body.data!.ticket as string });
      expect(renewed.body.data).to.have.property('cap');
      expect((await ticketPost({ username: 'dave@pve', 'tfa-challenge': half, password: `totp:${code}` })).status, 'reused code').to.equal(401);
      for (let i = 0; i < 8; i++) {
        expect((await ticketPost({ username: 'dave@pve', 'tfa-challenge': half, password: `totp:${wrongCode}` })).status).to.equal(401);
      }
      const next = totpCode(TOTP_SECRET, now() + 30);
      expect((await ticketPost({ username: 'dave@pve', 'tfa-challenge': half, password: `totp:${next}` })).status, 'locked').to.equal(401);
    });
  });
});
