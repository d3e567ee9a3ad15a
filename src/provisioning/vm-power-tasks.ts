// QEMU power tasks (issue 15): stop and shut down a VM, one job each, enqueued by vm-lifecycle.ts
// (the expiry action is their first user). Like the container tasks (lifecycle-tasks.ts) each
// follows the Proxmox task into the job output under numbered step lines, then writes the record's
// status and its audit event as the job's requester.
import { z } from 'zod';
import type { VmStatus } from '../../models/VirtualMachine.js';
import type { Node, VirtualMachine } from '../../models/index.js';
import { registerTask, type TaskContext } from '../jobs/tasks/registry.js';
import type { ProxmoxClient } from '../lib/proxmox/index.js';
import { inTransaction, type CommandContext } from '../services/context.js';
import { followProxmoxTask, jobRequester, nodeClient, proxmoxWords, StepError, stepLine, taskCommand } from './task-support.js';

/** The VM power tasks, by action. */
export const VM_POWER_TASKS = { stop: 'vm.stop', shutdown: 'vm.shutdown' } as const;
export type VmPowerAction = keyof typeof VM_POWER_TASKS;

/**
 * How long a shutdown waits for the guest (agent or ACPI) before Proxmox kills it: `forceStop`, so
 * the task ends with the VM stopped either way (../shared/proxmox README 9.2).
 */
const SHUTDOWN_TIMEOUT_SECONDS = 120;

const schema = z
  .object({
    vmId: z.number().int().positive(),
    /** For the job's one-line description only; the task reads the record. */
    name: z.string().max(255).optional(),
  })
  .strict();

interface VmPower {
  verb: string;
  doing: string;
  call(client: ProxmoxClient, node: string, vmid: number): Promise<string>;
}

const POWER: Record<VmPowerAction, VmPower> = {
  // A hard stop: QMP quit, then SIGTERM/SIGKILL. QEMU checks no run state before its task, and a
  // stop of a stopped VM ends OK, so there is no "already stopped" refusal to catch.
  stop: { verb: 'Stop', doing: 'Stopping', call: (c, n, v) => c.vms.stop(n, v) },
  shutdown: { verb: 'Shut down', doing: 'Shutting down', call: (c, n, v) => c.vms.shutdown(n, v, { timeout: SHUTDOWN_TIMEOUT_SECONDS, forceStop: true }) },
};

const label = (p: { vmId: number; name?: string }) => p.name ?? `#${p.vmId}`;

/** The VM record and its node; a clear failure when either is gone or Berth cannot reach it. */
async function loadVm(ctx: TaskContext, vmId: number): Promise<{ vm: VirtualMachine; node: Node; vmid: number }> {
  const vm = await ctx.models.VirtualMachine.findByPk(vmId);
  if (!vm) throw new StepError('Loading the VM', `VM record ${vmId} no longer exists`);
  const node = vm.nodeId ? await ctx.models.Node.findByPk(vm.nodeId) : null;
  if (!node) throw new StepError('Loading the VM', `${vm.name} is on no known node`);
  if (vm.vmid === null) throw new StepError('Loading the VM', `${vm.name} has no VMID`);
  return { vm, node, vmid: vm.vmid };
}

/**
 * Berth creates no VMs, so no marker says a guest is the record's: its node and VMID are what the
 * sync or someone typed. The guest's name on Proxmox must be the record's name (case aside, as the
 * sync compares them), so a stale or edited record never powers off another machine.
 */
async function checkSameMachine(client: ProxmoxClient, vm: VirtualMachine, node: string, vmid: number, step: string): Promise<string> {
  let status;
  try {
    status = await client.vms.status(node, vmid);
  } catch (err) {
    throw new StepError(step, proxmoxWords(err));
  }
  const name = typeof status.name === 'string' ? status.name : '';
  if (name.toLowerCase() !== vm.name.toLowerCase()) {
    throw new StepError(step, `VM ${vmid} on ${node} is named '${name}' on Proxmox, not '${vm.name}'; nothing was done to it (check the record's node and VMID)`);
  }
  return typeof status.status === 'string' ? status.status : 'unknown';
}

/** Writes the record's status and the audit event of `action`, in one transaction. */
async function recordStatus(cmd: CommandContext, vm: VirtualMachine, action: string, status: VmStatus): Promise<void> {
  await inTransaction(cmd, async (t) => {
    const before = vm.status;
    if (before !== status) await vm.update({ status }, { transaction: t });
    await cmd.auditor.record(cmd.actor, { action, objectType: 'vm', objectId: vm.id, objectLabel: vm.name, changes: before !== status ? { status: { before, after: status } } : null }, t);
  });
}

for (const [action, power] of Object.entries(POWER) as Array<[VmPowerAction, VmPower]>) {
  registerTask({
    name: VM_POWER_TASKS[action],
    kind: 'function',
    schema,
    describe: (p) => `${power.verb} VM ${label(p)}`,
    run: async (params, ctx) => {
      const cmd = taskCommand(ctx, await jobRequester(ctx));
      const { vm, node, vmid } = await loadVm(ctx, params.vmId);
      const where = `${vm.name} (VM ${vmid} on ${node.name})`;
      const client = nodeClient(cmd, node);
      try {
        const checking = `Checking ${where}`;
        stepLine(ctx, 1, 3, checking);
        const now = await checkSameMachine(client, vm, node.name, vmid, checking);
        ctx.stdout(`    it is ${now}\n`);

        const doing = `${power.doing} ${where}`;
        stepLine(ctx, 2, 3, doing);
        if (now === 'stopped') {
          ctx.stdout('    already stopped: nothing to do\n');
        } else {
          let upid: string;
          try {
            upid = await power.call(client, node.name, vmid);
          } catch (err) {
            throw new StepError(doing, proxmoxWords(err));
          }
          await followProxmoxTask(ctx, client, upid, doing);
        }

        stepLine(ctx, 3, 3, `Recording ${vm.name} as stopped`);
        await recordStatus(cmd, vm, `vm.${action}`, 'stopped');
      } finally {
        await client.close();
      }
    },
  });
}
