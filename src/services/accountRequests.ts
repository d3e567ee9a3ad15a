import { Op, type Transaction } from 'sequelize';
import type { Config } from '../../config/index.js';
import type { AccountRequest, Models, User } from '../../models/index.js';
import { changedFields } from '../audit/index.js';
import { ConflictError, NotFoundError } from '../lib/errors.js';
import { LOCAL_REALM } from '../lib/current-user.js';
import { KINDS, recordName } from '../inventory/kinds.js';
import { mailQueued, queueMail, type MailResult } from '../notify/outbox.js';
import { inTransaction, type CommandContext } from './context.js';
import { issuePasswordLink } from './passwordLinks.js';

/** The account-request.* event for `request` (changes: the status and what came with it). */
function auditRequest(cmd: CommandContext, action: string, request: AccountRequest, before: Record<string, unknown> | null, transaction: Transaction) {
  const fields = before ? ['status', 'userId', 'rejectionReason'] : ['name', 'email', 'username', 'reason', 'endDate', 'status'];
  const changes = changedFields(before, request.get(), fields);
  return cmd.auditor.record(cmd.actor, { action, objectType: 'account-request', objectId: request.id, objectLabel: request.username, changes }, transaction);
}

export interface RequestInput {
  name: string;
  email: string;
  username: string;
  reason: string;
  endDate?: string;
}

/** Where account-request notices go: ADMIN_EMAILS plus every enabled admin with an email. */
export async function adminRecipients(models: Models, config: Config, transaction?: Transaction): Promise<string[]> {
  const admins = await models.User.findAll({ where: { role: 'admin', disabled: false, email: { [Op.ne]: null } }, attributes: ['email'], transaction });
  return [...new Set([...config.ADMIN_EMAILS, ...admins.map((a) => a.email!)].map((e) => e.toLowerCase()))];
}

async function assertUsernameFree(models: Models, username: string, exceptRequestId?: number, transaction?: Transaction): Promise<void> {
  const taken = { username: 'That username is already taken.' };
  if (await models.User.findOne({ where: { username }, transaction })) throw new ConflictError('That username is already taken.', taken);
  const pending = await models.AccountRequest.findOne({ where: { username, status: 'pending', ...(exceptRequestId ? { id: { [Op.ne]: exceptRequestId } } : {}) }, transaction });
  if (pending) throw new ConflictError('A request for that username is already waiting for approval.', taken);
}

/**
 * Stores a request from /register (audited: the actor is the anonymous visitor's request) and queues
 * the mail to the admins in the same transaction.
 */
export async function submitAccountRequest(cmd: CommandContext, input: RequestInput): Promise<{ request: AccountRequest; mail: MailResult }> {
  const { models, config } = cmd;
  return inTransaction(cmd, async (transaction) => {
    await assertUsernameFree(models, input.username, undefined, transaction);
    const request = await models.AccountRequest.create({ ...input, endDate: input.endDate ?? null }, { transaction });
    await auditRequest(cmd, 'account-request.create', request, null, transaction);
    const row = await queueMail(
      cmd,
      {
        to: await adminRecipients(models, config, transaction),
        subject: `Berth account request: ${input.username}`,
        template: 'account-request',
        category: 'account-request',
        data: { request: { name: input.name, email: input.email, username: input.username, reason: input.reason, endDate: input.endDate ?? null } },
      },
      transaction,
    );
    return { request, mail: mailQueued(config, row) };
  });
}

async function pendingRequest(models: Models, id: number, transaction?: Transaction): Promise<AccountRequest> {
  const request = await models.AccountRequest.findByPk(id, { transaction, lock: transaction ? true : undefined });
  if (!request) throw new NotFoundError('No such account request.');
  if (request.status !== 'pending') throw new ConflictError(`This request was already ${request.status}.`);
  return request;
}

/** At most this many record names are listed for the admin (the counts are always whole). */
const OWNED_LIST_MAX = 50;

/**
 * What a username already owns before any account has it: an admin may set an owner name that has
 * no account yet (or that belonged to a deleted one), and whoever gets an account with that name
 * sees those records, their credentials, jobs and CSV uploads.
 */
export interface OwnedByName {
  username: string;
  containers: { count: number; items: Array<{ id: number; name: string }> };
  vms: { count: number; items: Array<{ id: number; name: string }> };
  credentials: number;
  jobs: number;
  csvImports: number;
  /** Everything above: 0 means the name owns nothing. */
  total: number;
}

/** Reads what `username` owns (see OwnedByName). */
export async function ownedByName(models: Models, username: string, transaction?: Transaction): Promise<OwnedByName> {
  const [containers, vms] = await Promise.all(KINDS.map(async (kind) => {
    const rows = await kind.model(models).findAll({ where: { username }, attributes: ['id', kind.nameField], order: [['id', 'ASC']], transaction });
    const ids = rows.map((r) => r.id);
    const credentials = ids.length ? await models.Credential.count({ where: { [kind.credentialKey]: ids }, transaction }) : 0;
    return { count: rows.length, items: rows.slice(0, OWNED_LIST_MAX).map((r) => ({ id: r.id, name: recordName(kind, r) })), credentials };
  }));
  const [jobs, csvImports] = await Promise.all([
    models.Job.count({ where: { createdBy: username }, transaction }),
    models.CsvImport.count({ where: { username }, transaction }),
  ]);
  const credentials = containers.credentials + vms.credentials;
  return {
    username,
    containers: { count: containers.count, items: containers.items },
    vms: { count: vms.count, items: vms.items },
    credentials,
    jobs,
    csvImports,
    total: containers.count + vms.count + credentials + jobs + csvImports,
  };
}

