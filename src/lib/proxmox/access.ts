// Realms and users. The schema subset Berth uses has `GET /access/users` only (no per-user GET,
// no user creation), and that list always includes the caller, so a user logged in with their
// own ticket can read their own groups.
import type { Proxmox } from 'proxmox-api';
import { coerceNumbers } from './numbers.js';
import type { PveUser, Realm } from './types.js';

/** Split Proxmox's group list, which arrives as "a,b" (or, from some versions, an array). */
function parseGroups(v: unknown): string[] {
  if (Array.isArray(v)) return v.map(String).filter(Boolean);
  if (typeof v === 'string') return v.split(/[,;\s]+/).filter(Boolean);
  return [];
}

/** Access-control reads. Reached as `client.access`. */
export class AccessApi {
  constructor(private readonly api: Proxmox.Api) {}

  /** `GET /access/domains`: realms for the login form (needs no auth on a real node). */
  async realms(): Promise<Realm[]> {
    const rows = (await this.api.access.domains.$get()) as Record<string, unknown>[];
    return rows.map((r) => coerceNumbers(r, ['default', 'tfa']) as Realm);
  }

  /** `GET /access/users`: users the caller may see (always including itself). */
  async users(opts: { enabled?: boolean } = {}): Promise<PveUser[]> {
    const params = opts.enabled === undefined ? undefined : { enabled: opts.enabled };
    const rows = (await this.api.access.users.$get(params)) as Record<string, unknown>[];
    return rows.map((r) => ({ ...coerceNumbers(r, ['enable', 'expire']), groups: parseGroups(r.groups) }) as PveUser);
  }

  /** The groups of `userid` (`alice@pve`), or null when the caller cannot see that user. */
  async userGroups(userid: string): Promise<string[] | null> {
    const users = await this.users();
    const u = users.find((x) => x.userid === userid);
    return u ? u.groups : null;
  }
}
