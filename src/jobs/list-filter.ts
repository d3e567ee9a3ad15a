import { Op, type WhereOptions } from 'sequelize';
import type { Job, JobStatusValue } from '../../models/Job.js';

/** What the jobs list and the dashboard filter jobs by. */
export interface JobFilter {
  status?: JobStatusValue;
  /** Only jobs that finished within the last this many days. */
  within?: number;
}

/**
 * The WHERE of a jobs list: `visible` (the policy's scope, asked by the route) and the filters. The
 * one rule for "failed in the last day", so the dashboard's count and the list it links to agree.
 */
export function jobListWhere(visible: WhereOptions<Job>, filter: JobFilter, now = new Date()): WhereOptions<Job> {
  const and: WhereOptions<Job>[] = [visible];
  if (filter.status) and.push({ status: filter.status });
  if (filter.within !== undefined) and.push({ finishedAt: { [Op.gte]: new Date(now.getTime() - filter.within * 86_400_000) } });
  return { [Op.and]: and } as WhereOptions<Job>;
}
