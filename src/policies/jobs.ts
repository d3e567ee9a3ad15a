import type { Job } from '../../models/index.js';
import type { CurrentUser } from '../presenters/user.js';

/**
 * Who may see (and cancel) a job: its owner (`createdBy`) or an admin. A job with no owner (inserted
 * by hand, as the seed's SQL does) is visible to admins only. Everyone else gets 404, not 403.
 */
export function canViewJob(user: CurrentUser | undefined, job: Pick<Job, 'createdBy'>): boolean {
  if (!user) return false;
  if (user.isAdmin) return true;
  return job.createdBy !== null && job.createdBy === user.username;
}

/** Cancelling follows the same rule as viewing. */
export const canCancelJob = canViewJob;
