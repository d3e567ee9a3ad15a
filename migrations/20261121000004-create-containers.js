'use strict';

/**
 * Containers (LXC). Column names follow the seed (001) so SQL-level troubleshooting keeps working.
 * hostname is an FQDN (up to 253 characters): VARCHAR(255) is indexable on MariaDB 10.6+ (DYNAMIC rows,
 * 3072-byte keys), so the 191-character rule for older MySQL does not apply here.
 */
module.exports = {
  async up(queryInterface, Sequelize) {
    const mysql = queryInterface.sequelize.getDialect() === 'mysql';
    await queryInterface.createTable('Containers', {
      id: { type: Sequelize.INTEGER, primaryKey: true, autoIncrement: true, allowNull: false },
      hostname: { type: Sequelize.STRING(255), allowNull: false, unique: true },
      username: { type: Sequelize.STRING(191), allowNull: true },
      osRelease: { type: Sequelize.STRING(191), allowNull: true },
      nodeId: {
        type: Sequelize.INTEGER,
        allowNull: true,
        references: { model: 'Nodes', key: 'id' },
        onDelete: 'RESTRICT',
      },
      containerId: { type: mysql ? Sequelize.INTEGER.UNSIGNED : Sequelize.INTEGER, allowNull: true },
      macAddress: { type: Sequelize.STRING(17), allowNull: true, unique: true },
      ipv4Address: { type: Sequelize.STRING(45), allowNull: true, unique: true },
      aiContainer: { type: Sequelize.STRING(50), allowNull: false, defaultValue: 'N' },
      status: { type: Sequelize.STRING(32), allowNull: false, defaultValue: 'unknown' },
      expiresAt: { type: Sequelize.DATEONLY, allowNull: true },
      purpose: { type: Sequelize.STRING(255), allowNull: true },
      notes: { type: Sequelize.TEXT, allowNull: true },
      tags: { type: Sequelize.STRING(512), allowNull: true },
      createdAt: { type: Sequelize.DATE, allowNull: false },
      updatedAt: { type: Sequelize.DATE, allowNull: false },
    });
    await queryInterface.addIndex('Containers', ['nodeId', 'containerId'], { unique: true, name: 'containers_node_vmid' });
    await queryInterface.addIndex('Containers', ['username'], { name: 'containers_username' });
    await queryInterface.addIndex('Containers', ['expiresAt'], { name: 'containers_expires_at' });
  },
  async down(queryInterface) {
    await queryInterface.dropTable('Containers');
  },
};
