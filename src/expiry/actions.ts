// The expiry action (issue 15): what Berth does to an item whose expiry date has passed, as the
// admin's ExpiryPolicy for its kind says. `stop`: a stop job the day after the expiry date, once per
// expiry date. `delete`: that stop, then a delete job once the grace period has passed since the
// stop's notice, which named the delete date. Each is one transaction: the job (through the same
// lifecycle commands a person's request uses, so it is checked, audited and shown in the jobs list
// the same way), the NotificationLog row whose unique key makes it happen once whoever scans, the
// owner's notice mail, and an audit event saying why Berth acted.
import { Op, UniqueConstraintError, type Sequelize, type Transaction } from 'sequelize';
import type { Config } from '../../config/index.js';
import type { Container, Job, Models, NotificationLog, VirtualMachine } from '../../models/index.js';
import type { ExpiryItemType } from '../../models/NotificationLog.js';
import type { AuditActor, Auditor } from '../audit/index.js';
import { ConflictError, ForbiddenError } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import { Vault } from '../lib/vault.js';
import { queueMail } from '../notify/outbox.js';
import { requestDelete, requestLifecycle } from '../provisioning/lifecycle.js';
import { requestVmPower, VM_STOPPABLE } from '../provisioning/vm-lifecycle.js';
import type { CommandContext } from '../services/context.js';
import { issueExtendLink } from './extend-link.js';
import { addDays, scanDay as scanDayOf } from './clock.js';
// Containers being created, waiting for an admin or being deleted belong to another command: neither reminded nor acted on.
import { NOT_REMINDED_STATUSES } from './items.js';
import { expiryRules, type ExpiryRule } from './policy.js';

export interface ExpiryDeps {
  models: Models;
  sequelize: Sequelize;
  config: Config;
  logger: Logger;
  auditor: Auditor;
}

export interface ActionSummary {
  itemType: ExpiryItemType;
  itemId: number;
  label: string;
  action: 'stop' | 'delete';
  jobId: number | null;
  /** Why nothing was done (already stopped, dry run, …). */
  skipped?: string;
}

/** Berth itself acts: the jobs' requester and the audit events' actor. */
const BERTH: AuditActor = { username: null, requestId: 'expiry-action' };

/** The mail category and template of the stop and delete notices. */
export const EXPIRY_ACTION_MAIL = 'expiry-action';

/**
 * What the expiry action really does to an item of `kind`, given the admin's rule: the one answer
 * for the scan (and the reminders that announce it). A container Berth did not create is never
 * touched: its node and VMID are what someone typed and no marker proves the guest is the record's
 * (the lifecycle commands leave such containers to an administrator, `operateUnmanaged`). A VM is at
 * most stopped: Berth has no QEMU delete.
 */
export function plannedAction(kind: ExpiryItemType, item: { managed?: boolean }, rule: Pick<ExpiryRule, 'action'>): 'none' | 'stop' | 'delete' {
  if (rule.action === 'none') return 'none';
  if (kind === 'container' && !item.managed) return 'none';
  if (kind === 'vm') return 'stop';
  return rule.action;
}

/**
 * The day an item stopped on `stoppedOn` for the expiry date `expiresOn` is deleted: graceDays after
 * the stop day the scheduled stop would have (the day after expiry), and never sooner than
 * graceDays after the notice that announced it (a stop that came late, after downtime, moves it).
 */
export function deleteDay(expiresOn: string, graceDays: number, stoppedOn: string = addDays(expiresOn, 1)): string {
  const scheduled = addDays(expiresOn, 1 + graceDays);
  const afterNotice = addDays(stoppedOn, graceDays);
  return scheduled > afterNotice ? scheduled : afterNotice;
}

type Item = Container | VirtualMachine;
const labelOf = (kind: ExpiryItemType, item: Item) => (kind === 'container' ? (item as Container).hostname : (item as VirtualMachine).name);

