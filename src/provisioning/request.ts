// Asking for a new container: the quota, the hostname reservation, the address, and the
// container.create job, all in one transaction. The job does the Proxmox side (create-task.ts).
import crypto from 'node:crypto';
import { UniqueConstraintError, type Transaction } from 'sequelize';
import { UNBUILT_CONTAINER_STATUSES } from '../../models/Container.js';
import type { Container, ContainerRequest, Node } from '../../models/index.js';
import { ConflictError, NotFoundError, ValidationError } from '../lib/errors.js';
import { enqueueJob, jobEnqueuedEvent } from '../jobs/enqueue.js';
import { mailQueued, queueMail, type MailResult } from '../notify/outbox.js';
import { inTransaction, type CommandContext } from '../services/context.js';
import { allocateAddress } from './addresses.js';
import { checkExpiry } from './expiry.js';
import { CREATE_TASK, type ContainerRequestInput, type ProvisionParams } from './params.js';
import { quotaFor, usageOf, overQuota, type Resources } from './quota.js';

/** The answer to a request, and what an Idempotency-Key replays. */
export interface ProvisionAnswer {
  /** `submitted`: a job is building it; `pending`: over quota, in the admin queue. */
  state: 'submitted' | 'pending';
  containerId: number;
  requestId: number;
  jobId: number | null;
  statusUrl: string | null;
  /** True when this repeats an earlier identical request (same job, nothing new written). */
  repeated?: boolean;
}

export interface RequestOptions {
  /** The policy's answer: admins may leave the expiry out and go past the maximum. */
  isAdmin: boolean;
  /** Picks a node among those with the template (the route asks Proxmox for free memory). */
  chooseNode: (candidates: Node[]) => Promise<Node>;
  /** `Idempotency-Key` and the request's hash. */
  idempotency?: { key: string; hash: string };
}

function hashInput(input: ContainerRequestInput): string {
  const { submitForApproval: _ignored, ...rest } = input;
  return crypto.createHash('sha256').update(JSON.stringify(rest)).digest('hex');
}

const statusUrl = (jobId: number | null) => (jobId ? `/status/${jobId}` : null);

function answerOf(container: Container, request: ContainerRequest, repeated = false): ProvisionAnswer {
  return {
    state: request.status === 'pending' ? 'pending' : 'submitted',
    containerId: container.id,
    requestId: request.id,
    jobId: request.jobId,
    statusUrl: statusUrl(request.jobId),
    ...(repeated ? { repeated } : {}),
  };
}

/**
 * Accepts a request for a new container: checks the template, the expiry and the quota, reserves
 * the hostname with a `provisioning` row (or `pending-approval` when over quota and submitted for
 * approval), allocates the address from the node's pool, and enqueues the container.create job.
 * An identical repeat of a request still in progress gets the same answer; a concurrent repeat too
 * (the user's row is locked for the quota check, and a lost race on a unique index is retried).
 */
export async function requestContainer(cmd: CommandContext, input: ContainerRequestInput, opts: RequestOptions): Promise<ProvisionAnswer> {
  const username = cmd.user?.username;
  if (!username) throw new Error('requestContainer needs the signed-in user');
  // A repeat gets the first answer even if what it was checked against has changed since (a node
  // gone offline, a template withdrawn); the transaction below looks again for concurrent repeats.
  if (opts.idempotency) {
    const seen = await cmd.models.IdempotencyKey.findOne({ where: { username, idemKey: opts.idempotency.key } });
    if (seen) return replay(seen, opts.idempotency.hash);
  }
  checkExpiry(cmd.config, input.expiresAt, opts.isAdmin);
  const node = await pickNode(cmd, input, opts);
  const template = await cmd.models.ContainerTemplate.findOne({ where: { nodeId: node.id, osRelease: input.osRelease } });
  if (!template) throw new ValidationError(`${input.osRelease} is not offered on ${node.name}.`, { osRelease: `Not available on ${node.name}.` });
  const inputHash = hashInput(input);

  for (let attempt = 1; ; attempt++) {
    try {
      return await inTransaction(cmd, async (t) => {
        if (opts.idempotency) {
          const seen = await cmd.models.IdempotencyKey.findOne({ where: { username, idemKey: opts.idempotency.key }, transaction: t });
          if (seen) return replay(seen, opts.idempotency.hash);
        }
        // One request per user at a time past this point: the quota sums what the user already has.
        await cmd.models.User.findOne({ where: { username }, transaction: t, lock: t.LOCK.UPDATE });
        const existing = await cmd.models.Container.findOne({ where: { hostname: input.hostname }, transaction: t });
        if (existing) return sameRequestOrConflict(cmd, existing, username, inputHash, t);
        const answer = await reserve(cmd, input, { username, node, volid: template.volid, inputHash }, t);
        if (opts.idempotency) {
          await cmd.models.IdempotencyKey.create({ username, idemKey: opts.idempotency.key, requestHash: opts.idempotency.hash, responseStatus: 202, responseBody: JSON.stringify(answer) }, { transaction: t });
        }
        return answer;
      });
    } catch (err) {
      // Another request took the same hostname, address, MAC or key first: look again (it is committed now).
      if ((err instanceof UniqueConstraintError || isDeadlock(err)) && attempt < 4) continue;
      throw err;
    }
  }
}