/**
 * Approval was not given: the username already owns records, and the admin did not confirm that
 * the new account takes them over. Carries what it owns, for the page or the JSON answer.
 */
export class OwnedRecordsError extends ConflictError {
  constructor(readonly owned: OwnedByName) {
    super(`${owned.username} already owns records (${describeOwned(owned)}). Approve only after confirming that this account takes them over, approve it under another username, or reject it.`, {
      takeOver: 'Confirm that the new account takes over these records, or choose another username.',
    });
  }
}

/** "2 containers, 1 VM, 3 credentials" — the non-zero counts of `owned`. */
export function describeOwned(owned: OwnedByName): string {
  const parts: Array<[number, string, string]> = [
    [owned.containers.count, 'container', 'containers'], [owned.vms.count, 'VM', 'VMs'], [owned.credentials, 'credential', 'credentials'],
    [owned.jobs, 'job', 'jobs'], [owned.csvImports, 'CSV upload', 'CSV uploads'],
  ];
  return parts.filter(([n]) => n > 0).map(([n, one, many]) => `${n} ${n === 1 ? one : many}`).join(', ');
}

/** The admin's decision on a request whose name may already own records. */
export interface ApprovalChoice {
  /** Explicit confirmation that the new account takes over what the name owns. */
  takeOver?: boolean;
  /** Create the account under this username instead of the requested one. */
  username?: string;
}

/**
 * Approves a request: creates the local account (no password yet; disabled after its end date),
 * marks the request and queues the mail with a one-time link to choose a password, all in one
 * transaction. The link is also returned for the admin to see once; with mail not configured
 * (SMTP_HOST unset) no mail is queued and the admin hands the link over. When the username already owns records, nothing happens unless the admin confirmed
 * the take-over (`choice.takeOver`, audited as `user.take-over` with what was taken over); the
 * admin may instead create the account under another username. The deciding admin is `cmd.user`.
 */
export async function approveAccountRequest(cmd: CommandContext, id: number, choice: ApprovalChoice = {}): Promise<{ user: User; mail: MailResult; link: string; tookOver: OwnedByName | null }> {
  const { models, config } = cmd;
  const { user, link, tookOver, mail } = await inTransaction(cmd, async (transaction) => {
    const request = await pendingRequest(models, id, transaction);
    const username = choice.username ?? request.username;
    await assertUsernameFree(models, username, request.id, transaction);
    // Read in the same transaction as the account is created, so the admin's confirmation covers
    // what is handed over now, not what the page showed earlier.
    const owned = await ownedByName(models, username, transaction);
    if (owned.total > 0 && !choice.takeOver) throw new OwnedRecordsError(owned);
    const user = await models.User.create(
      {
        username,
        realm: LOCAL_REALM,
        role: 'user',
        displayName: request.name,
        email: request.email,
        passwordHash: null,
        lastLoginAt: null,
        // The end date is the last day the account works (UTC).
        expiresAt: request.endDate ? new Date(`${request.endDate}T23:59:59Z`) : null,
      },
      { transaction },
    );
    const link = await issuePasswordLink(config, user, transaction);
    const before = { ...request.get() };
    await request.update({ status: 'approved', decidedById: cmd.user?.id ?? null, decidedAt: new Date(), userId: user.id }, { transaction });
    // One event for the request; its userId names the account it created.
    await auditRequest(cmd, 'account-request.approve', request, before, transaction);
    if (owned.total > 0) {
      await cmd.auditor.record(cmd.actor, {
        action: 'user.take-over',
        objectType: 'user',
        objectId: user.id,
        objectLabel: username,
        changes: {
          containers: { after: owned.containers.items.map((r) => r.name) },
          vms: { after: owned.vms.items.map((r) => r.name) },
          owned: { after: describeOwned(owned) },
        },
      }, transaction);
    }
    // Without SMTP the mail would wait in the outbox and its link go stale: the admin hands the link over.
    if (!config.SMTP_HOST) return { request, user, link, tookOver: owned.total > 0 ? owned : null, mail: { outboxId: null, reason: 'SMTP_HOST is not configured' } };
    const row = await queueMail(
      cmd,
      {
        to: [request.email],
        subject: 'Your Berth account is ready',
        template: 'account-approved',
        category: 'account-approved',
        forUser: user.username,
        data: { name: request.name, username: user.username, link, hours: config.PASSWORD_LINK_HOURS, expiresAt: request.endDate },
      },
      transaction,
    );
    return { request, user, link, tookOver: owned.total > 0 ? owned : null, mail: mailQueued(config, row) };
  });
  return { user, mail, link, tookOver };
}

/** Rejects a request with a reason, queueing the mail to the requester in the same transaction. The deciding admin is `cmd.user`. */
export async function rejectAccountRequest(cmd: CommandContext, id: number, reason: string): Promise<{ mail: MailResult }> {
  const { models, config } = cmd;
  return inTransaction(cmd, async (transaction) => {
    const request = await pendingRequest(models, id, transaction);
    const before = { ...request.get() };
    await request.update({ status: 'rejected', decidedById: cmd.user?.id ?? null, decidedAt: new Date(), rejectionReason: reason }, { transaction });
    await auditRequest(cmd, 'account-request.reject', request, before, transaction);
    const row = await queueMail(
      cmd,
      { to: [request.email], subject: 'Your Berth account request', template: 'account-rejected', category: 'account-rejected', data: { name: request.name, username: request.username, reason } },
      transaction,
    );
    return { mail: mailQueued(config, row) };
  });
}