/** A reason to do nothing this time, thrown inside the transaction so that it rolls back. */
class Skip extends Error {}

/**
 * Stops expired items and deletes them after the grace period, as the kind's ExpiryPolicy says.
 * Called by the scan after the reminders; `dryRun` only says what it would do. Returns one summary
 * per item acted on or skipped (items with nothing due are left out).
 */
export async function runExpiryActions(deps: ExpiryDeps, opts: { scanDay: string; at: Date; dryRun?: boolean; print?: (line: string) => void }): Promise<ActionSummary[]> {
  const rules = await expiryRules(deps.models);
  const summaries: ActionSummary[] = [];
  for (const kind of ['container', 'vm'] as const) {
    if (rules[kind].action === 'none') continue;
    for (const item of await expiredItems(deps.models, kind, opts.scanDay)) {
      const summary = await actOn(deps, kind, rules[kind], item, opts);
      if (!summary) continue;
      summaries.push(summary);
      const what = `${summary.action} ${kind} ${summary.label} (#${summary.itemId})`;
      const line = summary.skipped ? `${what}: skipped, ${summary.skipped}` : `${what}: job ${summary.jobId ?? '(none: already stopped)'}`;
      opts.print?.(line);
      deps.logger.info({ ...summary, scanDay: opts.scanDay }, `expiry action: ${line}`);
    }
  }
  return summaries;
}

/** Items of `kind` with an owner whose expiry date is before `scanDay` (so expired), oldest first. */
async function expiredItems(models: Models, kind: ExpiryItemType, scanDay: string): Promise<Item[]> {
  const where = { expiresAt: { [Op.lt]: scanDay }, username: { [Op.ne]: null } };
  if (kind === 'container') return models.Container.findAll({ where: { ...where, status: { [Op.notIn]: [...NOT_REMINDED_STATUSES] } }, order: [['expiresAt', 'ASC'], ['id', 'ASC']] });
  return models.VirtualMachine.findAll({ where, order: [['expiresAt', 'ASC'], ['id', 'ASC']] });
}

async function findNotice(models: Models, kind: ExpiryItemType, item: Item, notice: 'stopped' | 'delete-due' | 'deleted', transaction?: Transaction): Promise<NotificationLog | null> {
  return models.NotificationLog.findOne({ where: { itemType: kind, itemId: item.id, notice, expiresOn: item.expiresAt! }, transaction });
}

/** A job that ended without doing its work. */
const FAILED_JOB_STATUSES = ['failure', 'cancelled'];

/** Decides what is due for one item and does it (or, in a dry run, says it would). */
async function actOn(deps: ExpiryDeps, kind: ExpiryItemType, rule: ExpiryRule, item: Item, opts: { scanDay: string; at: Date; dryRun?: boolean }): Promise<ActionSummary | null> {
  const label = labelOf(kind, item);
  const base = { itemType: kind, itemId: item.id, label };
  const planned = plannedAction(kind, { managed: (item as Container).managed }, rule);
  if (planned === 'none') return { ...base, action: 'stop', jobId: null, skipped: 'Berth did not create this container, so the expiry action leaves it to an administrator' };

  const stopped = await findNotice(deps.models, kind, item, 'stopped');
  if (!stopped) {
    if (opts.dryRun) return { ...base, action: 'stop', jobId: null, skipped: 'dry run' };
    return attempt(deps, base, 'stop', (t) => stop(deps, kind, rule, item, opts, t));
  }
  // The stop job failed or was cancelled and the item still runs: stop it again (the owner was told).
  const retry = await stopToRetry(deps, kind, item, stopped);
  if (retry) {
    if (opts.dryRun) return { ...base, action: 'stop', jobId: null, skipped: 'dry run (the last stop job failed)' };
    return attempt(deps, base, 'stop', (t) => stopAgain(deps, kind, item, stopped, t));
  }
  if (rule.action !== 'delete') return null;
  if (await findNotice(deps.models, kind, item, 'deleted')) return null;
  if (planned !== 'delete') {
    // A VM under the delete policy: say so once its delete would have been due.
    if (opts.scanDay < deleteDay(item.expiresAt!, rule.graceDays, stopped.scanDay)) return null;
    return { ...base, action: 'delete', jobId: null, skipped: 'Berth cannot delete VMs: it was stopped only' };
  }
  // Nothing is deleted without a delivered notice that named the delete date. An item stopped while
  // the policy announced no delete gets that notice now, and its grace period starts from it.
  const announced = stopped.actionOn ? stopped : await findNotice(deps.models, kind, item, 'delete-due');
  if (!announced) {
    if (opts.dryRun) return { ...base, action: 'delete', jobId: null, skipped: 'dry run (the delete would be announced first)' };
    return attempt(deps, base, 'delete', (t) => announceDelete(deps, kind, rule, item, opts, t));
  }
  const deleteOn = await deleteDate(deps, announced, rule);
  if (!deleteOn.day) return { ...base, action: 'delete', jobId: null, skipped: deleteOn.why };
  if (opts.scanDay < deleteOn.day) return null;
  if (opts.dryRun) return { ...base, action: 'delete', jobId: null, skipped: 'dry run' };
  return attempt(deps, base, 'delete', (t) => remove(deps, item as Container, opts, t));
}