function isDeadlock(err: unknown): boolean {
  const code = (err as { parent?: { code?: string } })?.parent?.code;
  return code === 'ER_LOCK_DEADLOCK' || code === 'SQLITE_BUSY';
}

function replay(seen: { requestHash: string; responseBody: string }, hash: string): ProvisionAnswer {
  if (seen.requestHash !== hash) throw new ConflictError('This Idempotency-Key was already used for a different request.');
  return { ...(JSON.parse(seen.responseBody) as ProvisionAnswer), repeated: true };
}

async function pickNode(cmd: CommandContext, input: ContainerRequestInput, opts: RequestOptions): Promise<Node> {
  if (input.nodeId !== null) {
    const node = await cmd.models.Node.findByPk(input.nodeId);
    if (!node) throw new ValidationError('No such node.', { nodeId: 'Choose a node from the list.' });
    return node;
  }
  const rows = await cmd.models.ContainerTemplate.findAll({ where: { osRelease: input.osRelease }, attributes: ['nodeId'] });
  const candidates = rows.length ? await cmd.models.Node.findAll({ where: { id: rows.map((r) => r.nodeId) }, order: [['name', 'ASC']] }) : [];
  if (!candidates.length) throw new ValidationError(`No node offers ${input.osRelease}.`, { osRelease: 'Choose a template from the list.' });
  return candidates.length === 1 ? candidates[0] : opts.chooseNode(candidates);
}

async function sameRequestOrConflict(cmd: CommandContext, existing: Container, username: string, inputHash: string, t: Transaction): Promise<ProvisionAnswer> {
  if (existing.username === username && UNBUILT_CONTAINER_STATUSES.includes(existing.status)) {
    const request = await cmd.models.ContainerRequest.findOne({ where: { containerId: existing.id }, transaction: t });
    if (request && (JSON.parse(request.params) as ProvisionParams).inputHash === inputHash) return answerOf(existing, request, true);
  }
  // Whose it is stays unsaid: the caller may not see that record.
  throw new ConflictError(`The host name ${existing.hostname} is already taken.`, { hostname: 'This host name is already taken.' });
}

async function reserve(
  cmd: CommandContext,
  input: ContainerRequestInput,
  chosen: { username: string; node: Node; volid: string; inputHash: string },
  t: Transaction,
): Promise<ProvisionAnswer> {
  const { models, config } = cmd;
  const wanted: Resources = { containers: 1, cores: input.cores, memoryMb: input.memoryMb, diskGb: input.diskGb };
  const over = overQuota(await usageOf(models, chosen.username, t), wanted, await quotaFor(models, config, chosen.username, t));
  if (over.length && !input.submitForApproval) {
    throw new ValidationError(`This is over your quota: ${over.map((o) => o.text).join('; ')}. You can submit it for approval.`, { quota: over.map((o) => o.text).join('; ') });
  }
  const pool = await models.IpPool.findOne({ where: { nodeId: chosen.node.id }, order: [['id', 'ASC']], transaction: t });
  const address = pool ? await allocateAddress(models, pool, t) : null;
  const container = await models.Container.create({
    hostname: input.hostname,
    username: chosen.username,
    osRelease: input.osRelease,
    nodeId: chosen.node.id,
    vmid: null,
    macAddress: address?.macAddress ?? null,
    ipv4Address: address?.ipv4Address ?? null,
    aiContainer: input.aiContainer,
    status: over.length ? 'pending-approval' : 'provisioning',
    expiresAt: input.expiresAt,
    purpose: input.purpose,
    notes: null,
    tags: null,
    cores: input.cores,
    memoryMb: input.memoryMb,
    diskGb: input.diskGb,
    httpPort: input.httpPort,
    managed: true,
  }, { transaction: t });
  const params: ProvisionParams = {
    volid: chosen.volid,
    storage: config.PROVISION_STORAGE,
    net0: address?.net0 ?? `name=eth0,bridge=${config.PROVISION_BRIDGE},ip=dhcp`,
    sshPublicKeys: input.sshPublicKey,
    inputHash: chosen.inputHash,
  };
  const request = await models.ContainerRequest.create({
    containerId: container.id,
    hostname: container.hostname,
    username: chosen.username,
    params: JSON.stringify(params),
    status: over.length ? 'pending' : 'submitted',
    overage: over.length ? JSON.stringify(over) : null,
    decidedBy: null,
    reason: null,
    jobId: null,
  }, { transaction: t });
  await cmd.auditor.record(cmd.actor, {
    action: 'container.request',
    objectType: 'container',
    objectId: container.id,
    objectLabel: container.hostname,
    changes: Object.fromEntries(Object.entries({
      node: chosen.node.name, osRelease: input.osRelease, cores: input.cores, memoryMb: input.memoryMb, diskGb: input.diskGb,
      ipv4Address: container.ipv4Address, status: container.status,
    }).filter(([, v]) => v !== null).map(([k, v]) => [k, { after: v }])),
  }, t);
  if (!over.length) await submitCreateJob(cmd, container, request, chosen.username, t);
  return answerOf(container, request);
}

