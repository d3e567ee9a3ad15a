// Hand-written SQL (allow-listed in eslint.config.js): LIKE … ESCAPE '!', which Sequelize's Op.like
// cannot express, so user text is matched literally on both databases.
import type { Sequelize } from 'sequelize';

/** Escapes LIKE's wildcards (and the escape character itself) so user text matches literally. */
export function likeEscape(text: string): string {
  return text.replace(/[!%_]/g, '!$&');
}

/**
 * `<column> LIKE <pattern> ESCAPE '!'` as a literal: Sequelize's Op.like has no ESCAPE clause and
 * SQLite has no default escape character. `column` is SQL already quoted by the caller (it may be
 * table-qualified); the pattern goes through `sequelize.escape`, never into the SQL as text.
 */
export function likeCondition(sequelize: Sequelize, quotedColumn: string, pattern: string) {
  return sequelize.literal(`${quotedColumn} LIKE ${sequelize.escape(pattern)} ESCAPE '!'`);
}
