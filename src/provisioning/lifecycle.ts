// Asking for something to happen to an existing container: start, stop, shut down, reboot, resize
// or delete it. Each command checks the container's state and that nothing else is running on it,
// then enqueues the job (lifecycle-tasks.ts does the Proxmox side), in one transaction with its
// audit event.
import { Op, type Transaction } from 'sequelize';
import type { ContainerStatus } from '../../models/Container.js';
import type { Container, Job } from '../../models/index.js';
import { containerKind } from '../inventory/kinds.js';
import { deleteRecord } from '../inventory/records.js';
import { enqueueJob, jobEnqueuedEvent } from '../jobs/enqueue.js';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../lib/errors.js';
import { inTransaction, type CommandContext } from '../services/context.js';
import { CONTAINER_MINIMUMS, LIFECYCLE_TASKS, type LifecycleAction } from './params.js';
import { overQuota, quotaFor, usageOf, type Resources } from './quota.js';

/** The actions that leave the container in place (delete has its own command). */
export type ContainerAction = Exclude<LifecycleAction, 'delete'>;

/** What a resize asks for: the new sizes (absent: unchanged). The disk only grows. */
export interface ResizeInput {
  cores?: number;
  memoryMb?: number;
  diskGb?: number;
}

/** The statuses each action may start from. */
export const ACTION_STATES: Record<ContainerAction, readonly ContainerStatus[]> = {
  start: ['stopped'],
  stop: ['running'],
  shutdown: ['running'],
  reboot: ['running'],
  resize: ['running', 'stopped'],
};

/** A container being built or waiting for approval is not deleted from here (the create job or the admin queue owns it). */
const DELETE_REFUSED: Partial<Record<ContainerStatus, string>> = {
  provisioning: 'it is still being created; wait for the create job to end',
};

/** The job statuses that mean "an operation is under way". */
const ACTIVE_JOB_STATUSES = ['pending', 'running'];

/**
 * The actions the container's current state allows (for the detail page's buttons). Only a
 * container Berth can reach on Proxmox (node and VMID known) has any action but delete.
 */
export function allowedActions(container: Pick<Container, 'status' | 'nodeId' | 'vmid' | 'managed'>, mayOperateUnmanaged = false): LifecycleAction[] {
  const onProxmox = container.nodeId !== null && container.vmid !== null && (container.managed || mayOperateUnmanaged);
  const actions: LifecycleAction[] = onProxmox ? (Object.keys(ACTION_STATES) as ContainerAction[]).filter((a) => ACTION_STATES[a].includes(container.status)) : [];
  if (!DELETE_REFUSED[container.status as ContainerStatus] && container.status !== 'deleting') actions.push('delete');
  return actions;
}

/**
 * Who may have Berth act on Proxmox for a container: anyone who may change a container Berth made
 * (its guest carries Berth's marker, checked again by the job); for any other record, whose node and
 * VMID are what someone typed, only those the policy lets (`can(user, 'operateUnmanaged')`).
 */
export interface OperateOptions {
  mayOperateUnmanaged: boolean;
}

/**
 * The container row again, locked for this transaction: two requests for the same container
 * queue here, so the second sees the first one's job (SQLite: the IMMEDIATE transaction does it).
 */
async function lockContainer(cmd: CommandContext, id: number, t: Transaction): Promise<Container> {
  const row = await cmd.models.Container.findByPk(id, { transaction: t, lock: t.LOCK.UPDATE });
  if (!row) throw new NotFoundError('No such container.');
  return row;
}

/** Refuses (409, naming the job) while another job works on this container. */
async function assertIdle(cmd: CommandContext, container: Container, t: Transaction): Promise<void> {
  const busy = await cmd.models.Job.findOne({
    where: { subjectType: 'container', subjectId: container.id, status: { [Op.in]: ACTIVE_JOB_STATUSES } },
    order: [['id', 'ASC']],
    transaction: t,
  });
  if (busy) throw new ConflictError(`${container.hostname} is busy: job ${busy.id} (${busy.task ?? busy.command}) is ${busy.status}. Try again when it has ended.`);
}

/** Enqueues a lifecycle job for the container, owned by the requester, and audits it. */
async function enqueueFor(cmd: CommandContext, container: Container, action: LifecycleAction, params: object, t: Transaction): Promise<Job> {
  const job = await enqueueJob(cmd.models, {
    task: LIFECYCLE_TASKS[action],
    params: { containerId: container.id, hostname: container.hostname, ...params },
    createdBy: cmd.actor.username,
    mayRunAdminTasks: false,
    subjectType: 'container',
    subjectId: container.id,
    transaction: t,
  });
  await cmd.auditor.record(cmd.actor, jobEnqueuedEvent(job), t);
  return job;
}

/**
 * Asks for `action` on the container: allowed only from the states in ACTION_STATES, on a container
 * Berth can reach on Proxmox, when no other job is working on it (409 otherwise). A resize is
 * checked against the limits and the owner's quota (422). Returns the job.
 */
