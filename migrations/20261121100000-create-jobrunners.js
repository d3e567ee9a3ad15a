'use strict';

/**
 * Job runners' heartbeats: each runner keeps its row fresh; a running job whose runner stopped
 * heartbeating is marked failure by whichever runner notices (src/jobs/heartbeat.ts).
 */
module.exports = {
  async up(queryInterface, Sequelize) {
    await queryInterface.createTable('JobRunners', {
      id: { type: Sequelize.STRING(191), primaryKey: true, allowNull: false },
      hostname: { type: Sequelize.STRING(255), allowNull: false },
      pid: { type: Sequelize.INTEGER, allowNull: false },
      concurrency: { type: Sequelize.INTEGER, allowNull: false },
      runningJobs: { type: Sequelize.INTEGER, allowNull: false, defaultValue: 0 },
      startedAt: { type: Sequelize.DATE, allowNull: false },
      heartbeatAt: { type: Sequelize.DATE, allowNull: false },
      createdAt: { type: Sequelize.DATE, allowNull: false },
      updatedAt: { type: Sequelize.DATE, allowNull: false },
    });
    await queryInterface.addIndex('JobRunners', ['heartbeatAt'], { name: 'jobrunners_heartbeat_at' });
    // Recovery looks for running jobs by owner.
    await queryInterface.addIndex('Jobs', ['lockedBy'], { name: 'jobs_locked_by' });
  },
  async down(queryInterface) {
    await queryInterface.removeIndex('Jobs', 'jobs_locked_by');
    await queryInterface.dropTable('JobRunners');
  },
};
