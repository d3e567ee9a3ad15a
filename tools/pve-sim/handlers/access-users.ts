// POST /access/users (README §9.4, pve-access-control API2/User.pm `create_user`): a new user
// with no ACLs, so no privileges. A password is stored for `pve` users, who can then log in; the
// other realm types refuse it as a real node does. Every refusal is a 500 "create user failed: …".
import { die } from '../errors.js';
import { flag, int, str, who, type Ctx, type Handler } from '../core.js';
import { splitList } from '../formats.js';
import type { SimState } from '../state.js';

/** Groups the cluster knows: user.cfg has `group:` lines; the seed names groups through members and ACLs. */
function knownGroups(state: SimState): Set<string> {
  const groups = new Set<string>();
  for (const u of state.users.values()) for (const g of u.groups) groups.add(g);
  for (const a of state.acl) if (a.group) groups.add(a.group);
  return groups;
}

/**
 * The schema's `userid-param` and `userid-group` checks, which the generic evaluator skips:
 * Realm.AllocateUser on the realm, and User.Modify on each group given (or on /access/groups).
 */
function checkCreatePermission(ctx: Ctx, realm: string, groups: string[]): void {
  const { perms } = ctx.core;
  const me = who(ctx);
  perms.require(me, `/access/realm/${realm}`, 'Realm.AllocateUser');
  if (!groups.length) return perms.require(me, '/access/groups', 'User.Modify');
  for (const g of groups) perms.require(me, `/access/groups/${g}`, 'User.Modify');
}

/** domain_set_password: what each realm type does with an initial password. */
function passwordRefusal(state: SimState, realm: string, name: string): string | null {
  const type = state.realms.find((r) => r.realm === realm)?.type;
  if (type === undefined) return `auth domain '${realm}' does not exist`;
  if (type === 'pve') return null;
  // PAM sets the password of the Linux account with usermod; the simulated node has no such account.
  if (type === 'pam') return `change password failed: command 'usermod -p '$y$j9T$...' ${name}' failed: exit code 6`;
  return `can't set password on auth type '${type}'`;
}

function createUser(ctx: Ctx): unknown {
  const { state } = ctx.core;
  const userid = str(ctx, 'userid')!;
  const at = userid.lastIndexOf('@');
  const name = userid.slice(0, at);
  const realm = userid.slice(at + 1);
  const groups = splitList(str(ctx, 'groups') ?? '');
  checkCreatePermission(ctx, realm, groups);
  const failed = (reason: string) => die(`create user failed: ${reason}`);
  if (state.users.has(userid)) throw failed(`user '${userid}' already exists`);
  const password = str(ctx, 'password');
  if (password !== undefined) {
    const refusal = passwordRefusal(state, realm, name);
    if (refusal) throw failed(refusal);
  }
  const known = knownGroups(state);
  const missing = groups.find((g) => !known.has(g));
  if (missing !== undefined) throw failed(`no such group '${missing}'`);
  state.users.set(userid, {
    userid, password, groups: [...new Set(groups)], enable: flag(ctx, 'enable') ?? true, expire: int(ctx, 'expire') ?? 0,
    firstname: str(ctx, 'firstname'), lastname: str(ctx, 'lastname'), email: str(ctx, 'email'), comment: str(ctx, 'comment'),
  });
  return null;
}

export const accessUserHandlers: Record<string, Handler> = {
  'POST /access/users': createUser,
};