export async function requestLifecycle(cmd: CommandContext, container: Container, action: ContainerAction, input: ResizeInput, opts: OperateOptions): Promise<Job> {
  return inTransaction(cmd, async (t) => {
    // A resize counts against the owner's quota: their requests queue on their user row (as in
    // request.ts), taken before the container's so both commands lock in the same order.
    if (action === 'resize' && container.username) await cmd.models.User.findOne({ where: { username: container.username }, transaction: t, lock: t.LOCK.UPDATE });
    const row = await lockContainer(cmd, container.id, t);
    if (row.nodeId === null || row.vmid === null) throw new ConflictError(`${row.hostname} is not on Proxmox as far as Berth knows (no node or VMID), so it cannot be ${pastTense(action)} from here.`);
    if (!row.managed && !opts.mayOperateUnmanaged) throw new ForbiddenError(`Berth did not create ${row.hostname}, so only an administrator can have it ${pastTense(action)} on Proxmox.`);
    if (!ACTION_STATES[action].includes(row.status)) {
      throw new ConflictError(`${row.hostname} is ${row.status}: only a ${ACTION_STATES[action].join(' or ')} container can be ${pastTense(action)}.`);
    }
    await assertIdle(cmd, row, t);
    const params = action === 'resize' ? await checkResize(cmd, row, input, t) : {};
    return enqueueFor(cmd, row, action, params, t);
  });
}

function pastTense(action: ContainerAction): string {
  return { start: 'started', stop: 'stopped', shutdown: 'shut down', reboot: 'rebooted', resize: 'resized' }[action];
}

/**
 * The resize's rules: within CONTAINER_MAX_*, the disk never shrinks, something changes, and the
 * growth (with other resizes of the owner's still under way) fits the owner's quota. Returns the
 * job's parameters: only the sizes that change.
 */
