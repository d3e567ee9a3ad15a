'use strict';

/**
 * Usernames compare byte for byte on both databases. Proxmox user ids are case-sensitive
 * (`OPS@pve` and `ops@pve` are two people), and SQLite's `=` already is; MariaDB's default
 * utf8mb4_unicode_ci made the two share one Berth account, its records, credentials and tokens.
 * Every column that holds a Berth username gets the binary collation (`VARCHAR ... BINARY` is
 * utf8mb4_bin); SQLite needs nothing (its default collation is BINARY and no column is NOCASE).
 */
const COLUMNS = [
  ['Users', 'username', 191, false],
  ['AccountRequests', 'username', 64, false],
  ['Containers', 'username', 191, true],
  ['VirtualMachines', 'username', 191, true],
  ['Jobs', 'createdBy', 191, true],
  ['Credentials', 'createdBy', 191, true],
  ['CsvImports', 'username', 191, false],
  ['AuditEvents', 'actor', 191, true],
];

const isMariaDb = (queryInterface) => queryInterface.sequelize.getDialect() !== 'sqlite';

module.exports = {
  async up(queryInterface, Sequelize) {
    if (!isMariaDb(queryInterface)) return;
    for (const [table, column, length, allowNull] of COLUMNS) {
      await queryInterface.changeColumn(table, column, { type: Sequelize.STRING(length).BINARY, allowNull });
    }
  },
  async down(queryInterface, Sequelize) {
    if (!isMariaDb(queryInterface)) return;
    // Going back would merge accounts whose names differ only in case (and break the unique index).
    const [clashes] = await queryInterface.sequelize.query(
      'SELECT LOWER(username) AS name FROM Users GROUP BY LOWER(username) HAVING COUNT(*) > 1',
    );
    if (clashes.length) {
      throw new Error(`Cannot make usernames case-insensitive again: these differ only in case: ${clashes.map((c) => c.name).join(', ')}`);
    }
    for (const [table, column, length, allowNull] of COLUMNS) {
      await queryInterface.changeColumn(table, column, { type: Sequelize.STRING(length), allowNull });
    }
  },
};
