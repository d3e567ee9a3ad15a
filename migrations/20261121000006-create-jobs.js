'use strict';

/**
 * Jobs, as in the seed (001): a row inserted by hand with only command, status, createdAt and updatedAt
 * must be runnable, so everything the reliable queue adds is nullable or defaulted.
 */
module.exports = {
  async up(queryInterface, Sequelize) {
    await queryInterface.createTable('Jobs', {
      id: { type: Sequelize.INTEGER, primaryKey: true, autoIncrement: true, allowNull: false },
      command: { type: Sequelize.STRING(2000), allowNull: false },
      status: { type: Sequelize.STRING(16), allowNull: false, defaultValue: 'pending' },
      createdBy: { type: Sequelize.STRING(191), allowNull: true },
      task: { type: Sequelize.STRING(64), allowNull: true },
      params: { type: Sequelize.TEXT, allowNull: true },
      lockedBy: { type: Sequelize.STRING(191), allowNull: true },
      lockedAt: { type: Sequelize.DATE, allowNull: true },
      startedAt: { type: Sequelize.DATE, allowNull: true },
      finishedAt: { type: Sequelize.DATE, allowNull: true },
      timeoutSeconds: { type: Sequelize.INTEGER, allowNull: true },
      cancelRequestedAt: { type: Sequelize.DATE, allowNull: true },
      exitCode: { type: Sequelize.INTEGER, allowNull: true },
      error: { type: Sequelize.TEXT, allowNull: true },
      createdAt: { type: Sequelize.DATE, allowNull: false },
      updatedAt: { type: Sequelize.DATE, allowNull: false },
    });
    // Serves the runner's claim (status = 'pending' ORDER BY id) without scanning the table.
    await queryInterface.addIndex('Jobs', ['status', 'id'], { name: 'jobs_status_id' });
    await queryInterface.addIndex('Jobs', ['createdBy'], { name: 'jobs_created_by' });
  },
  async down(queryInterface) {
    await queryInterface.dropTable('Jobs');
  },
};
