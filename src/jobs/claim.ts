import { Op, QueryTypes, Transaction, type Sequelize } from 'sequelize';
import type { Job, Models } from '../../models/index.js';
import { databaseNow } from '../lib/db/connect.js';

/**
 * Claims up to `limit` pending jobs for runner `runnerId` and returns them, already marked running.
 *
 * Hand-written SQL (STYLE 10, after graphile-worker's sql/getJobs.ts; the others are the output writer's
 * fenced insert, the wake-up wait and the database clock, each saying why): Sequelize
 * accepts `lock: true, skipLocked: true` but silently drops SKIP LOCKED on the mysql/mariadb dialect, and
 * without it every runner queues behind the first one's row locks (or, with a plain SELECT, two runners
 * read the same pending row and both run it).
 *
 * MariaDB: a short READ COMMITTED transaction; `SELECT … FOR UPDATE SKIP LOCKED` walks the
 * (status, id) index and locks only the rows it returns, skipping rows another runner holds; the rows
 * are marked running with our id and the transaction commits before anything is spawned.
 * SQLite: the database has a single writer; the transaction is IMMEDIATE (src/lib/db/connect.ts), so
 * read-then-update cannot interleave with another runner's claim.
 */
export async function claimJobs(sequelize: Sequelize, models: Models, runnerId: string, limit: number): Promise<Job[]> {
  if (limit <= 0) return [];
  // The database's clock: recoverStale() compares lockedAt with it, never with a runner's host clock.
  const now = databaseNow(sequelize);
  const mark = { status: 'running' as const, lockedBy: runnerId, lockedAt: now, startedAt: now };
  // The claimed rows are read inside the transaction, while we hold them: a separate read after the
  // commit could be lost and leave jobs marked running under our id that we never start. (A lost
  // commit reply can still do that; JobRunner.adoptUnstarted() picks those up.)
  const readAndMark = async (ids: number[], transaction: Transaction): Promise<Job[]> => {
    if (!ids.length) return [];
    await models.Job.update(mark, { where: { id: ids, status: 'pending' }, transaction });
    return models.Job.findAll({ where: { id: { [Op.in]: ids }, lockedBy: runnerId }, order: [['id', 'ASC']], transaction });
  };
  if (sequelize.getDialect() === 'sqlite') {
    return sequelize.transaction(async (transaction) => {
      const rows = await models.Job.findAll({
        attributes: ['id'],
        where: { status: 'pending' },
        order: [['id', 'ASC']],
        limit,
        transaction,
      });
      return readAndMark(rows.map((r) => r.id), transaction);
    });
  }
  return sequelize.transaction({ isolationLevel: Transaction.ISOLATION_LEVELS.READ_COMMITTED }, async (transaction) => {
    const rows = await sequelize.query<{ id: number }>(
      "SELECT id FROM Jobs WHERE status = 'pending' ORDER BY id LIMIT ? FOR UPDATE SKIP LOCKED",
      { replacements: [limit], type: QueryTypes.SELECT, transaction },
    );
    return readAndMark(rows.map((r) => Number(r.id)), transaction);
  });
}
