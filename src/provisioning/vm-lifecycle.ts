// Asking for a VM to be stopped or shut down: checks that the requester may act on Proxmox for it,
// the VM's state and that nothing else is running on it, then enqueues the job (vm-power-tasks.ts
// does the Proxmox side), with its audit event. Used by the expiry action (a stop) and by the VM
// page's Stop and Shut down buttons and their API (src/routes/vms-lifecycle.ts), which only
// administrators get: Berth never creates VMs, so a VM record's node and VMID are whatever someone
// typed, like a container Berth did not create (lifecycle.ts).
import { Op, type Transaction } from 'sequelize';
import type { VmStatus } from '../../models/VirtualMachine.js';
import type { Job, VirtualMachine } from '../../models/index.js';
import { enqueueJob, jobEnqueuedEvent } from '../jobs/enqueue.js';
import { ConflictError, ForbiddenError, NotFoundError } from '../lib/errors.js';
import { inTransaction, type CommandContext } from '../services/context.js';
import type { OperateOptions } from './lifecycle.js';
import { VM_POWER_TASKS, type VmPowerAction } from './vm-power-tasks.js';

/** The statuses a VM may be stopped from (a paused VM is stopped too: Proxmox quits it). */
export const VM_STOPPABLE: readonly VmStatus[] = ['running', 'paused'];

/**
 * Enqueues `action` for the VM, as `cmd.actor`: only for a requester the policy lets act on guests
 * Berth did not create (`opts.mayOperateUnmanaged`, 403 otherwise, before anything about the VM's
 * state is said), for a VM Berth can reach on Proxmox (node and VMID known), in a state it can be
 * stopped from, when no other job works on it (409 otherwise). Runs in `transaction` when given
 * (the caller's change and the job commit together), else in its own.
 */
export async function requestVmPower(cmd: CommandContext, vmId: number, action: VmPowerAction, opts: OperateOptions, transaction?: Transaction): Promise<Job> {
  const done = action === 'stop' ? 'stopped' : 'shut down';
  const work = async (t: Transaction): Promise<Job> => {
    // Locked: two requests for the same VM queue here, so the second sees the first one's job.
    const vm = await cmd.models.VirtualMachine.findByPk(vmId, { transaction: t, lock: t.LOCK.UPDATE });
    if (!vm) throw new NotFoundError('No such VM.');
    if (!opts.mayOperateUnmanaged) throw new ForbiddenError(`Berth did not create ${vm.name}, so only an administrator can have it ${done} on Proxmox.`);
    if (vm.nodeId === null || vm.vmid === null) throw new ConflictError(`${vm.name} is not on Proxmox as far as Berth knows (no node or VMID), so it cannot be ${done} from here.`);
    if (!VM_STOPPABLE.includes(vm.status)) throw new ConflictError(`${vm.name} is ${vm.status}: only a ${VM_STOPPABLE.join(' or ')} VM can be ${done}.`);
    await assertVmIdle(cmd, vm, t);
    const job = await enqueueJob(cmd.models, {
      task: VM_POWER_TASKS[action],
      params: { vmId: vm.id, name: vm.name },
      createdBy: cmd.actor.username,
      mayRunAdminTasks: false,
      subjectType: 'vm',
      subjectId: vm.id,
      transaction: t,
    });
    await cmd.auditor.record(cmd.actor, jobEnqueuedEvent(job), t);
    return job;
  };
  return transaction ? work(transaction) : inTransaction(cmd, work);
}

/** Refuses (409, naming the job) while another job works on this VM. */
async function assertVmIdle(cmd: CommandContext, vm: VirtualMachine, t: Transaction): Promise<void> {
  const busy = await cmd.models.Job.findOne({ where: { subjectType: 'vm', subjectId: vm.id, status: { [Op.in]: ['pending', 'running'] } }, order: [['id', 'ASC']], transaction: t });
  if (busy) throw new ConflictError(`${vm.name} is busy: job ${busy.id} (${busy.task ?? busy.command}) is ${busy.status}. Try again when it has ended.`);
}
