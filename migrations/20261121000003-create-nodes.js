'use strict';

/** Proxmox nodes Berth talks to. The API token secret is stored encrypted, never in clear. */
module.exports = {
  async up(queryInterface, Sequelize) {
    await queryInterface.createTable('Nodes', {
      id: { type: Sequelize.INTEGER, primaryKey: true, autoIncrement: true, allowNull: false },
      name: { type: Sequelize.STRING(191), allowNull: false, unique: true },
      apiUrl: { type: Sequelize.STRING(255), allowNull: false },
      tlsVerify: { type: Sequelize.BOOLEAN, allowNull: false, defaultValue: true },
      tlsFingerprint: { type: Sequelize.STRING(128), allowNull: true },
      apiTokenId: { type: Sequelize.STRING(191), allowNull: true },
      apiTokenSecret: { type: Sequelize.TEXT, allowNull: true },
      createdAt: { type: Sequelize.DATE, allowNull: false },
      updatedAt: { type: Sequelize.DATE, allowNull: false },
    });
  },
  async down(queryInterface) {
    await queryInterface.dropTable('Nodes');
  },
};
