// The container lifecycle tasks (issue 13): start, stop, shutdown, reboot, resize and delete, one
// job each, enqueued by lifecycle.ts. Each follows the Proxmox task into the job output under
// numbered step lines, then writes the record and its audit event as the job's requester.
import { z } from 'zod';
import { CONTAINER_STATUSES, type ContainerStatus } from '../../models/Container.js';
import type { Container, Node } from '../../models/index.js';
import { publishOnCommit } from '../edge/publish.js';
import { containerKind } from '../inventory/kinds.js';
import { deleteRecord } from '../inventory/records.js';
import { registerTask, type TaskContext } from '../jobs/tasks/registry.js';
import { isProxmoxError, volumeSize, type ProxmoxClient, type ProxmoxErrorCode } from '../lib/proxmox/index.js';
import { inTransaction, type CommandContext } from '../services/context.js';
import { markedContainerId } from './marker.js';
import { LIFECYCLE_TASKS } from './params.js';
import { followProxmoxTask, isGoneFromProxmox, jobRequester, loadContainer, nodeClient, proxmoxWords, StepError, stepLine, taskCommand } from './task-support.js';

const GIB = 1024 ** 3;
const MIB = 1024 ** 2;

const target = {
  containerId: z.number().int().positive(),
  /** For the job's one-line description only; the task reads the record. */
  hostname: z.string().max(255).optional(),
};
// Proxmox's own upper bounds (its schema's), against a job row written by hand; the configured
// limits (CONTAINER_MAX_*) and the quota are the command's, checked when the job is asked for.
const size = (max: number) => z.number().int().positive().max(max).optional();

const powerSchema = z.object(target).strict();
const resizeSchema = z.object({ ...target, cores: size(8192), memoryMb: size(16_777_216), diskGb: size(1_048_576) }).strict();
const deleteSchema = z.object({ ...target, previousStatus: z.enum(CONTAINER_STATUSES) }).strict();

const label = (p: { containerId: number; hostname?: string }) => p.hostname ?? `#${p.containerId}`;

/** What Berth knows to reach the container with: its record, node, VMID and a client (closed by `using`). */
interface Target {
  cmd: CommandContext;
  container: Container;
  node: Node;
  vmid: number;
  client: ProxmoxClient;
  /** "web01 (CT 101 on pve1)". */
  where: string;
}

/** Loads the container and opens its node's client for `work`, closing the client afterwards. */
async function withTarget(ctx: TaskContext, containerId: number, work: (target: Target) => Promise<void>, opts: { marker: 'first' | 'in-work' } = { marker: 'first' }): Promise<void> {
  const cmd = taskCommand(ctx, await jobRequester(ctx));
  const { container, node } = await loadContainer(ctx, containerId);
  if (container.vmid === null) throw new StepError('Loading the container', `${container.hostname} has no VMID`);
  const client = nodeClient(cmd, node);
  try {
    // The delete checks it itself, inside the part that puts the record's status back on failure.
    if (opts.marker === 'first') await checkMarker(client, container, node.name, container.vmid);
    await work({ cmd, container, node, vmid: container.vmid, client, where: `${container.hostname} (CT ${container.vmid} on ${node.name})` });
  } finally {
    await client.close();
  }
}

/**
 * A container Berth made must still carry its record's marker: its owner may have edited the
 * record's node or VMID, or the record is stale and another container now has that VMID; neither
 * is acted on. A guest already gone is left to the action (a delete counts it as done).
 */
async function checkMarker(client: ProxmoxClient, container: Container, nodeName: string, vmid: number): Promise<void> {
  if (!container.managed) return;
  let description: unknown;
  try {
    description = (await client.containers.config(nodeName, vmid)).description;
  } catch (err) {
    if (isGoneFromProxmox(err)) return;
    throw new StepError('Checking the container', proxmoxWords(err));
  }
  if (markedContainerId(description) !== container.id) {
    throw new StepError('Checking the container', `CT ${vmid} on ${nodeName} does not carry Berth's marker for this record; nothing was done to it (check the record's node and VMID)`);
  }
}

/**
 * Starts a Proxmox operation and follows its task. Returns false, without failing, when Proxmox
 * says the container is already where the operation would take it (`alreadyDone`).
 */
async function operate(ctx: TaskContext, client: ProxmoxClient, step: string, call: () => Promise<string>, alreadyDone?: ProxmoxErrorCode): Promise<boolean> {
  let upid: string;
  try {
    upid = await call();
  } catch (err) {
    if (alreadyDone && isProxmoxError(err) && err.code === alreadyDone) {
      ctx.stdout(`    ${proxmoxWords(err)}: nothing to do\n`);
      return false;
    }
    throw new StepError(step, proxmoxWords(err));
  }
  await followProxmoxTask(ctx, client, upid, step);
  return true;
}

