import { Op } from 'sequelize';
import type { Models } from '../../models/index.js';
import type { JobStatusValue } from '../../models/Job.js';

/** Why a running job was ended before its work finished on its own. */
export type EndReason =
  | { kind: 'cancel'; message: string }
  | { kind: 'timeout'; seconds: number }
  | { kind: 'shutdown'; signal: string }
  /** This runner could not heartbeat for longer than the dead-runner threshold: others will fail the job. */
  | { kind: 'unreachable'; seconds: number }
  /** The job is no longer ours in the database (recovered by another runner while we were cut off). */
  | { kind: 'lost'; message: string };

/** The status and error recorded for a job that ended for `reason` (none: on its own) with `failure`. */
export function finalStatus(reason: Exclude<EndReason, { kind: 'lost' }> | undefined, failure: string | null): { status: JobStatusValue; error: string | null } {
  switch (reason?.kind) {
    case 'cancel':
      return { status: 'cancelled', error: reason.message };
    case 'shutdown':
      return { status: 'cancelled', error: `the job runner shut down (${reason.signal}) while the job was running` };
    case 'timeout':
      return { status: 'failure', error: `timed out after ${reason.seconds} s` };
    case 'unreachable':
      return {
        status: 'failure',
        error: `the job runner could not reach the database for over ${reason.seconds} s (JOB_STALE_SECONDS), so it stopped the job rather than let it run unwatched`,
      };
    default:
      return { status: failure ? 'failure' : 'success', error: failure };
  }
}

/**
 * Reads our running jobs' rows and says which must end: cancel requested, or no longer ours (another
 * runner recovered it while we were cut off, or the row is gone). One query for all of them.
 */
export async function endedJobs(models: Models, runnerId: string, ids: number[]): Promise<Array<[number, EndReason]>> {
  if (!ids.length) return [];
  const rows = await models.Job.findAll({ attributes: ['id', 'status', 'lockedBy', 'cancelRequestedAt', 'error'], where: { id: { [Op.in]: ids } } });
  const byId = new Map(rows.map((r) => [r.id, r]));
  const out: Array<[number, EndReason]> = [];
  for (const id of ids) {
    const row = byId.get(id);
    if (!row || row.status !== 'running' || row.lockedBy !== runnerId) {
      out.push([id, { kind: 'lost', message: row ? `job is now ${row.status} (${row.error ?? 'no reason'})` : 'job row deleted' }]);
    } else if (row.cancelRequestedAt) {
      out.push([id, { kind: 'cancel', message: row.error || 'cancelled on request' }]);
    }
  }
  return out;
}
