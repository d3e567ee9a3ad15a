import { Op, type Sequelize, type Transaction } from 'sequelize';
import type { Config } from '../../config/index.js';
import type { AccountRequest, Models, User } from '../../models/index.js';
import { changedFields, type AuditActor, type Auditor } from '../audit/index.js';
import { ConflictError, NotFoundError } from '../lib/errors.js';
import type { Mailer, SendResult } from '../lib/mail/index.js';
import { issuePasswordLink } from './passwordLinks.js';

export interface AccountDeps {
  models: Models;
  sequelize: Sequelize;
  config: Config;
  mailer: Mailer;
  auditor: Auditor;
}

/** The account-request.* event for `request` (changes: the status and what came with it). */
function auditRequest(deps: AccountDeps, actor: AuditActor, action: string, request: AccountRequest, before: Record<string, unknown> | null, transaction: Transaction) {
  const fields = before ? ['status', 'userId', 'rejectionReason'] : ['name', 'email', 'username', 'reason', 'endDate', 'status'];
  const changes = changedFields(before, request.get(), fields);
  return deps.auditor.record(actor, { action, objectType: 'account-request', objectId: request.id, objectLabel: request.username, changes }, transaction);
}

export interface RequestInput {
  name: string;
  email: string;
  username: string;
  reason: string;
  endDate?: string;
}

/** Where account-request notices go: ADMIN_EMAILS plus every enabled admin with an email. */
export async function adminRecipients(models: Models, config: Config): Promise<string[]> {
  const admins = await models.User.findAll({ where: { role: 'admin', disabled: false, email: { [Op.ne]: null } }, attributes: ['email'] });
  return [...new Set([...config.ADMIN_EMAILS, ...admins.map((a) => a.email!)].map((e) => e.toLowerCase()))];
}

async function assertUsernameFree(models: Models, username: string, exceptRequestId?: number, transaction?: Transaction): Promise<void> {
  const taken = { username: 'That username is already taken.' };
  if (await models.User.findOne({ where: { username }, transaction })) throw new ConflictError('That username is already taken.', taken);
  const pending = await models.AccountRequest.findOne({ where: { username, status: 'pending', ...(exceptRequestId ? { id: { [Op.ne]: exceptRequestId } } : {}) }, transaction });
  if (pending) throw new ConflictError('A request for that username is already waiting for approval.', taken);
}

/**
 * Stores a request from /register (audited: `actor` is the anonymous visitor's request) and then
 * emails the admins (a mail failure is logged, not fatal).
 */
export async function submitAccountRequest(deps: AccountDeps, input: RequestInput, actor: AuditActor): Promise<{ request: AccountRequest; mail: SendResult }> {
  const { models, config, mailer } = deps;
  const request = await deps.sequelize.transaction(async (transaction) => {
    await assertUsernameFree(models, input.username, undefined, transaction);
    const request = await models.AccountRequest.create({ ...input, endDate: input.endDate ?? null }, { transaction });
    await auditRequest(deps, actor, 'account-request.create', request, null, transaction);
    return request;
  });
  const mail = await mailer.send({
    to: await adminRecipients(models, config),
    subject: `Berth account request: ${input.username}`,
    template: 'account-request',
    data: { request: { name: input.name, email: input.email, username: input.username, reason: input.reason, endDate: input.endDate ?? null } },
  });
  return { request, mail };
}

async function pendingRequest(models: Models, id: number, transaction?: Transaction): Promise<AccountRequest> {
  const request = await models.AccountRequest.findByPk(id, { transaction, lock: transaction ? true : undefined });
  if (!request) throw new NotFoundError('No such account request.');
  if (request.status !== 'pending') throw new ConflictError(`This request was already ${request.status}.`);
  return request;
}

/**
 * Approves a request: creates the local account (no password yet; disabled after its end date),
 * marks the request, all in one transaction; then emails the requester a one-time link to choose
 * a password.
 */
export async function approveAccountRequest(deps: AccountDeps, id: number, adminId: number, actor: AuditActor): Promise<{ user: User; mail: SendResult; link: string }> {
  const { models, sequelize, config, mailer } = deps;
  const { request, user, link } = await sequelize.transaction(async (transaction) => {
    const request = await pendingRequest(models, id, transaction);
    await assertUsernameFree(models, request.username, request.id, transaction);
    const user = await models.User.create(
      {
        username: request.username,
        realm: 'local',
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
    await request.update({ status: 'approved', decidedById: adminId, decidedAt: new Date(), userId: user.id }, { transaction });
    // One event for the request; its userId names the account it created.
    await auditRequest(deps, actor, 'account-request.approve', request, before, transaction);
    return { request, user, link };
  });
  const mail = await mailer.send({
    to: request.email,
    subject: 'Your Berth account is ready',
    template: 'account-approved',
    data: { name: request.name, username: user.username, link, hours: config.PASSWORD_LINK_HOURS, expiresAt: request.endDate },
  });
  return { user, mail, link };
}

/** Rejects a request with a reason, which is emailed to the requester. */
export async function rejectAccountRequest(deps: AccountDeps, id: number, adminId: number, reason: string, actor: AuditActor): Promise<{ mail: SendResult }> {
  const { models, mailer } = deps;
  const request = await deps.sequelize.transaction(async (transaction) => {
    const request = await pendingRequest(models, id, transaction);
    const before = { ...request.get() };
    await request.update({ status: 'rejected', decidedById: adminId, decidedAt: new Date(), rejectionReason: reason }, { transaction });
    await auditRequest(deps, actor, 'account-request.reject', request, before, transaction);
    return request;
  });
  const mail = await mailer.send({
    to: request.email,
    subject: 'Your Berth account request',
    template: 'account-rejected',
    data: { name: request.name, username: request.username, reason },
  });
  return { mail };
}
