import { Op, type Transaction } from 'sequelize';
import type { Models } from '../../models/index.js';
import { accountUsable } from '../lib/current-user.js';

/**
 * The one owner rule: who may be named as the owner of a container or VM, by every path that sets
 * one (the record form and API, drift import single and bulk, CSV import, bulk edit, transfer).
 *
 * - Someone who may set owners (an admin) may name an existing Berth account (enabled or not: an
 *   admin may hand records to someone whose account is paused), or a name that has no
 *   account yet when Berth knows it stands for a person: the username of a pending account request
 *   (docs/accounts.md, "Approving a username that already owns something") or a Proxmox user.
 *   Berth keeps no copy of Proxmox's user list (the inventory sync re-reads it only to re-check the
 *   accounts Berth has, src/services/proxmoxRights.ts), so the Proxmox users Berth knows are the
 *   ones that signed in once: their accounts (realm ≠ local). A Proxmox user who never signed in is
 *   named once they sign in, or through their account request.
 * - Anyone else may hand a record only to an existing, enabled account (a typo must not give a
 *   record to nobody: its owner would lose it).
 *
 * Clearing the owner (null) and keeping the owner a record already has are not choices of a new
 * owner and are not checked here. Messages never name a record.
 */
export type OwnerRight = 'admin' | 'account';

/** What an admin may name, as said in every refusal. */
export const ADMIN_OWNER_HINT = 'an owner is a Berth user, a Proxmox user who has signed in to Berth, or the username of a pending account request';

/** The field message on `username` for a name the rule refuses. */
export function ownerRefusal(username: string, right: OwnerRight): string {
  if (right === 'account') return `No Berth user ${username} can receive it (the account must exist and be enabled).`;
  return `${username} is not known to Berth: ${ADMIN_OWNER_HINT}.`;
}

/**
 * The names among `usernames` that the rule refuses for `right`, in two IN queries whatever their
 * number (CSV import and bulk import ask for many at once).
 */
export async function refusedOwners(models: Models, usernames: Iterable<string>, right: OwnerRight, transaction?: Transaction): Promise<Set<string>> {
  const names = [...new Set(usernames)];
  if (!names.length) return new Set();
  const users = await models.User.findAll({ attributes: ['username', 'disabled', 'expiresAt'], where: { username: names }, transaction });
  const known = new Set(users.filter((u) => right === 'admin' || accountUsable(u)).map((u) => u.username));
  if (right === 'admin') {
    const missing = names.filter((n) => !known.has(n));
    if (missing.length) {
      const requests = await models.AccountRequest.findAll({ attributes: ['username'], where: { username: missing, status: 'pending' }, transaction });
      for (const r of requests) known.add(r.username);
    }
  }
  return new Set(names.filter((n) => !known.has(n)));
}

/**
 * Checks the owners a command is about to write, remembering the names it already accepted (a bulk
 * import names one owner for many records: one lookup, not one per record).
 */
export class OwnerCheck {
  private readonly accepted = new Set<string>();

  constructor(
    private readonly models: Models,
    readonly right: OwnerRight,
  ) {}

  /** The refusal message for `username`, or null when the rule accepts it. */
  async refusal(username: string, transaction?: Transaction): Promise<string | null> {
    if (this.accepted.has(username)) return null;
    const refused = await refusedOwners(this.models, [username], this.right, transaction);
    if (refused.size) return ownerRefusal(username, this.right);
    this.accepted.add(username);
    return null;
  }
}

/**
 * Names offered in owner fields (datalists) to someone who may set owners: enabled accounts and
 * pending account requests, sorted, at most `limit`.
 */
export async function knownOwners(models: Models, limit = 1000): Promise<string[]> {
  const [users, requests] = await Promise.all([
    models.User.findAll({ attributes: ['username'], where: { disabled: false }, order: [['username', 'ASC']], limit }),
    models.AccountRequest.findAll({ attributes: ['username'], where: { status: 'pending', username: { [Op.ne]: '' } }, order: [['username', 'ASC']], limit }),
  ]);
  return [...new Set([...users.map((u) => u.username), ...requests.map((r) => r.username)])].sort().slice(0, limit);
}
