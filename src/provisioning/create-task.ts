// The container.create task: builds the container a request reserved (src/provisioning/request.ts)
// on Proxmox, step by step, and either writes the finished record or leaves nothing behind. What
// "nothing behind" means when a step fails after the create call: the container is removed from
// Proxmox and the reservation row with it; when the removal fails too, the row stays as `error`
// with what is left, for an admin. A runner killed mid-create leaves the row `provisioning` with its
// VMID (stored before the create call), which the next inventory sync reports as left over.
import { UniqueConstraintError } from 'sequelize';
import { z } from 'zod';
import type { Container, ContainerRequest, Node } from '../../models/index.js';
import { registerDefaultServices } from '../edge/default-services.js';
import { publishEdgeConfig } from '../edge/publish.js';
import { registerTask, type TaskContext } from '../jobs/tasks/registry.js';
import { isProxmoxError, isTaskSuccess, type ProxmoxClient } from '../lib/proxmox/index.js';
import { sleep } from '../lib/retry.js';
import { normaliseMac } from '../lib/validators.js';
import { inTransaction, type CommandContext } from '../services/context.js';
import { BERTH_TAG, berthDescription, markedContainerId } from './marker.js';
import { CONTAINER_DEFAULTS, CREATE_TASK, type ProvisionParams } from './params.js';
import { StepError, followProxmoxTask, isGoneFromProxmox, jobRequester, loadContainer, nodeClient, proxmoxCall, proxmoxWords, stepLine, taskCommand } from './task-support.js';

const STEPS = 6;
const STEP = {
  check: 'Checking the node',
  vmid: 'Reserving VMID',
  create: 'Creating the container',
  start: 'Starting the container',
  mac: 'Reading the MAC address',
  ip: 'Waiting for the IPv4 address',
} as const;
/** Another request may take the VMID between nextid and the create call; after this many, give up. */
const VMID_ATTEMPTS = 10;
/** Swap for every new container (MB), as the Proxmox GUI's default. */
const SWAP_MB = 512;

// hostname only names the job (the row is the truth; jobs enqueued before it was added lack it).
const createParams = z.object({ containerId: z.number().int().positive(), requestId: z.number().int().positive(), hostname: z.string().max(255).optional() }).strict();
type CreateParams = z.infer<typeof createParams>;

/**
 * How far the Proxmox side got, for the clean-up: `vmid` once a create call was sent (`created`
 * 'yes' when Proxmox accepted it, 'maybe' when the answer never came), and the UPID of a task that
 * may still be running (it holds the container's lock until it ends).
 */
interface Progress {
  step: string;
  vmid: number | null;
  created: 'no' | 'maybe' | 'yes';
  runningTask: string | null;
}

registerTask({
  name: CREATE_TASK,
  kind: 'function',
  schema: createParams,
  describe: (p) => `Create container ${p.hostname ?? p.containerId} (request ${p.requestId})`,
  run: runCreate,
});

async function runCreate(params: CreateParams, ctx: TaskContext): Promise<void> {
  const cmd = taskCommand(ctx, await jobRequester(ctx));
  const { container, node } = await loadContainer(ctx, params.containerId);
  // The job is never re-run, but a stray one (enqueued by hand) must not touch a finished record.
  if (container.status !== 'provisioning') throw new StepError('Loading the container', `${container.hostname} is ${container.status}, not provisioning`);
  const progress: Progress = { step: 'Loading the request', vmid: null, created: 'no', runningTask: null };
  // From here every failure goes through failCreate, so the reservation never outlives the job
  // (a node without a usable token, a request row gone: nothing was sent to Proxmox, it is removed).
  let client: ProxmoxClient | null = null;
  try {
    const request = await ctx.models.ContainerRequest.findByPk(params.requestId);
    if (!request || request.containerId !== container.id) throw new StepError(progress.step, `request ${params.requestId} is not the request of ${container.hostname}`);
    const wanted = JSON.parse(request.params) as ProvisionParams;
    progress.step = 'Connecting to the node';
    client = nodeClient(cmd, node);
    progress.step = STEP.check;
    await build(ctx, cmd, client, { container, node, request, wanted }, progress);
  } catch (err) {
    await failCreate(ctx, cmd, client, container, node, progress, err);
  } finally {
    await client?.close();
  }
}

interface Build {
  container: Container;
  node: Node;
  request: ContainerRequest;
  wanted: ProvisionParams;
}