/** Writes the record's new values and the audit event of `action`, in one transaction. */
async function recordChange(cmd: CommandContext, container: Container, action: string, values: Partial<Pick<Container, 'status' | 'cores' | 'memoryMb' | 'diskGb'>>): Promise<void> {
  await inTransaction(cmd, async (t) => {
    const changes: Record<string, { before: unknown; after: unknown }> = {};
    for (const [key, after] of Object.entries(values)) {
      const before = container.get(key as keyof typeof values);
      if (before !== after) changes[key] = { before, after };
    }
    if (Object.keys(changes).length) await container.update(values, { transaction: t });
    await cmd.auditor.record(cmd.actor, { action, objectType: 'container', objectId: container.id, objectLabel: container.hostname, changes }, t);
    // A started or stopped container's services enter or leave the edge config.
    if (changes.status) await publishOnCommit(cmd, t, container.id, { reason: `container ${container.hostname} is now ${String(values.status)} (${action})` });
  });
}

/** A power action: what it calls, the step's words, the status it leaves, and the answer meaning "already so". */
interface PowerAction {
  action: 'start' | 'stop' | 'shutdown' | 'reboot';
  verb: string;
  doing: string;
  call(client: ProxmoxClient, node: string, vmid: number): Promise<string>;
  after: ContainerStatus;
  alreadyDone?: ProxmoxErrorCode;
}

const POWER_ACTIONS: PowerAction[] = [
  { action: 'start', verb: 'Start', doing: 'Starting', call: (c, n, v) => c.containers.start(n, v), after: 'running', alreadyDone: 'already-running' },
  { action: 'stop', verb: 'Stop', doing: 'Stopping', call: (c, n, v) => c.containers.stop(n, v), after: 'stopped', alreadyDone: 'not-running' },
  { action: 'shutdown', verb: 'Shut down', doing: 'Shutting down', call: (c, n, v) => c.containers.shutdown(n, v), after: 'stopped', alreadyDone: 'not-running' },
  { action: 'reboot', verb: 'Reboot', doing: 'Rebooting', call: (c, n, v) => c.containers.reboot(n, v), after: 'running' },
];

for (const power of POWER_ACTIONS) {
  registerTask({
    name: LIFECYCLE_TASKS[power.action],
    kind: 'function',
    schema: powerSchema,
    describe: (p) => `${power.verb} container ${label(p)}`,
    run: (params, ctx) =>
      withTarget(ctx, params.containerId, async ({ cmd, container, node, vmid, client, where }) => {
        const step = `${power.doing} ${where}`;
        stepLine(ctx, 1, 2, step);
        await operate(ctx, client, step, () => power.call(client, node.name, vmid), power.alreadyDone);
        stepLine(ctx, 2, 2, `Recording ${container.hostname} as ${power.after}`);
        await recordChange(cmd, container, `container.${power.action}`, { status: power.after });
      }),
  });
}

/** `+2G` for a whole number of GiB, else `+N M` rounded up (Proxmox needs a unit: a bare number is bytes). */
function growth(bytes: number): string {
  return bytes % GIB === 0 ? `+${bytes / GIB}G` : `+${Math.ceil(bytes / MIB)}M`;
}

