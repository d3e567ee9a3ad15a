'use strict';

/**
 * One row per scheduled run of a recurring task (name, time slot). The unique key is what makes
 * several job runners enqueue a scheduled job once: the second insert for the same slot fails.
 */
module.exports = {
  async up(queryInterface, Sequelize) {
    await queryInterface.createTable('ScheduledRuns', {
      id: { type: Sequelize.INTEGER, primaryKey: true, autoIncrement: true, allowNull: false },
      name: { type: Sequelize.STRING(64), allowNull: false },
      slot: { type: Sequelize.STRING(32), allowNull: false },
      jobId: { type: Sequelize.INTEGER, allowNull: true },
      createdAt: { type: Sequelize.DATE, allowNull: false },
    });
    await queryInterface.addIndex('ScheduledRuns', ['name', 'slot'], { unique: true, name: 'scheduled_runs_name_slot' });
  },
  async down(queryInterface) {
    await queryInterface.dropTable('ScheduledRuns');
  },
};