async function build(ctx: TaskContext, cmd: CommandContext, client: ProxmoxClient, b: Build, progress: Progress): Promise<void> {
  const { container, node, wanted } = b;
  const memoryMb = container.memoryMb ?? CONTAINER_DEFAULTS.memoryMb;

  stepLine(ctx, 1, STEPS, `${STEP.check} ${node.name}`);
  const resources = await proxmoxCall(STEP.check, () => client.cluster.nodeResources());
  const here = resources.find((r) => r.node === node.name);
  if (!here || here.status !== 'online') throw new StepError(STEP.check, `node ${node.name} is ${here ? here.status : 'not in the cluster'}`);
  const freeMb = Math.floor(here.free / 1024 ** 2);
  if (here.maxmem && freeMb < memoryMb) throw new StepError(STEP.check, `${node.name} has ${freeMb} MiB of memory free, the container needs ${memoryMb} MiB`);
  const cores = container.cores ?? CONTAINER_DEFAULTS.cores;
  if (here.maxcpu && cores > here.maxcpu) throw new StepError(STEP.check, `${node.name} has ${here.maxcpu} CPUs, the container asks for ${cores} cores`);
  const templates = await proxmoxCall(STEP.check, () => client.storage.templates(node.name));
  if (!templates.some((t) => t.volid === wanted.volid)) throw new StepError(STEP.check, `the template ${wanted.volid} is not on ${node.name}`);
  ctx.stdout(`    ${freeMb} MiB free; template ${wanted.volid} present\n`);

  progress.step = STEP.vmid;
  stepLine(ctx, 2, STEPS, STEP.vmid);
  const upid = await createWithFreeVmid(ctx, client, b, progress);

  progress.step = STEP.create;
  stepLine(ctx, 3, STEPS, `${STEP.create} (CT ${progress.vmid} from ${wanted.volid})`);
  await followTask(ctx, client, upid, STEP.create, progress);
  const vmid = progress.vmid!;

  progress.step = STEP.start;
  stepLine(ctx, 4, STEPS, STEP.start);
  const startUpid = await proxmoxCall(STEP.start, () => client.containers.start(node.name, vmid));
  await followTask(ctx, client, startUpid, STEP.start, progress);

  progress.step = STEP.mac;
  stepLine(ctx, 5, STEPS, `${STEP.mac} of net0`);
  const rawMac = await proxmoxCall(STEP.mac, () => client.containers.mac(node.name, vmid));
  if (!rawMac) throw new StepError(STEP.mac, 'net0 has no MAC address');
  const mac = normaliseMac(rawMac);
  if (container.macAddress && normaliseMac(container.macAddress) !== mac) {
    throw new StepError(STEP.mac, `Proxmox gave net0 the MAC ${mac}, not the pool's ${container.macAddress}`);
  }
  ctx.stdout(`    ${mac}\n`);

  progress.step = STEP.ip;
  stepLine(ctx, 6, STEPS, STEP.ip);
  const ip = await waitForIpv4(ctx, client, node.name, vmid);
  if (container.ipv4Address && ip !== container.ipv4Address) {
    throw new StepError(STEP.ip, `the container has ${ip}, not the pool's ${container.ipv4Address}`);
  }
  ctx.stdout(`    ${ip}\n`);

  const serviceLines = await inTransaction(cmd, async (t) => {
    await container.update({ vmid, macAddress: mac, ipv4Address: ip, status: 'running', provisionError: null }, { transaction: t });
    await cmd.auditor.record(cmd.actor, {
      action: 'container.create',
      objectType: 'container',
      objectId: container.id,
      objectLabel: container.hostname,
      changes: {
        node: { after: node.name }, vmid: { after: vmid }, macAddress: { after: mac }, ipv4Address: { after: ip },
        status: { before: 'provisioning', after: 'running' },
      },
    }, t);
    // The default services commit with the row that says the container runs (audited service.create).
    return registerDefaultServices(cmd, container, t);
  });
  ctx.stdout(`${container.hostname} is running as CT ${vmid} on ${node.name} at ${ip}\n`);
  for (const line of serviceLines) ctx.stdout(`${line}\n`);
  await publishAfterCreate(ctx, cmd, container.hostname);
}

/**
 * Publishes the edge config once the container runs with its address and services. The container is
 * built by then, so a fault here does not fail the job: it says so, and the periodic publish
 * (EDGE_PUBLISH_INTERVAL_SECONDS) catches up.
 */
async function publishAfterCreate(ctx: TaskContext, cmd: CommandContext, hostname: string): Promise<void> {
  try {
    await publishEdgeConfig(cmd, { reason: `container ${hostname} created` });
  } catch (err) {
    ctx.stderr(`The edge config was not published: ${(err as Error).message}\n`);
  }
}

