import { Op, UniqueConstraintError, type Transaction } from 'sequelize';
import type { EdgeConfigVersion, EdgeState, Models } from '../../models/index.js';
import { EDGE_STATE_ID } from '../../models/EdgeState.js';
import type { Config } from '../../config/index.js';
import { withNamedLock } from '../lib/db/migration-lock.js';

/**
 * Publishers, pins and unpins run one at a time across every Berth instance (and job runner), so
 * each reads the registry and EdgeState after the previous one finished: an older text can never be
 * published after a newer one, and a pin is never undone by a publish that started before it.
 */
export function withEdgeLock<T>(config: Config, fn: () => Promise<T>): Promise<T> {
  return withNamedLock(
    config.database,
    {
      name: 'berth_edge_publish',
      sqliteSuffix: 'edge-lock',
      // A publish renders (milliseconds) and may run nginx -t (its timeout is 30 s).
      waitSeconds: 90,
      retryMs: 20,
      timeoutMessage: 'could not take the edge publish lock within 90 s: is another instance stuck publishing?',
    },
    fn,
  );
}

/** How many transactions of this process that took EdgeState's row have committed (see edgeStateCommits). */
let stateCommits = 0;

/**
 * A counter that moves whenever this process commits a publish, pin or unpin: the pull cache
 * (src/edge/serve.ts) drops what it read when it moved, so this instance's own changes are served at
 * once; another instance's are seen when the cache's time runs out (EDGE_PULL_CACHE_MS).
 */
export const edgeStateCommits = (): number => stateCommits;

/**
 * EdgeState's one row, locked for the transaction, created when missing. Two instances may both find
 * it missing: the loser of the insert reads the winner's row with a locking read, which sees the
 * committed row (a plain read in MariaDB's REPEATABLE READ would still see the snapshot without it).
 */
export async function edgeStateRow(models: Models, transaction: Transaction): Promise<EdgeState> {
  transaction.afterCommit(() => {
    stateCommits++;
  });
  const locked = { transaction, lock: transaction.LOCK.UPDATE };
  const found = await models.EdgeState.findByPk(EDGE_STATE_ID, locked);
  if (found) return found;
  try {
    return await models.EdgeState.create({ id: EDGE_STATE_ID, servedVersionId: null, pinnedVersionId: null }, { transaction });
  } catch (err) {
    if (!(err instanceof UniqueConstraintError)) throw err;
    const winner = await models.EdgeState.findByPk(EDGE_STATE_ID, locked);
    if (!winner) throw err;
    return winner;
  }
}

/** A version's row without its body (the admin lists and the pull's state check never need it). */
export const WITHOUT_BODY = { exclude: ['body'] as Array<keyof EdgeConfigVersion> };

/** The newest published version, or null before the first. */
export function newestPublished(models: Models, transaction?: Transaction): Promise<EdgeConfigVersion | null> {
  return models.EdgeConfigVersion.findOne({ where: { status: 'published' }, order: [['id', 'DESC']], attributes: WITHOUT_BODY, transaction });
}

/**
 * Deletes the versions beyond the newest `keep`, except the served and the pinned ones (an edge may
 * run them, and an admin must be able to see what it runs).
 */
export async function pruneVersions(models: Models, keep: number, state: { servedVersionId: number | null; pinnedVersionId: number | null }, transaction: Transaction): Promise<number> {
  const cutoff = await models.EdgeConfigVersion.findOne({ attributes: ['id'], order: [['id', 'DESC']], offset: keep - 1, transaction });
  if (!cutoff) return 0;
  const spared = [state.servedVersionId, state.pinnedVersionId].filter((id): id is number => id != null);
  return models.EdgeConfigVersion.destroy({ where: { id: { [Op.lt]: cutoff.id, ...(spared.length ? { [Op.notIn]: spared } : {}) } }, transaction });
}
