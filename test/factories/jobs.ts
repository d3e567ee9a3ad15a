import type { CreationAttributes } from 'sequelize';
import type { Job, JobRunner } from '../../models/index.js';
import { testContext } from '../support/context.js';
import { withoutUndefined } from './overrides.js';

/**
 * A Jobs row as the seed's SQL inserts one (a shell command, pending, nobody's) unless overridden.
 * `lockedBy` names a runner without needing its JobRunners row (tests of a runner gone without a
 * trace rely on that); createJobRunner makes one.
 */
export async function createJob(overrides: Partial<CreationAttributes<Job>> = {}): Promise<Job> {
  return testContext().db.models.Job.create({
    command: 'true',
    createdBy: null,
    task: null,
    params: null,
    lockedBy: null,
    lockedAt: null,
    startedAt: null,
    finishedAt: null,
    timeoutSeconds: null,
    cancelRequestedAt: null,
    exitCode: null,
    error: null,
    ...withoutUndefined(overrides),
  });
}

/** A JobRunners row (a runner that is not running: nothing answers for it); heartbeat now unless given. */
export async function createJobRunner(overrides: Partial<CreationAttributes<JobRunner>> = {}): Promise<JobRunner> {
  const now = new Date();
  return testContext().db.models.JobRunner.create({
    id: `test-runner-${Math.random().toString(36).slice(2, 10)}`,
    hostname: 'elsewhere',
    pid: 1,
    concurrency: 1,
    startedAt: now,
    heartbeatAt: now,
    ...withoutUndefined(overrides),
  });
}
