import type { Sequelize } from 'sequelize';

/**
 * Makes every statement by which a runner stores job output fail (SQLite has no connection a test could
 * cut, so its outage is simulated where the runner writes: OutputWriter's fenced INSERT … WHERE EXISTS).
 * Other inserts, such as a recovering runner's note, still work. Returns a failure count and a restore.
 */
export function failJobOutputWrites(sequelize: Sequelize, message = 'SQLITE_IOERR: simulated outage'): { failures(): number; restore(): void } {
  const original = sequelize.query;
  let failures = 0;
  sequelize.query = async function (this: unknown, sql: unknown, ...rest: unknown[]) {
    const text = typeof sql === 'string' ? sql : String((sql as { query?: string })?.query ?? '');
    if (/^INSERT INTO [`"]?JobStatuses\b[\s\S]*\bWHERE EXISTS\b/i.test(text)) {
      failures++;
      throw new Error(message);
    }
    return (original as (...a: unknown[]) => unknown).call(sequelize, sql, ...rest);
  } as typeof sequelize.query;
  return { failures: () => failures, restore: () => (sequelize.query = original) };
}