async function checkResize(cmd: CommandContext, row: Container, input: ResizeInput, t: Transaction): Promise<ResizeInput> {
  const { config } = cmd;
  const fields: Record<string, string> = {};
  if (input.cores !== undefined && input.cores > config.CONTAINER_MAX_CORES) fields.cores = `At most ${config.CONTAINER_MAX_CORES} cores.`;
  if (input.memoryMb !== undefined && input.memoryMb > config.CONTAINER_MAX_MEMORY_MB) fields.memoryMb = `At most ${config.CONTAINER_MAX_MEMORY_MB} MB.`;
  if (input.diskGb !== undefined && input.diskGb > config.CONTAINER_MAX_DISK_GB) fields.diskGb = `At most ${config.CONTAINER_MAX_DISK_GB} GB.`;
  // The same smallest sizes as a new container's (params.ts).
  if (input.cores !== undefined && input.cores < CONTAINER_MINIMUMS.cores) fields.cores = `At least ${CONTAINER_MINIMUMS.cores} core.`;
  if (input.memoryMb !== undefined && input.memoryMb < CONTAINER_MINIMUMS.memoryMb) fields.memoryMb = `At least ${CONTAINER_MINIMUMS.memoryMb} MB.`;
  if (input.diskGb !== undefined && row.diskGb !== null && input.diskGb < row.diskGb) fields.diskGb = `The disk can only grow: it has ${row.diskGb} GB.`;
  if (Object.keys(fields).length) throw new ValidationError('Please correct the highlighted fields.', fields);

  const changes: ResizeInput = {};
  if (input.cores !== undefined && input.cores !== row.cores) changes.cores = input.cores;
  if (input.memoryMb !== undefined && input.memoryMb !== row.memoryMb) changes.memoryMb = input.memoryMb;
  if (input.diskGb !== undefined && input.diskGb !== row.diskGb) changes.diskGb = input.diskGb;
  if (!Object.keys(changes).length) throw new ValidationError(`${row.hostname} already has these sizes: nothing to change.`);

  if (row.username) {
    const growth = growthOf(row, changes);
    const pending = await pendingGrowth(cmd, row.username, t);
    const used = await usageOf(cmd.models, row.username, t);
    const over = overQuota(add(used, pending), growth, await quotaFor(cmd.models, config, row.username, t));
    if (over.length) throw new ValidationError(`This is over ${row.username === cmd.actor.username ? 'your' : `${row.username}'s`} quota: ${over.map((o) => o.text).join('; ')}.`, { quota: over.map((o) => o.text).join('; ') });
  }
  return changes;
}

/** What a resize adds to the owner's usage (a size going down frees nothing until the job has run). */
function growthOf(row: Pick<Container, 'cores' | 'memoryMb' | 'diskGb'>, changes: ResizeInput): Resources {
  const more = (next: number | undefined, now: number | null) => (next === undefined ? 0 : Math.max(0, next - (now ?? 0)));
  return { containers: 0, cores: more(changes.cores, row.cores), memoryMb: more(changes.memoryMb, row.memoryMb), diskGb: more(changes.diskGb, row.diskGb) };
}

const add = (a: Resources, b: Resources): Resources => ({ containers: a.containers + b.containers, cores: a.cores + b.cores, memoryMb: a.memoryMb + b.memoryMb, diskGb: a.diskGb + b.diskGb });

/** The growth of the owner's resizes not yet done: the records change only when their jobs end. */
async function pendingGrowth(cmd: CommandContext, username: string, t: Transaction): Promise<Resources> {
  const total: Resources = { containers: 0, cores: 0, memoryMb: 0, diskGb: 0 };
  const owned = await cmd.models.Container.findAll({ where: { username }, attributes: ['id', 'cores', 'memoryMb', 'diskGb'], transaction: t });
  if (!owned.length) return total;
  const jobs = await cmd.models.Job.findAll({
    where: { task: LIFECYCLE_TASKS.resize, subjectType: 'container', subjectId: owned.map((c) => c.id), status: { [Op.in]: ACTIVE_JOB_STATUSES } },
    attributes: ['subjectId', 'params'],
    transaction: t,
  });
  const byId = new Map(owned.map((c) => [c.id, c]));
  for (const job of jobs) {
    const record = byId.get(job.subjectId ?? -1);
    if (!record) continue;
    const params = JSON.parse(job.params ?? '{}') as ResizeInput;
    Object.assign(total, add(total, growthOf(record, params)));
  }
  return total;
}

/** A delete that went to Proxmox (a job), or one that only removed Berth's record. */
export type DeleteAnswer = { job: Job; message: string } | { job: null; message: string };

/**
 * Deletes the container: with a node and VMID, the record becomes `deleting` and a container.delete
 * job removes it from Proxmox and then the record; without, the record is removed now (there is
 * nothing on Proxmox Berth could delete). Refused (409) while it is being created or another job
 * works on it. A `deleting` container whose job was cancelled may be deleted again.
 */
export async function requestDelete(cmd: CommandContext, container: Container, opts: OperateOptions): Promise<DeleteAnswer> {
  return inTransaction(cmd, async (t) => {
    const row = await lockContainer(cmd, container.id, t);
    const refused = DELETE_REFUSED[row.status as ContainerStatus];
    if (refused) throw new ConflictError(`${row.hostname} cannot be deleted now: ${refused}.`);
    await assertIdle(cmd, row, t);
    // A request still waiting for an admin: its requester takes it back (nothing exists on Proxmox).
    if (row.status === 'pending-approval') {
      await cmd.models.ContainerRequest.update({ status: 'withdrawn', decidedBy: cmd.actor.username, containerId: null }, { where: { containerId: row.id, status: 'pending' }, transaction: t });
      await deleteRecord(cmd, containerKind, row, { transaction: t });
      return { job: null, message: `The request for ${row.hostname} was withdrawn.` };
    }
    if (row.nodeId === null || row.vmid === null) {
      await deleteRecord(cmd, containerKind, row, { transaction: t });
      return { job: null, message: `Container ${row.hostname} removed from Berth (it has no node or VMID, so nothing was deleted on Proxmox).` };
    }
    if (!row.managed && !opts.mayOperateUnmanaged) {
      await deleteRecord(cmd, containerKind, row, { transaction: t });
      return { job: null, message: `Container ${row.hostname} removed from Berth. Berth did not create it, so it was not deleted on Proxmox; an administrator can do that.` };
    }
    const before = row.status;
    // A retry after a cancelled delete: the status to put back if Proxmox refuses is the one the
    // cancelled job kept.
    const previousStatus: ContainerStatus = before === 'deleting' ? await statusBeforeLastDelete(cmd, row, t) : before;
    if (before !== 'deleting') {
      await row.update({ status: 'deleting' }, { transaction: t });
      await cmd.auditor.record(cmd.actor, { action: 'container.delete-request', objectType: 'container', objectId: row.id, objectLabel: row.hostname, changes: { status: { before, after: 'deleting' } } }, t);
    }
    const job = await enqueueFor(cmd, row, 'delete', { previousStatus }, t);
    return { job, message: `Deleting container ${row.hostname} (job ${job.id}).` };
  });
}

/** The status a container had before its last delete job (kept in the job's parameters), or `unknown`. */
async function statusBeforeLastDelete(cmd: CommandContext, row: Container, t: Transaction): Promise<ContainerStatus> {
  const last = await cmd.models.Job.findOne({ where: { task: LIFECYCLE_TASKS.delete, subjectType: 'container', subjectId: row.id }, order: [['id', 'DESC']], attributes: ['params'], transaction: t });
  const kept = (JSON.parse(last?.params ?? '{}') as { previousStatus?: ContainerStatus }).previousStatus;
  return kept && kept !== 'deleting' ? kept : 'unknown';
}