/**
 * The day the delete may happen: the date the notice announced, and never sooner than graceDays
 * after the notice reached the SMTP server (a notice delivered late moves it; one not delivered
 * at all holds it: the owner must have been told).
 */
async function deleteDate(deps: ExpiryDeps, announced: NotificationLog, rule: ExpiryRule): Promise<{ day: string | null; why: string }> {
  const mail = announced.outboxId === null ? null : await deps.models.OutboxMessage.findByPk(announced.outboxId, { attributes: ['status', 'sentAt'] });
  if (!mail || mail.status !== 'sent' || !mail.sentAt) {
    return { day: null, why: `the notice announcing the delete has not been delivered (${mail ? `its mail is ${mail.status}` : 'no mail'}; see /admin/mail), so nothing is deleted yet` };
  }
  const afterDelivery = addDays(scanDayOf(mail.sentAt, deps.config.TZ), rule.graceDays);
  const day = announced.actionOn && announced.actionOn > afterDelivery ? announced.actionOn : afterDelivery;
  return { day, why: '' };
}

/** The stop notice's job, when it failed or was cancelled and the item is still running. */
async function stopToRetry(deps: ExpiryDeps, kind: ExpiryItemType, item: Item, stopped: NotificationLog): Promise<boolean> {
  if (stopped.jobId === null || item.status !== 'running') return false;
  const job = await deps.models.Job.findByPk(stopped.jobId, { attributes: ['status'] });
  return Boolean(job && FAILED_JOB_STATUSES.includes(job.status));
}

/** Runs one item's transaction; a Skip, a refusal of the lifecycle command or a lost race becomes a skipped summary. */
async function attempt(deps: ExpiryDeps, base: Omit<ActionSummary, 'action' | 'jobId'>, action: 'stop' | 'delete', work: (t: Transaction) => Promise<Job | null>): Promise<ActionSummary> {
  try {
    const job = await deps.sequelize.transaction(work);
    return { ...base, action, jobId: job?.id ?? null };
  } catch (err) {
    // Refusals say why in words (busy with another job, not running, …); the next scan tries again.
    if (err instanceof Skip || err instanceof ConflictError || err instanceof ForbiddenError) return { ...base, action, jobId: null, skipped: err.message };
    // Another scanner wrote the same notice first: it did the work.
    if (err instanceof UniqueConstraintError) return { ...base, action, jobId: null, skipped: 'another scan did it first' };
    throw err;
  }
}