/** Enqueues the container.create job for a request (at once, or when an admin approves it). */
async function submitCreateJob(cmd: CommandContext, container: Container, request: ContainerRequest, owner: string, t: Transaction): Promise<void> {
  const job = await enqueueJob(cmd.models, {
    task: CREATE_TASK,
    params: { containerId: container.id, requestId: request.id, hostname: container.hostname },
    // The requester owns the job (they watch it and may cancel it), also when an admin approved it.
    createdBy: owner,
    mayRunAdminTasks: false,
    subjectType: 'container',
    subjectId: container.id,
    transaction: t,
  });
  await cmd.auditor.record(cmd.actor, jobEnqueuedEvent(job), t);
  await request.update({ jobId: job.id }, { transaction: t });
}

/** Approves a request waiting in the admin queue: the reservation becomes `provisioning` and the job starts. */
export async function approveContainerRequest(cmd: CommandContext, requestId: number): Promise<ProvisionAnswer> {
  return inTransaction(cmd, async (t) => {
    const request = await cmd.models.ContainerRequest.findByPk(requestId, { transaction: t, lock: t.LOCK.UPDATE });
    if (!request) throw new NotFoundError('No such container request.');
    if (request.status !== 'pending') throw new ConflictError(`This request was already decided (${request.status}).`);
    const container = request.containerId ? await cmd.models.Container.findByPk(request.containerId, { transaction: t }) : null;
    if (!container) throw new ConflictError('The reservation of this request is gone.');
    await request.update({ status: 'submitted', decidedBy: cmd.actor.username }, { transaction: t });
    await container.update({ status: 'provisioning' }, { transaction: t });
    await cmd.auditor.record(cmd.actor, { action: 'container.approve', objectType: 'container', objectId: container.id, objectLabel: container.hostname, changes: { status: { before: 'pending-approval', after: 'provisioning' } } }, t);
    await submitCreateJob(cmd, container, request, request.username, t);
    return answerOf(container, request);
  });
}

/**
 * Rejects a request: the reservation is released and the mail with the reason is queued in the same
 * transaction. A requester without an address still gets a queued mail (no recipients, `forUser`
 * says whose): delivery fails it with the reason, so admins see it in the outbox.
 */
export async function rejectContainerRequest(cmd: CommandContext, requestId: number, reason: string): Promise<{ mail: MailResult }> {
  return inTransaction(cmd, async (t) => {
    const row = await cmd.models.ContainerRequest.findByPk(requestId, { transaction: t, lock: t.LOCK.UPDATE });
    if (!row) throw new NotFoundError('No such container request.');
    if (row.status !== 'pending') throw new ConflictError(`This request was already decided (${row.status}).`);
    const container = row.containerId ? await cmd.models.Container.findByPk(row.containerId, { transaction: t }) : null;
    await row.update({ status: 'rejected', decidedBy: cmd.actor.username, reason, containerId: null }, { transaction: t });
    if (container) await container.destroy({ transaction: t });
    await cmd.auditor.record(cmd.actor, { action: 'container.reject', objectType: 'container', objectId: container?.id ?? null, objectLabel: row.hostname, changes: { reason: { after: reason } } }, t);
    const user = await cmd.models.User.findOne({ where: { username: row.username }, transaction: t });
    const message = await queueMail(
      cmd,
      {
        to: [user?.email],
        subject: `Your container request ${row.hostname} was declined`,
        template: 'container-rejected',
        category: 'container-rejected',
        forUser: row.username,
        data: { hostname: row.hostname, reason, decidedBy: cmd.actor.username },
      },
      t,
    );
    return { mail: user?.email ? mailQueued(cmd.config, message) : { outboxId: message.id, reason: 'no email address' } };
  });
}

