'use strict';

/** Users: local accounts (argon2id hash) and Proxmox accounts (username with realm, no password). */
module.exports = {
  async up(queryInterface, Sequelize) {
    await queryInterface.createTable('Users', {
      id: { type: Sequelize.INTEGER, primaryKey: true, autoIncrement: true, allowNull: false },
      username: { type: Sequelize.STRING(191), allowNull: false, unique: true },
      realm: { type: Sequelize.STRING(64), allowNull: false, defaultValue: 'local' },
      displayName: { type: Sequelize.STRING(191), allowNull: true },
      email: { type: Sequelize.STRING(191), allowNull: true },
      passwordHash: { type: Sequelize.STRING(255), allowNull: true },
      role: { type: Sequelize.STRING(16), allowNull: false, defaultValue: 'user' },
      disabled: { type: Sequelize.BOOLEAN, allowNull: false, defaultValue: false },
      lastLoginAt: { type: Sequelize.DATE, allowNull: true },
      createdAt: { type: Sequelize.DATE, allowNull: false },
      updatedAt: { type: Sequelize.DATE, allowNull: false },
    });
  },
  async down(queryInterface) {
    await queryInterface.dropTable('Users');
  },
};
