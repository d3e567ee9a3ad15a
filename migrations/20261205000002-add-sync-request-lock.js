'use strict';

/**
 * The ScheduledRuns row whose lock makes inventory sync requests take turns on MariaDB
 * (src/jobs/enqueue-inventory-sync.ts, SYNC_REQUEST_LOCK): created once here, so a request only
 * locks it (SELECT … FOR UPDATE) inside its own transaction and never needs a second connection.
 * Never a real slot: the scheduler's slots are numbers. Inserted on SQLite too (unused there: its
 * write transactions are IMMEDIATE) so both databases hold the same rows.
 */
const LOCK = { name: 'inventory-sync:request-lock', slot: 'lock' };

module.exports = {
  async up(queryInterface) {
    const [rows] = await queryInterface.sequelize.query('SELECT id FROM ScheduledRuns WHERE name = ? AND slot = ?', { replacements: [LOCK.name, LOCK.slot] });
    if (rows.length) return; // created on the fly by an earlier build of the request
    await queryInterface.bulkInsert('ScheduledRuns', [{ ...LOCK, jobId: null, createdAt: new Date() }]);
  },
  async down(queryInterface) {
    await queryInterface.bulkDelete('ScheduledRuns', { name: LOCK.name, slot: LOCK.slot });
  },
};
