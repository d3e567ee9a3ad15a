import type { WhereOptions } from 'sequelize';
import { ForbiddenError, NotFoundError, UnauthorizedError } from '../lib/errors.js';
import type { Requester } from '../services/context.js';

/**
 * Every object-level authorization rule in Berth, in one place: `authorize(requester, action, subject)`
 * for one loaded object and `scope(requester, kind)` for list queries. Route-level rules (anonymous,
 * user, admin) are `access.*` in ./access.ts; routes declare the object they load and the action
 * they need with `load.<kind>(action)` (./subjects.ts), which calls `authorize`.
 *
 * The one ownership rule: an object with an owner is for its owner and for admins; to anyone else it
 * does not exist (404, never 403, so ids cannot be probed). An object with no owner (a job or record
 * inserted by hand) is for admins only.
 */


/** The kinds of object a route can load; `label` is the word the 404 message uses. */
export const SUBJECT_KINDS = {
  job: { label: 'job', owned: true },
  container: { label: 'container', owned: true },
  vm: { label: 'VM', owned: true },
  credential: { label: 'credential', owned: true },
  csvImport: { label: 'import', owned: true },
  apiToken: { label: 'token', owned: true },
  node: { label: 'node', owned: false },
  user: { label: 'user', owned: false },
  accountRequest: { label: 'account request', owned: false },
  containerTemplate: { label: 'template', owned: false },
  ipPool: { label: 'IP pool', owned: false },
  containerRequest: { label: 'container request', owned: false },
  service: { label: 'service', owned: true },
  publicDomain: { label: 'domain', owned: false },
  edgeConfigVersion: { label: 'version', owned: false },
  outboxMessage: { label: 'message', owned: false },
} as const;

export type SubjectKind = keyof typeof SUBJECT_KINDS;

/** Whose an object is: a username (records, jobs, imports), a user id (tokens), or nobody's (admin objects). */
export type Owner = { username: string | null } | { userId: number } | null;

/** What an action is asked about: the kind of object and, for owned kinds, whose it is. */
export interface Subject {
  kind: SubjectKind;
  owner: Owner;
  /** For `user` subjects: the account's id (an admin may not disable or demote themselves). */
  id?: number;
}

/**
 * What one may do. `view` covers reading; `change` covers edit, delete, cancel, revoke, reveal and
 * apply (whoever may see an owned object may manage it); the rest are the actions with rules of
 * their own. `seeAllOwners` is seeing every owner's records at once: the whole inventory list, its
 * owner filters and bulk edit.
 */
export type Action = 'view' | 'change' | 'setOwner' | 'disable' | 'demote' | 'runAdminTask' | 'sendTestEmail' | 'seeAllOwners' | 'operateUnmanaged' | 'createEdgeToken';

/** The owner-or-admin rule. */
function ownerOrAdmin(requester: Requester, owner: Owner): boolean {
  if (requester.isAdmin) return true;
  if (owner === null) return false;
  if ('userId' in owner) return owner.userId === requester.id;
  return owner.username !== null && owner.username === requester.username;
}

type Decision = 'allow' | 'hide' | { forbid: string };

function decide(requester: Requester | undefined, action: Action, subject: Subject | undefined): Decision {
  if (!requester) return 'hide';
  switch (action) {
    case 'view':
    case 'change':
      if (!subject) throw new Error(`authorize(${action}) needs the object`);
      if (SUBJECT_KINDS[subject.kind].owned) return ownerOrAdmin(requester, subject.owner) ? 'allow' : 'hide';
      return requester.isAdmin ? 'allow' : { forbid: 'Administrators only.' };
    case 'setOwner':
      // Only admins choose a record's owner; an owner hands a record over with a transfer instead.
      return requester.isAdmin ? 'allow' : { forbid: 'Only administrators choose the owner.' };
    case 'disable':
    case 'demote':
      // Without the account, "not your own" cannot be checked: asking so is a bug, not a refusal.
      if (!subject) throw new Error(`authorize(${action}) needs the account`);
      if (!requester.isAdmin) return { forbid: 'Administrators only.' };
      // The last admin could otherwise lock everyone out.
      return subject.id === requester.id ? { forbid: `You cannot ${action} your own account.` } : 'allow';
    case 'runAdminTask':
    case 'sendTestEmail':
    case 'seeAllOwners':
    case 'operateUnmanaged': // acting on Proxmox for a container Berth did not create: its node and VMID are what someone typed
    case 'createEdgeToken': // an edge token reads the whole edge config: every public name and container address

      return requester.isAdmin ? 'allow' : { forbid: 'Administrators only.' };
  }
}

/** Whether `requester` may do `action` (to `subject`, for the actions about one object): for showing or hiding a button. */
export function can(requester: Requester | undefined, action: Action, subject?: Subject): boolean {
  return decide(requester, action, subject) === 'allow';
}

/**
 * Throws unless `requester` may do `action` to `subject`: NotFound ("No such job.") where the object must
 * stay hidden, Forbidden where the caller may know it exists but not do this.
 */
export function authorize(requester: Requester | undefined, action: Action, subject?: Subject): void {
  const decision = decide(requester, action, subject);
  if (decision === 'allow') return;
  if (decision === 'hide') throw subject ? new NotFoundError(`No such ${SUBJECT_KINDS[subject.kind].label}.`) : new UnauthorizedError();
  throw new ForbiddenError(decision.forbid);
}

/** The owner columns list queries filter on, per owned kind. */
const OWNER_COLUMN = { job: 'createdBy', container: 'username', vm: 'username', csvImport: 'username' } as const;

/**
 * The `where` that limits a list query to what `requester` may see: everything for an admin, their own
 * rows otherwise. Lists are scoped in the query itself, never filtered afterwards. `ownOnly` limits
 * an admin to their own rows too, for lists that are about the caller (the import form's recent
 * uploads). API tokens are always the caller's own (an admin revokes another user's token from that
 * user's page, by id).
 */
export function scope(requester: Requester, kind: keyof typeof OWNER_COLUMN | 'apiToken', options: { ownOnly?: boolean } = {}): WhereOptions {
  if (kind === 'apiToken') return { userId: requester.id };
  return requester.isAdmin && !options.ownOnly ? {} : { [OWNER_COLUMN[kind]]: requester.username };
}

/**
 * `can(requester, 'view', record)` as a predicate over containers and VMs, for the domain commands
 * that word a message by what the requester may see (a clash names the record in the way only then).
 */
export function mayViewRecord(requester: Requester | undefined): RecordPredicate {
  return recordPredicate(requester, 'view');
}

/**
 * `can(requester, 'change', record)` as a predicate over containers and VMs, for the domain commands
 * that decide per record (a CSV import updates only the rows the importer may change).
 */
export function mayChangeRecord(requester: Requester | undefined): RecordPredicate {
  return recordPredicate(requester, 'change');
}

/** A container or VM as the record predicates see it: its kind and owner. */
type RecordPredicate = (record: { kind: 'container' | 'vm'; username: string | null }) => boolean;

function recordPredicate(requester: Requester | undefined, action: 'view' | 'change'): RecordPredicate {
  return (record) => can(requester, action, { kind: record.kind, owner: { username: record.username } });
}
