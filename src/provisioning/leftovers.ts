// What a create interrupted by a killed runner leaves: a record still `provisioning` whose create
// job has ended (the job is recovered as failed, never re-run), with the VMID it had reserved and
// maybe a container in Proxmox. The inventory sync reports them, the drift page lists them, and an
// admin cleans one up (leftover-cleanup.ts). No imports of the job queue: the sync task loads this.
import { Op } from 'sequelize';
import type { Container, Models } from '../../models/index.js';
import { isFinalJobStatus } from '../../models/Job.js';

export interface InterruptedCreate {
  container: Container;
  /** The create job, final (null when it is gone). */
  jobId: number | null;
}

/**
 * Managed records still `provisioning` whose create job is final or gone (on the given nodes, or
 * all). A record whose job is pending or running is being built and is not listed.
 */
export async function findInterruptedCreates(models: Models, nodeIds?: number[]): Promise<InterruptedCreate[]> {
  const rows = await models.Container.findAll({
    where: { managed: true, status: 'provisioning', ...(nodeIds ? { nodeId: { [Op.in]: nodeIds } } : {}) },
    order: [['id', 'ASC']],
    limit: 1000,
  });
  if (!rows.length) return [];
  const requests = await models.ContainerRequest.findAll({ where: { containerId: rows.map((r) => r.id) }, attributes: ['containerId', 'jobId'] });
  const jobIdOf = new Map(requests.map((r) => [r.containerId, r.jobId]));
  const jobIds = requests.map((r) => r.jobId).filter((id): id is number => id !== null);
  const jobs = jobIds.length ? await models.Job.findAll({ where: { id: jobIds }, attributes: ['id', 'status'] }) : [];
  const statusOf = new Map(jobs.map((j) => [j.id, j.status]));
  return rows
    .map((container) => ({ container, jobId: jobIdOf.get(container.id) ?? null }))
    .filter(({ jobId }) => {
      const status = jobId === null ? undefined : statusOf.get(jobId);
      return status === undefined || isFinalJobStatus(status);
    });
}

/** The words the drift page and the record show for one. */
export function interruptedCreateText(c: InterruptedCreate, nodeName: string | null): string {
  const where = c.container.vmid === null ? 'no VMID was reserved yet' : `CT ${c.container.vmid} on ${nodeName ?? 'its node'} may exist in Proxmox`;
  return `left over by an interrupted create${c.jobId ? ` (job ${c.jobId})` : ''}: ${where}`;
}