registerTask({
  name: LIFECYCLE_TASKS.resize,
  kind: 'function',
  schema: resizeSchema,
  describe: (p) => `Resize container ${label(p)} (${[p.cores && `${p.cores} cores`, p.memoryMb && `${p.memoryMb} MB`, p.diskGb && `${p.diskGb} GB disk`].filter(Boolean).join(', ')})`,
  run: (params, ctx) =>
    withTarget(ctx, params.containerId, async ({ cmd, container, node, vmid, client, where }) => {
      const setsCpuOrMemory = params.cores !== undefined || params.memoryMb !== undefined;
      const total = 2 + (setsCpuOrMemory ? 1 : 0) + (params.diskGb !== undefined ? 1 : 0);
      let n = 0;
      const nextStep = (text: string) => stepLine(ctx, ++n, total, text);
      const reading = `Reading the configuration of ${where}`;
      nextStep(reading);
      let config;
      try {
        config = await client.containers.config(node.name, vmid);
      } catch (err) {
        throw new StepError(reading, proxmoxWords(err));
      }
      if (setsCpuOrMemory) {
        const step = `Setting ${[params.cores !== undefined && `${params.cores} cores`, params.memoryMb !== undefined && `${params.memoryMb} MB of memory`].filter(Boolean).join(' and ')}`;
        nextStep(step);
        const changes: Record<string, number> = {};
        if (params.cores !== undefined) changes.cores = params.cores;
        if (params.memoryMb !== undefined) changes.memory = params.memoryMb;
        try {
          await client.containers.updateConfig(node.name, vmid, changes, { digest: typeof config.digest === 'string' ? config.digest : undefined });
        } catch (err) {
          throw new StepError(step, proxmoxWords(err));
        }
      }
      if (params.diskGb !== undefined) {
        const step = `Growing the disk to ${params.diskGb} GB`;
        nextStep(step);
        const current = volumeSize(typeof config.rootfs === 'string' ? config.rootfs : undefined);
        const wanted = params.diskGb * GIB;
        if (current === wanted) {
          ctx.stdout(`    the disk already has ${params.diskGb} GB\n`);
        } else {
          // Growth is sent as `+N`; anything else (a smaller size, an unreadable one) as the size
          // itself, so Proxmox answers in its own words when it cannot.
          const spec = current !== null && wanted > current ? growth(wanted - current) : `${params.diskGb}G`;
          ctx.stdout(`    rootfs: ${current === null ? 'size unknown' : `${(current / GIB).toFixed(1).replace(/\.0$/, '')} GB`} → ${spec}\n`);
          await operate(ctx, client, step, () => client.containers.resize(node.name, vmid, { disk: 'rootfs', size: spec }));
        }
      }
      nextStep(`Recording the new sizes of ${container.hostname}`);
      const values: Partial<Pick<Container, 'cores' | 'memoryMb' | 'diskGb'>> = {};
      if (params.cores !== undefined) values.cores = params.cores;
      if (params.memoryMb !== undefined) values.memoryMb = params.memoryMb;
      if (params.diskGb !== undefined) values.diskGb = params.diskGb;
      await recordChange(cmd, container, 'container.resize', values);
    }),
});


registerTask({
  name: LIFECYCLE_TASKS.delete,
  kind: 'function',
  schema: deleteSchema,
  describe: (p) => `Delete container ${label(p)}`,
  run: (params, ctx) =>
    withTarget(ctx, params.containerId, async ({ cmd, container, node, vmid, client, where }) => {
      // What to put back if Proxmox refuses: the status before, or `stopped` once this job stopped it.
      let statusNow: ContainerStatus = params.previousStatus;
      try {
        await checkMarker(client, container, node.name, vmid);
        let gone = false;
        const stopping = `Stopping ${where}`;
        stepLine(ctx, 1, 3, stopping);
        try {
          const status = await client.containers.status(node.name, vmid);
          if (status.status === 'running') {
            await operate(ctx, client, stopping, () => client.containers.stop(node.name, vmid), 'not-running');
            statusNow = 'stopped';
          } else {
            ctx.stdout(`    it is ${status.status ?? 'not running'}\n`);
          }
        } catch (err) {
          if (!isGoneFromProxmox(err)) throw err instanceof StepError ? err : new StepError(stopping, proxmoxWords(err));
          gone = true;
          ctx.stdout(`    ${proxmoxWords(err)}: it is already gone from Proxmox\n`);
        }

        const deleting = `Deleting ${where} on Proxmox`;
        stepLine(ctx, 2, 3, deleting);
        if (!gone) {
          let upid: string | null = null;
          try {
            upid = await client.containers.delete(node.name, vmid, { purge: true });
          } catch (err) {
            if (!isGoneFromProxmox(err)) throw new StepError(deleting, proxmoxWords(err));
            ctx.stdout(`    ${proxmoxWords(err)}: it is already gone from Proxmox\n`);
          }
          if (upid) await followProxmoxTask(ctx, client, upid, deleting);
        }

        stepLine(ctx, 3, 3, `Removing ${container.hostname} from Berth`);
        await deleteRecord(cmd, containerKind, container);
      } catch (err) {
        await restoreStatus(cmd, container.id, statusNow, err);
        throw err;
      }
    }, { marker: 'in-work' }),
});

/**
 * After a refused delete the record stays, with the status it had (the audit trail says why). A
 * record already gone (deleted meanwhile) or no longer `deleting` is left as it is.
 */
async function restoreStatus(cmd: CommandContext, containerId: number, status: ContainerStatus, err: unknown): Promise<void> {
  const record = await cmd.models.Container.findByPk(containerId);
  if (!record || record.status !== 'deleting') return;
  await inTransaction(cmd, async (t) => {
    await record.update({ status }, { transaction: t });
    await publishOnCommit(cmd, t, record.id, { reason: `container ${record.hostname} is ${status} again (its delete failed)` });
    await cmd.auditor.record(cmd.actor, {
      action: 'container.delete-failed',
      objectType: 'container',
      objectId: record.id,
      objectLabel: record.hostname,
      changes: { status: { before: 'deleting', after: status }, reason: { after: err instanceof Error ? err.message : String(err) } },
    }, t);
  });
}
