'use strict';

/**
 * A job's output, as ordered rows (seq) of batched lines; `SELECT output FROM JobStatuses WHERE jobId = N`
 * still reads it as the seed shows. MEDIUMTEXT on MariaDB because a batch may exceed TEXT's 64 KiB.
 */
module.exports = {
  async up(queryInterface, Sequelize) {
    const mysql = queryInterface.sequelize.getDialect() === 'mysql';
    await queryInterface.createTable('JobStatuses', {
      id: { type: Sequelize.INTEGER, primaryKey: true, autoIncrement: true, allowNull: false },
      jobId: {
        type: Sequelize.INTEGER,
        allowNull: false,
        references: { model: 'Jobs', key: 'id' },
        onDelete: 'CASCADE',
      },
      seq: { type: Sequelize.INTEGER, allowNull: false, defaultValue: 0 },
      stream: { type: Sequelize.STRING(8), allowNull: false, defaultValue: 'stdout' },
      output: { type: mysql ? Sequelize.TEXT('medium') : Sequelize.TEXT, allowNull: true },
      createdAt: { type: Sequelize.DATE, allowNull: false },
      updatedAt: { type: Sequelize.DATE, allowNull: false },
    });
    await queryInterface.addIndex('JobStatuses', ['jobId', 'seq'], { unique: true, name: 'jobstatuses_job_seq' });
  },
  async down(queryInterface) {
    await queryInterface.dropTable('JobStatuses');
  },
};
