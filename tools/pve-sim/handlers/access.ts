// /access: login (tickets), realms and users.
import { SimHttpError } from '../errors.js';
import { flag, str, who, type Ctx, type Handler } from '../core.js';

/**
 * POST /access/ticket: password or ticket (renewal) login; for a user with TOTP, step 1 answers a
 * half ticket with `NeedTFA: 1` and no `cap`, and step 2 (`tfa-challenge` + `password=totp:<code>`)
 * the full login. Every failure is the same 401 with a JSON body.
 */
function createTicket(ctx: Ctx): unknown {
  const { core } = ctx;
  const username = str(ctx, 'username')!;
  const password = str(ctx, 'password')!;
  const challenge = str(ctx, 'tfa-challenge');
  const realm = str(ctx, 'realm');
  const otp = str(ctx, 'otp');
  if (challenge !== undefined) {
    const userid = core.auth.secondFactor(username, challenge, password, realm, otp);
    core.logins.push({ username, ok: !!userid, renewal: false, tfa: 'response' });
    if (!userid) throw new SimHttpError(401, 'authentication failure\n');
    return fullLogin(ctx, userid);
  }
  const res = core.auth.login(username, password, realm, otp);
  core.logins.push({ username, ok: !!res, renewal: password.startsWith('PVE:'), ...(res?.needTfa ? { tfa: 'challenge' as const } : {}) });
  if (!res) throw new SimHttpError(401, 'authentication failure\n');
  if (res.needTfa) {
    const { ticket, csrf } = core.auth.halfTicket(res.userid);
    const data: Record<string, unknown> = { username: res.userid, ticket, CSRFPreventionToken: csrf, NeedTFA: 1 };
    if (core.seed.clusterName && core.perms.has({ userid: res.userid }, '/', 'Sys.Audit')) data.clustername = core.seed.clusterName;
    return data;
  }
  return fullLogin(ctx, res.userid);
}

function fullLogin(ctx: Ctx, userid: string): Record<string, unknown> {
  const { core } = ctx;
  const { ticket, csrf } = core.auth.issue(userid);
  const data: Record<string, unknown> = {
    username: userid,
    ticket,
    CSRFPreventionToken: csrf,
    cap: core.perms.capabilities({ userid }),
  };
  if (core.seed.clusterName && core.perms.has({ userid }, '/', 'Sys.Audit')) data.clustername = core.seed.clusterName;
  return data;
}

/** GET /access/users: everyone with User.Modify or Sys.Audit on /access/groups, else only yourself. */
function listUsers(ctx: Ctx): unknown {
  const { state, perms } = ctx.core;
  const me = who(ctx);
  const seeAll = perms.has(me, '/access/groups', 'User.Modify') || perms.has(me, '/access/groups', 'Sys.Audit');
  const full = flag(ctx, 'full') ?? false;
  const enabledOnly = flag(ctx, 'enabled');
  return [...state.users.values()]
    .filter((u) => seeAll || u.userid === me.userid)
    .filter((u) => enabledOnly === undefined || !enabledOnly || u.enable)
    .map((u) => {
      const realm = u.userid.split('@').pop()!;
      const row: Record<string, unknown> = {
        userid: u.userid, enable: u.enable ? 1 : 0, expire: u.expire,
        'realm-type': state.realms.find((r) => r.realm === realm)?.type ?? realm,
      };
      for (const k of ['firstname', 'lastname', 'email', 'comment'] as const) if (u[k] !== undefined) row[k] = u[k];
      if (u.groups.length) row.groups = u.groups.join(',');
      if (full) {
        row.tokens = [...state.tokens.values()].filter((t) => t.id.startsWith(`${u.userid}!`)).map((t) => ({
          tokenid: t.id.split('!')[1], expire: t.expire, privsep: t.privsep ? 1 : 0, ...(t.comment ? { comment: t.comment } : {}),
        }));
      }
      return row;
    });
}

export const accessHandlers: Record<string, Handler> = {
  'GET /access/ticket': () => null,
  'POST /access/ticket': createTicket,
  'GET /access/domains': (ctx) => ctx.core.state.realms.map((r) => ({ ...r })),
  'GET /access/users': listUsers,
};
