'use strict';

/** Self-service account requests (GET/POST /register), approved or rejected by an admin. */
module.exports = {
  async up(queryInterface, Sequelize) {
    await queryInterface.createTable('AccountRequests', {
      id: { type: Sequelize.INTEGER, primaryKey: true, autoIncrement: true, allowNull: false },
      name: { type: Sequelize.STRING(191), allowNull: false },
      email: { type: Sequelize.STRING(191), allowNull: false },
      username: { type: Sequelize.STRING(64), allowNull: false },
      reason: { type: Sequelize.TEXT, allowNull: false },
      endDate: { type: Sequelize.DATEONLY, allowNull: true },
      status: { type: Sequelize.STRING(16), allowNull: false, defaultValue: 'pending' },
      decidedById: {
        type: Sequelize.INTEGER,
        allowNull: true,
        references: { model: 'Users', key: 'id' },
        onDelete: 'SET NULL',
      },
      decidedAt: { type: Sequelize.DATE, allowNull: true },
      rejectionReason: { type: Sequelize.TEXT, allowNull: true },
      userId: {
        type: Sequelize.INTEGER,
        allowNull: true,
        references: { model: 'Users', key: 'id' },
        onDelete: 'SET NULL',
      },
      createdAt: { type: Sequelize.DATE, allowNull: false },
      updatedAt: { type: Sequelize.DATE, allowNull: false },
    });
    await queryInterface.addIndex('AccountRequests', ['status', 'createdAt'], { name: 'account_requests_status' });
    await queryInterface.addIndex('AccountRequests', ['username'], { name: 'account_requests_username' });
  },
  async down(queryInterface) {
    await queryInterface.dropTable('AccountRequests');
  },
};
