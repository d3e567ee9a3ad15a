// A small model of Proxmox's ACLs: roles are privilege sets, ACL entries grant a role to a user,
// group or token on a path, and the most specific path with entries wins (PVE's propagation).
// root@pam has every privilege; a token with privilege separation gets its own ACLs intersected
// with its user's. The schema's `permissions.check` arrays are evaluated as PVE does.
import { permError } from './errors.js';
import type { SimState } from './state.js';

export const ALL_PRIVS = [
  'VM.Allocate', 'VM.Audit', 'VM.Backup', 'VM.Clone', 'VM.Config.CDROM', 'VM.Config.CPU', 'VM.Config.Cloudinit',
  'VM.Config.Disk', 'VM.Config.HWType', 'VM.Config.Memory', 'VM.Config.Network', 'VM.Config.Options', 'VM.Console',
  'VM.Migrate', 'VM.PowerMgmt', 'VM.Snapshot', 'VM.GuestAgent.Audit', 'VM.GuestAgent.Unrestricted',
  'Datastore.Allocate', 'Datastore.AllocateSpace', 'Datastore.AllocateTemplate', 'Datastore.Audit',
  'Sys.Audit', 'Sys.Console', 'Sys.Modify', 'Sys.PowerMgmt', 'Sys.Syslog', 'User.Modify', 'Group.Allocate',
  'Realm.Allocate', 'Realm.AllocateUser', 'Permissions.Modify', 'Pool.Allocate', 'Pool.Audit', 'SDN.Audit', 'SDN.Use', 'Mapping.Audit',
] as const;

const ROLES: Record<string, readonly string[]> = {
  Administrator: ALL_PRIVS,
  PVEAuditor: ALL_PRIVS.filter((p) => p.endsWith('.Audit')),
  PVEVMAdmin: ALL_PRIVS.filter((p) => p.startsWith('VM.')).concat(['Pool.Audit', 'SDN.Use']),
  PVEVMUser: ['VM.Audit', 'VM.Console', 'VM.PowerMgmt', 'VM.Backup', 'VM.Config.CDROM', 'VM.Config.Cloudinit', 'Pool.Audit'],
  PVEDatastoreUser: ['Datastore.AllocateSpace', 'Datastore.Audit'],
  NoAccess: [],
};

/** Who made a request: a user (ticket) or a user's API token. */
export interface Principal {
  userid: string;
  /** Full token id `user@realm!name` for token requests. */
  tokenid?: string;
}

function prefixes(path: string): string[] {
  const parts = path.split('/').filter(Boolean);
  return ['/', ...parts.map((_, i) => `/${parts.slice(0, i + 1).join('/')}`)];
}

export class Perms {
  constructor(private readonly state: SimState) {}

  /** Privileges from the most specific level with entries; each maps to whether it propagates below `path`. */
  private privsFor(match: (a: SimState['acl'][number]) => boolean, path: string): Map<string, boolean> {
    let privs = new Map<string, boolean>();
    for (const p of prefixes(path)) {
      const entries = this.state.acl.filter((a) => a.path.replace(/\/+$/, '') === (p === '/' ? '' : p) && match(a) && (a.propagate || p === path));
      if (!entries.length) continue;
      // At one level, entries for the user themselves override group entries.
      const direct = entries.filter((a) => a.user || a.token);
      privs = new Map();
      for (const a of direct.length ? direct : entries) {
        for (const priv of ROLES[a.role] ?? []) privs.set(priv, privs.get(priv) === true || a.propagate);
      }
    }
    return privs;
  }

