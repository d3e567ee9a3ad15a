'use strict';

/** Rate-limit counters, kept in the database so every app instance counts the same requests. */
module.exports = {
  async up(queryInterface, Sequelize) {
    await queryInterface.createTable('RateLimits', {
      key: { type: Sequelize.STRING(191), primaryKey: true, allowNull: false },
      hits: { type: Sequelize.INTEGER, allowNull: false, defaultValue: 0 },
      resetAt: { type: Sequelize.DATE, allowNull: false },
    });
    await queryInterface.addIndex('RateLimits', ['resetAt'], { name: 'ratelimits_reset_at' });
  },
  async down(queryInterface) {
    await queryInterface.dropTable('RateLimits');
  },
};