/**
 * Asks for the next free VMID, stores it on the row (so a crash leaves a trace) and sends the
 * create call; when another request took that VMID meanwhile, asks again. Returns the vzcreate UPID.
 */
async function createWithFreeVmid(ctx: TaskContext, client: ProxmoxClient, b: Build, progress: Progress): Promise<string> {
  const { container, node, request, wanted } = b;
  // After a clash in Berth, the next try starts above the id that clashed (Proxmox's nextid would
  // give it again until the other job's create reaches Proxmox).
  let above: number | null = null;
  for (let attempt = 1; ; attempt++) {
    const vmid = await proxmoxCall(STEP.vmid, () => freeVmid(client, above));
    try {
      await container.update({ vmid });
    } catch (err) {
      // Another record on this node took the id first (two creates asked nextid at the same moment).
      if (err instanceof UniqueConstraintError && attempt < VMID_ATTEMPTS) {
        ctx.stdout(`    VMID ${vmid} is being used by another request; trying the next one\n`);
        above = vmid;
        continue;
      }
      throw err;
    }
    progress.vmid = vmid;
    ctx.stdout(`    VMID ${vmid}\n`);
    ctx.signal.throwIfAborted();
    try {
      return await client.containers.create(node.name, {
        vmid,
        ostemplate: wanted.volid,
        hostname: container.hostname,
        cores: container.cores ?? CONTAINER_DEFAULTS.cores,
        memory: container.memoryMb ?? CONTAINER_DEFAULTS.memoryMb,
        swap: SWAP_MB,
        rootfs: `${wanted.storage}:${container.diskGb ?? CONTAINER_DEFAULTS.diskGb}`,
        net0: wanted.net0,
        ...(wanted.sshPublicKeys ? { sshPublicKeys: wanted.sshPublicKeys } : {}),
        unprivileged: true,
        features: { nesting: true },
        tags: BERTH_TAG,
        description: berthDescription(container.id, request.id, container.username ?? request.username),
      }).then((upid) => {
        progress.created = 'yes';
        return upid;
      });
    } catch (err) {
      if (isProxmoxError(err) && err.code === 'already-exists' && attempt < VMID_ATTEMPTS) {
        ctx.stdout(`    VMID ${vmid} was taken meanwhile; asking for the next one\n`);
        above = vmid;
        continue;
      }
      // No answer (timeout, connection lost): Proxmox may have created it; the clean-up looks.
      if (!isProxmoxError(err) || ['timeout', 'unreachable', 'protocol'].includes(err.kind)) progress.created = 'maybe';
      progress.step = STEP.create;
      throw new StepError(STEP.create, proxmoxWords(err));
    }
  }
}

/**
 * Proxmox's first free VMID, or (after a clash) the first free one above `above`: `nextid?vmid=N`
 * answers N when free and "already exists" otherwise.
 */
async function freeVmid(client: ProxmoxClient, above: number | null): Promise<number> {
  if (above === null) return client.cluster.nextId();
  for (let candidate = above + 1; ; candidate++) {
    try {
      return await client.cluster.nextId(candidate);
    } catch (err) {
      if (!(isProxmoxError(err) && err.code === 'already-exists') || candidate > above + 1000) throw err;
    }
  }
}

/** followProxmoxTask, remembering the task while it runs (a clean-up waits for it to release the lock). */
async function followTask(ctx: TaskContext, client: ProxmoxClient, upid: string, step: string, progress: Progress): Promise<void> {
  progress.runningTask = upid;
  await followProxmoxTask(ctx, client, upid, step);
  progress.runningTask = null;
}

/** The container's IPv4: the static one from net0 at once, or DHCP's within PROVISION_IP_WAIT_SECONDS. */
async function waitForIpv4(ctx: TaskContext, client: ProxmoxClient, nodeName: string, vmid: number): Promise<string> {
  const waitSeconds = ctx.config?.PROVISION_IP_WAIT_SECONDS ?? 120;
  const pollMs = ctx.config?.PROVISION_POLL_MS ?? 1000;
  const deadline = Date.now() + waitSeconds * 1000;
  for (;;) {
    const ip = await proxmoxCall(STEP.ip, () => client.containers.ipv4(nodeName, vmid));
    if (ip) return ip;
    if (Date.now() + pollMs > deadline) throw new StepError(STEP.ip, `the container reported no IPv4 address within ${waitSeconds} s (no DHCP lease)`);
    await sleep(pollMs, ctx.signal);
  }
}

