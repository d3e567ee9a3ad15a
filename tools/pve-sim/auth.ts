// Tickets, CSRF tokens and API tokens in the real formats: ticket `PVE:<userid>:<HEX8 time>::<sig>`,
// CSRF `<HEX8 time>:<base64 HMAC>`, both valid while -300 s < age < 7200 s on the simulator clock.
// Signatures are HMACs with a per-instance key; rotating the key expires every ticket at once.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { SimClock } from './clock.js';
import type { Principal } from './perms.js';
import type { SimState } from './state.js';
import { TOTP_STEP_S, totpAt } from './totp.js';

export const TICKET_LIFETIME_S = 7200;
const CLOCK_SKEW_S = 300;
/** proxmox-tfa's `totp_failure_limit`: TOTP locks after this many failures in a row. */
export const TOTP_FAILURE_LIMIT = 8;

/** The outcome of step 1 of a login: a full login, or a half ticket when a second factor is due. */
export type LoginOutcome = { userid: string; renewed: boolean; needTfa: boolean };

/** Per-user second-factor state: the last accepted TOTP step and the failures since. */
interface TfaState {
  lastStep: number;
  failures: number;
}

export type AuthResult = { ok: true; principal: Principal; via: 'ticket' | 'token' } | { ok: false; reason: string };

