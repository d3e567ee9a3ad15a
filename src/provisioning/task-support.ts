// What the container tasks (create, start, stop, …) share: the command context a task writes with,
// the node's Proxmox client, numbered step lines, and following a Proxmox task into the job output.
import type { Container, Node } from '../../models/index.js';
import type { TaskContext } from '../jobs/tasks/registry.js';
import { cleanProxmoxText, isProxmoxError, isTaskSuccess, type ProxmoxClient } from '../lib/proxmox/index.js';
import { Vault } from '../lib/vault.js';
import type { CommandContext } from '../services/context.js';
import { clientForNode } from '../services/nodes.js';

/**
 * A step that failed, in words for the job output and the requester: which step, and why in
 * Proxmox's own words when Proxmox refused.
 */
export class StepError extends Error {
  override name = 'StepError';
  constructor(readonly step: string, readonly reason: string) {
    super(`${step} failed: ${reason}`);
  }
}

/** The command context a task writes with: the job's requester is the audit actor. */
export function taskCommand(ctx: TaskContext, actor: string | null): CommandContext {
  if (!ctx.config) throw new Error('container tasks need the runner configuration (node tokens are opened with ENCRYPTION_KEY)');
  return {
    models: ctx.models,
    sequelize: ctx.sequelize,
    auditor: ctx.auditor,
    vault: Vault.fromConfig(ctx.config),
    config: ctx.config,
    logger: ctx.logger,
    actor: { username: actor, requestId: `job-${ctx.jobId}` },
  };
}

/** The requester of the job a task runs in (its audit actor). */
export async function jobRequester(ctx: TaskContext): Promise<string | null> {
  const job = await ctx.models.Job.findByPk(ctx.jobId, { attributes: ['createdBy'] });
  return job?.createdBy ?? null;
}

/** The container a task works on, with its node; a clear failure when either is gone. */
export async function loadContainer(ctx: TaskContext, containerId: number): Promise<{ container: Container; node: Node }> {
  const container = await ctx.models.Container.findByPk(containerId);
  if (!container) throw new StepError('Loading the container', `container record ${containerId} no longer exists`);
  const node = container.nodeId ? await ctx.models.Node.findByPk(container.nodeId) : null;
  if (!node) throw new StepError('Loading the container', `${container.hostname} is on no known node`);
  return { container, node };
}

/** The node's client (its token from the vault); the caller closes it. */
export function nodeClient(cmd: CommandContext, node: Node): ProxmoxClient {
  try {
    return clientForNode(node, cmd.vault, cmd.config);
  } catch (err) {
    // A token that cannot be opened, a bad address: the job says at which step it stopped.
    throw new StepError('Connecting to the node', (err as Error).message);
  }
}

/** Prints "2/6 Creating the container" as its own line, so the job output reads as a list of steps. */
export function stepLine(ctx: TaskContext, n: number, total: number, text: string): void {
  ctx.stdout(`${n}/${total} ${text}\n`);
}

/** Proxmox's own words for an error (its message), or the error's message. */
export function proxmoxWords(err: unknown): string {
  if (isProxmoxError(err)) return cleanProxmoxText(err.message);
  return (err as Error)?.message ?? String(err);
}

/** Proxmox says the container is not there (its config file does not exist): already gone. */
export function isGoneFromProxmox(err: unknown): boolean {
  return isProxmoxError(err) && err.code === 'not-found';
}

/**
 * Waits for a Proxmox task, copying its log into the job output (indented under the step line).
 * Throws StepError with Proxmox's exit status when the task failed, or when it did not end within
 * PROVISION_TASK_TIMEOUT_SECONDS (the task may still be running on the node then).
 */
export async function followProxmoxTask(ctx: TaskContext, client: ProxmoxClient, upid: string, step: string): Promise<void> {
  const timeoutMs = (ctx.config?.PROVISION_TASK_TIMEOUT_SECONDS ?? 900) * 1000;
  const pollMs = ctx.config?.PROVISION_POLL_MS ?? 1000;
  let status;
  try {
    status = await client.tasks.follow(upid, { onLine: (line) => ctx.stdout(`    ${line}\n`), pollMs, timeoutMs, signal: ctx.signal });
  } catch (err) {
    if (ctx.signal.aborted) throw err;
    throw new StepError(step, proxmoxWords(err));
  }
  if (!isTaskSuccess(status.exitstatus)) throw new StepError(step, status.exitstatus ?? 'the Proxmox task ended without an exit status');
}

/** Calls Proxmox for one step; a refusal becomes a StepError in Proxmox's words. */
export async function proxmoxCall<T>(step: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw new StepError(step, proxmoxWords(err));
  }
}