/**
 * A step failed (or the job was cancelled): removes what the create left in Proxmox and the
 * reservation, or keeps the row as `error` with what is left; then fails the job with the step.
 */
async function failCreate(ctx: TaskContext, cmd: CommandContext, client: ProxmoxClient | null, container: Container, node: Node, progress: Progress, err: unknown): Promise<never> {
  const failure = err instanceof StepError
    ? err
    : new StepError(progress.step, ctx.signal.aborted ? `the job was stopped (${abortWords(ctx.signal)})` : proxmoxWords(err));
  ctx.stderr(`${failure.message}\n`);
  let leftover: string | null = null;
  // Something was sent to Proxmox only once there was a client.
  if (client && progress.vmid !== null && progress.created !== 'no') {
    ctx.stdout(`Cleaning up CT ${progress.vmid} on ${node.name}\n`);
    try {
      await removeFromProxmox(ctx, client, node.name, container.id, progress);
    } catch (cleanupErr) {
      leftover = `CT ${progress.vmid} on node ${node.name} may still exist: ${failure.step.toLowerCase()} failed and removing it failed too (${proxmoxWords(cleanupErr)}). Delete it in Proxmox, then delete this record.`;
      ctx.stderr(`Clean-up failed: ${proxmoxWords(cleanupErr)}\n`);
    }
  }
  await inTransaction(cmd, async (t) => {
    const changes = { status: { before: 'provisioning', after: leftover ? 'error' : null }, reason: { after: failure.message }, ...(leftover ? { provisionError: { after: leftover } } : {}) };
    if (leftover) await container.update({ status: 'error', provisionError: leftover }, { transaction: t });
    // The ContainerRequest keeps its history (its containerId becomes NULL).
    else await container.destroy({ transaction: t });
    await cmd.auditor.record(cmd.actor, { action: 'container.create-failed', objectType: 'container', objectId: container.id, objectLabel: container.hostname, changes }, t);
  });
  throw failure;
}

function abortWords(signal: AbortSignal): string {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason.message : String(reason ?? 'cancelled');
}

/**
 * Stops and deletes (with purge) the container the create made. It waits first for a task of ours
 * still holding the lock, and touches only a container carrying this record's marker: after a
 * failed create Proxmox removes it itself, and another request may already have the VMID again.
 * Runs after a cancel too, so it does not listen to the job's signal; each wait is bounded.
 */
async function removeFromProxmox(ctx: TaskContext, client: ProxmoxClient, nodeName: string, containerId: number, progress: Progress): Promise<void> {
  const vmid = progress.vmid!;
  if (progress.runningTask) {
    ctx.stdout(`    waiting for ${progress.runningTask} to end\n`);
    await cleanupFollow(ctx, client, progress.runningTask, false);
  }
  const config = await client.containers.config(nodeName, vmid).catch((e: unknown) => {
    if (isGoneFromProxmox(e)) return null;
    throw e;
  });
  if (!config) {
    ctx.stdout(`    CT ${vmid} is gone already\n`);
    return;
  }
  if (markedContainerId(config.description) !== containerId) {
    if (progress.created === 'maybe' && config.lock === 'create') throw new Error(`CT ${vmid} is still being created (lock: create); it may be Berth's`);
    ctx.stdout(`    CT ${vmid} is not the one this job made; left alone\n`);
    return;
  }
  const status = await client.containers.status(nodeName, vmid);
  if (status.status === 'running') {
    ctx.stdout(`    stopping CT ${vmid}\n`);
    await cleanupFollow(ctx, client, await client.containers.stop(nodeName, vmid), true);
  }
  ctx.stdout(`    deleting CT ${vmid}\n`);
  await cleanupFollow(ctx, client, await client.containers.delete(nodeName, vmid, { purge: true, destroyUnreferencedDisks: true }), true);
}

/** Follows a clean-up task, bounded by PROVISION_TASK_TIMEOUT_SECONDS; `mustSucceed` throws on a failed exit status. */
async function cleanupFollow(ctx: TaskContext, client: ProxmoxClient, upid: string, mustSucceed: boolean): Promise<void> {
  const status = await client.tasks.follow(upid, {
    onLine: (line) => ctx.stdout(`      ${line}\n`),
    pollMs: ctx.config?.PROVISION_POLL_MS ?? 1000,
    timeoutMs: (ctx.config?.PROVISION_TASK_TIMEOUT_SECONDS ?? 900) * 1000,
  });
  if (mustSucceed && !isTaskSuccess(status.exitstatus)) throw new Error(status.exitstatus ?? 'the Proxmox task ended without an exit status');
}