function hex8(sec: number): string {
  return sec.toString(16).toUpperCase().padStart(8, '0');
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export class SimAuth {
  private key = randomBytes(32);
  private readonly tfa = new Map<string, TfaState>();

  constructor(private readonly state: SimState, private readonly clock: SimClock) {}

  /** Invalidate every ticket and CSRF token issued so far. */
  expireAll(): void {
    this.key = randomBytes(32);
  }

  private sign(text: string): string {
    return createHmac('sha256', this.key).update(text).digest('base64');
  }

  private ageOk(hex: string): boolean {
    const age = this.clock.seconds() - parseInt(hex, 16);
    return age > -CLOCK_SKEW_S && age < TICKET_LIFETIME_S;
  }

  private userUsable(userid: string): boolean {
    const u = this.state.users.get(userid);
    if (!u || !u.enable) return false;
    if (u.expire && u.expire < this.clock.seconds()) return false;
    return this.state.realms.some((r) => r.realm === userid.split('@').pop());
  }

  /** Issue a ticket and CSRF token for a user. */
  issue(userid: string): { ticket: string; csrf: string } {
    const t = hex8(this.clock.seconds());
    const plain = `PVE:${userid}:${t}`;
    const ticket = `${plain}::${this.sign(plain)}`;
    const csrf = `${t}:${this.sign(`${t}:${userid}`).replace(/=+$/, '')}`;
    return { ticket, csrf };
  }

  /** The user a ticket belongs to, or null when forged, expired or the user is gone. */
  verifyTicket(ticket: string): string | null {
    const m = /^(PVE:([^:\s]+@[^:\s]+):([0-9A-F]{8}))::(.+)$/.exec(ticket);
    if (!m || !safeEqual(this.sign(m[1]), m[4]) || !this.ageOk(m[3])) return null;
    return this.userUsable(m[2]) ? m[2] : null;
  }

  verifyCsrf(token: string | undefined, userid: string): boolean {
    const m = /^([0-9A-F]{8}):(.+)$/.exec(token ?? '');
    return !!m && this.ageOk(m[1]) && safeEqual(this.sign(`${m[1]}:${userid}`).replace(/=+$/, ''), m[2]);
  }

  /**
   * POST /access/ticket step 1: `password` is the password or a valid ticket of the same user
   * (renewal, which never asks for the second factor again). `realm` is appended with `@`, so
   * `root@pam` plus `realm=pam` fails, as on a real node. A right password of a user with TOTP
   * gives `needTfa`: the answer is then a half ticket (see `halfTicket`), not a login.
   */
  login(username: string, password: string, realm?: string, otp?: string): LoginOutcome | null {
    const userid = realm ? `${username}@${realm}` : username;
    if (!this.userUsable(userid)) return null;
    if (password.startsWith('PVE:') && this.verifyTicket(password) === userid) return { userid, renewed: true, needTfa: false };
    const user = this.state.users.get(userid);
    const pw = user?.password;
    if (pw === undefined || !safeEqual(pw, password)) return null;
    // The older one-request style: `otp` fails for a user without TFA (`no such challenge`); for a
    // TOTP user it is checked and used up, yet the answer is still the half ticket.
    if (otp !== undefined && (!user?.totp || !this.checkTotp(userid, user.totp, otp))) return null;
    return { userid, renewed: false, needTfa: Boolean(user?.totp) };
  }

  /**
   * The half ticket of step 1: `PVE:!tfa!<challenge JSON with ':' as %3A>:<HEX8>::<sig>`, signed
   * together with the user id so it works only for that user, and refused as a cookie.
   */
  halfTicket(userid: string): { ticket: string; csrf: string } {
    const t = hex8(this.clock.seconds());
    const challenge = JSON.stringify({ totp: true }).replace(/:/g, '%3A');
    const plain = `PVE:!tfa!${challenge}:${t}`;
    return { ticket: `${plain}::${this.sign(`${plain}${userid}`)}`, csrf: `${t}:${this.sign(`${t}:${userid}`).replace(/=+$/, '')}` };
  }

  /**
   * POST /access/ticket step 2 (`tfa-challenge` set): the half ticket of the same user, not
   * expired, and `password=totp:<code>`. Null for every failure, as a real node answers them all
   * with the same 401.
   */
  secondFactor(username: string, challenge: string, password: string, realm?: string, otp?: string): string | null {
    const userid = realm ? `${username}@${realm}` : username;
    if (otp !== undefined || !this.userUsable(userid)) return null;
    const m = /^(PVE:!tfa!.*:([0-9A-F]{8}))::(.+)$/.exec(challenge);
    if (!m || !safeEqual(this.sign(`${m[1]}${userid}`), m[3]) || !this.ageOk(m[2])) return null;
    const secret = this.state.users.get(userid)?.totp;
    if (!secret || !password.startsWith('totp:')) return null;
    return this.checkTotp(userid, secret, password.slice('totp:'.length)) ? userid : null;
  }

  /** Previous, current or next step, never a step at or before the last accepted one; 8 failures lock. */
  private checkTotp(userid: string, secret: string, code: string): boolean {
    const st = this.tfa.get(userid) ?? { lastStep: -1, failures: 0 };
    this.tfa.set(userid, st);
    if (st.failures >= TOTP_FAILURE_LIMIT) return false;
    const now = Math.floor(this.clock.seconds() / TOTP_STEP_S);
    const step = [now - 1, now, now + 1].find((s) => s > st.lastStep && safeEqual(totpAt(secret, s), code));
    if (step === undefined) {
      st.failures++;
      return false;
    }
    st.lastStep = step;
    st.failures = 0;
    return true;
  }

  /**
   * Authenticate an API request from its Cookie / Authorization headers. The reason phrases are
   * those of pve-manager >= 9.1.5.
   */
  authenticate(cookie: string | undefined, authorization: string | undefined): AuthResult {
    const fromCookie = /(?:^|;\s*)PVEAuthCookie=([^;]*)/.exec(cookie ?? '')?.[1];
    const auth = authorization?.trim() ?? '';
    if (fromCookie !== undefined || auth.startsWith('PVEAuthCookie=')) {
      let raw = fromCookie ?? auth.slice('PVEAuthCookie='.length);
      try { raw = decodeURIComponent(raw); } catch { /* keep raw */ }
      const userid = this.verifyTicket(raw);
      return userid ? { ok: true, principal: { userid }, via: 'ticket' } : { ok: false, reason: 'Authentication failed!' };
    }
    let tok: string | undefined;
    if (auth.startsWith('PVEAPIToken=')) tok = auth.slice('PVEAPIToken='.length);
    else if (auth.startsWith('PVEAPIToken ')) {
      try { tok = decodeURIComponent(auth.slice('PVEAPIToken '.length)); } catch { tok = ''; }
    }
    if (tok === undefined) return { ok: false, reason: 'No ticket' };
    const m = /^([^=\s]+@[^=\s!]+![^=\s]+)=(.+)$/.exec(tok);
    const rec = m ? this.state.tokens.get(m[1]) : undefined;
    if (!m || !rec || !safeEqual(rec.secret, m[2].toLowerCase())) return { ok: false, reason: 'Authentication failed!' };
    const userid = m[1].split('!')[0];
    if (!this.userUsable(userid) || (rec.expire && rec.expire < this.clock.seconds())) {
      return { ok: false, reason: 'Authentication failed!' };
    }
    return { ok: true, principal: { userid, tokenid: m[1] }, via: 'token' };
  }
}