  /**
   * Effective privileges of a principal on an ACL path, each with whether it comes from an ACL that
   * propagates (GET /access/permissions shows that as 1, an exact-path-only privilege as 0).
   */
  privilegeMap(who: Principal, path: string): Map<string, boolean> {
    const user = this.state.users.get(who.userid);
    if (!user || !user.enable) return new Map();
    const userPrivs = who.userid === 'root@pam'
      ? new Map(ALL_PRIVS.map((p) => [p, true]))
      : this.privsFor((a) => a.user === who.userid || (!!a.group && user.groups.includes(a.group)), path);
    if (!who.tokenid) return userPrivs;
    const token = this.state.tokens.get(who.tokenid);
    if (!token) return new Map();
    if (!token.privsep) return userPrivs;
    const tokenPrivs = this.privsFor((a) => a.token === who.tokenid, path);
    return new Map([...tokenPrivs].filter(([p]) => userPrivs.has(p)).map(([p, propagates]) => [p, propagates && userPrivs.get(p)!]));
  }

  /** Effective privileges of a principal on an ACL path such as `/vms/101`. */
  privileges(who: Principal, path: string): Set<string> {
    return new Set(this.privilegeMap(who, path).keys());
  }

  has(who: Principal, path: string, priv: string): boolean {
    return this.privileges(who, path).has(priv);
  }

  /** Throw 403 unless the principal has `priv` on `path`. */
  require(who: Principal, path: string, priv: string): void {
    if (!this.has(who, path, priv)) throw permError(`${path}, ${priv}`);
  }

  /**
   * Evaluate a schema `check` array (`["perm", "/vms/{vmid}", ["VM.Audit"]]`, `["and", ...]`,
   * `["or", ...]`) with `{placeholders}` filled from the parameters. Throws 403 when it fails.
   */
  check(who: Principal, check: unknown[], params: Record<string, unknown>): void {
    const failure = this.evaluate(who, check, params);
    if (failure !== null) throw permError(failure || undefined);
  }

  /** Null on success, else the "(path, priv)" text of the failing check ('' if none applies). */
  private evaluate(who: Principal, check: unknown[], params: Record<string, unknown>): string | null {
    const [op, ...rest] = check;
    if (op === 'and') {
      for (const c of rest) {
        const f = this.evaluate(who, c as unknown[], params);
        if (f !== null) return f;
      }
      return null;
    }
    if (op === 'or') {
      let last = '';
      for (const c of rest) {
        const f = this.evaluate(who, c as unknown[], params);
        if (f === null) return null;
        last = f;
      }
      return last;
    }
    if (op === 'perm') {
      const [rawPath, privs, ...opts] = rest as [string, string[], ...unknown[]];
      const any = opts.includes('any');
      const reqIdx = opts.indexOf('require_param');
      if (reqIdx >= 0 && params[String(opts[reqIdx + 1])] === undefined) return '';
      const path = rawPath.replace(/\{(\w+)\}/g, (_, k: string) => String(params[k] ?? ''));
      const have = this.privileges(who, path);
      if (any) return privs.some((p) => have.has(p)) ? null : `${path}, ${privs.join('|')}`;
      const missing = privs.find((p) => !have.has(p));
      return missing ? `${path}, ${missing}` : null;
    }
    return null; // userid-group / userid-param checks: not used by the subset's methods
  }

  /** The login answer's `cap` map: privileges per top-level area. */
  capabilities(who: Principal): Record<string, Record<string, number>> {
    const areas: Record<string, [string, RegExp]> = {
      vms: ['/vms', /^(VM\.|Permissions\.Modify)/],
      storage: ['/storage', /^(Datastore\.|Permissions\.Modify)/],
      access: ['/access', /^(User\.Modify|Group\.Allocate|Realm\.Allocate|Permissions\.Modify)/],
      nodes: ['/nodes', /^(Sys\.|Permissions\.Modify)/],
      sdn: ['/sdn', /^(SDN\.|Permissions\.Modify)/],
      dc: ['/', /^(Sys\.Audit|Sys\.Modify|SDN\.|Realm\.)/],
      mapping: ['/mapping', /^(Mapping\.|Permissions\.Modify)/],
    };
    const out: Record<string, Record<string, number>> = {};
    for (const [name, [path, re]] of Object.entries(areas)) {
      out[name] = Object.fromEntries([...this.privileges(who, path)].filter((p) => re.test(p)).map((p) => [p, 1]));
    }
    return out;
  }
}