/** Berth's command context for this action's transaction: the lifecycle commands join `t`, so the job commits with the notice and mail. */
function inside(deps: ExpiryDeps, t: Transaction): CommandContext {
  return { models: deps.models, sequelize: deps.sequelize, auditor: deps.auditor, vault: Vault.fromConfig(deps.config), config: deps.config, logger: deps.logger, actor: BERTH, transaction: t };
}

/** The item again, locked for this transaction, unless it changed since it was listed (extended, gone). */
async function relock(deps: ExpiryDeps, kind: ExpiryItemType, item: Item, t: Transaction): Promise<Item> {
  const options = { transaction: t, lock: t.LOCK.UPDATE };
  const row: Item | null = kind === 'container' ? await deps.models.Container.findByPk(item.id, options) : await deps.models.VirtualMachine.findByPk(item.id, options);
  if (!row) throw new Skip('it was deleted meanwhile');
  if (row.expiresAt !== item.expiresAt) throw new Skip(`its expiry date changed meanwhile (now ${row.expiresAt ?? 'none'})`);
  return row;
}

/** The stop: a job when it is running, none when already stopped; the notice, the mail and the audit event. */
async function stop(deps: ExpiryDeps, kind: ExpiryItemType, rule: ExpiryRule, item: Item, opts: { scanDay: string; at: Date }, t: Transaction): Promise<Job | null> {
  const row = await relock(deps, kind, item, t);
  const cmd = inside(deps, t);
  let job: Job | null = null;
  if (kind === 'container') {
    const ct = row as Container;
    if (ct.status === 'running') job = await requestLifecycle(cmd, ct, 'stop', {}, { mayOperateUnmanaged: false });
    else if (ct.status !== 'stopped') throw new Skip(`it is ${ct.status}: only a running container is stopped`);
  } else {
    const vm = row as VirtualMachine;
    // Berth acts on the policy an administrator set, so it may stop a VM (which Berth never creates).
    if (VM_STOPPABLE.includes(vm.status)) job = await requestVmPower(cmd, vm.id, 'stop', { mayOperateUnmanaged: true }, t);
    else if (vm.status !== 'stopped') throw new Skip(`it is ${vm.status}: only a running or paused VM is stopped`);
  }
  const deleteOn = plannedAction(kind, { managed: (row as Container).managed }, rule) === 'delete' ? deleteDay(row.expiresAt!, rule.graceDays, opts.scanDay) : null;
  // The delete is announced with a way out: extending the item stops the series.
  const extendUrl = deleteOn && row.username ? await issueExtendLink(deps, { itemType: kind, itemId: row.id, username: row.username, expiresOn: row.expiresAt! }, opts.at, t) : null;
  await notify(deps, kind, row, 'stopped', job, { scanDay: opts.scanDay, deleteOn, extendUrl }, t);
  return job;
}

/** A second stop job after the first failed: no second notice (the owner was told), the notice points at the new job. */
async function stopAgain(deps: ExpiryDeps, kind: ExpiryItemType, item: Item, stopped: NotificationLog, t: Transaction): Promise<Job | null> {
  const row = await relock(deps, kind, item, t);
  const cmd = inside(deps, t);
  if (row.status !== 'running') throw new Skip(`it is ${row.status} now`);
  // A VM: the administrator's policy lets Berth stop it, as in stop().
  const job = kind === 'container' ? await requestLifecycle(cmd, row as Container, 'stop', {}, { mayOperateUnmanaged: false }) : await requestVmPower(cmd, row.id, 'stop', { mayOperateUnmanaged: true }, t);
  // Conditional on the job it replaces: two scanners at once enqueue one retry (the other rolls back).
  const [changed] = await deps.models.NotificationLog.update({ jobId: job.id }, { where: { id: stopped.id, jobId: stopped.jobId }, transaction: t });
  if (!changed) throw new Skip('another scan retried the stop first');
  return job;
}

/** The delete announced for an item stopped while the policy announced none: a notice, no job. */
async function announceDelete(deps: ExpiryDeps, kind: ExpiryItemType, rule: ExpiryRule, item: Item, opts: { scanDay: string; at: Date }, t: Transaction): Promise<Job | null> {
  const row = await relock(deps, kind, item, t);
  const deleteOn = addDays(opts.scanDay, rule.graceDays);
  const extendUrl = row.username ? await issueExtendLink(deps, { itemType: kind, itemId: row.id, username: row.username, expiresOn: row.expiresAt! }, opts.at, t) : null;
  await notify(deps, kind, row, 'delete-due', null, { scanDay: opts.scanDay, deleteOn, extendUrl }, t);
  return null;
}

/** The delete, through the container delete command (which stops it first on Proxmox). */
async function remove(deps: ExpiryDeps, item: Container, opts: { scanDay: string }, t: Transaction): Promise<Job | null> {
  const row = (await relock(deps, 'container', item, t)) as Container;
  if (!row.managed) throw new Skip('Berth did not create this container, so it is never deleted by the expiry action');
  if (row.nodeId === null || row.vmid === null) throw new Skip('it has no node or VMID: there is nothing on Proxmox to delete');
  const { job } = await requestDelete(inside(deps, t), row, { mayOperateUnmanaged: false });
  await notify(deps, 'container', row, 'deleted', job, { scanDay: opts.scanDay, deleteOn: null, extendUrl: null }, t);
  return job;
}

/** The owner's notice mail, the NotificationLog row (unique: a second scanner fails here) and the audit event. */
async function notify(
  deps: ExpiryDeps,
  kind: ExpiryItemType,
  row: Item,
  notice: 'stopped' | 'delete-due' | 'deleted',
  job: Job | null,
  info: { scanDay: string; deleteOn: string | null; extendUrl: string | null },
  t: Transaction,
): Promise<void> {
  const { config, models } = deps;
  const label = labelOf(kind, row);
  const owner = row.username ? await models.User.findOne({ where: { username: row.username }, attributes: ['email'], transaction: t }) : null;
  const kindWord = kind === 'container' ? 'container' : 'VM';
  const mail = await queueMail(
    deps,
    {
      to: [owner?.email],
      cc: config.EXPIRY_CC_ADMINS ? config.ADMIN_EMAILS : [],
      subject: `Your ${kindWord} ${label} expired and ${notice === 'deleted' ? 'is being deleted' : notice === 'delete-due' ? `will be deleted on ${info.deleteOn}` : job ? 'is being stopped' : 'stays stopped'}`,
      template: EXPIRY_ACTION_MAIL,
      category: EXPIRY_ACTION_MAIL,
      forUser: row.username,
      dedupeKey: `${EXPIRY_ACTION_MAIL}:${kind}:${row.id}:${notice}:${row.expiresAt}`,
      data: {
        username: row.username,
        kindWord,
        label,
        itemUrl: `${config.publicUrl}/${kind === 'container' ? 'containers' : 'vms'}/${row.id}`,
        expiresOn: row.expiresAt,
        notice,
        jobId: job?.id ?? null,
        jobUrl: job ? `${config.publicUrl}/status/${job.id}` : null,
        deleteOn: info.deleteOn,
        extendUrl: info.extendUrl,
      },
    },
    t,
  );
  await models.NotificationLog.create(
    { itemType: kind, itemId: row.id, itemLabel: label, notice, expiresOn: row.expiresAt!, scanDay: info.scanDay, username: row.username, outboxId: mail.id, jobId: job?.id ?? null, actionOn: info.deleteOn },
    { transaction: t },
  );
  await deps.auditor.record(
    BERTH,
    {
      action: `${kind}.expiry-${notice === 'stopped' ? 'stop' : notice === 'delete-due' ? 'delete-notice' : 'delete'}`,
      objectType: kind,
      objectId: row.id,
      objectLabel: label,
      changes: { expiresOn: { after: row.expiresAt }, job: { after: job?.id ?? null }, ...(info.deleteOn ? { deleteOn: { after: info.deleteOn } } : {}) },
    },
    t,
  );
}
