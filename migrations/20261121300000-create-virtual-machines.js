'use strict';

/**
 * QEMU virtual machines. Mirrors Containers: `username` is the owner, `vmid` the Proxmox VMID
 * (unique per node). `name` is unique in Berth (Proxmox allows duplicates; an inventory should not).
 * `drift` holds the last sync's differences as JSON (NULL: in step with Proxmox).
 */
module.exports = {
  async up(queryInterface, Sequelize) {
    await queryInterface.createTable('VirtualMachines', {
      id: { type: Sequelize.INTEGER, primaryKey: true, autoIncrement: true, allowNull: false },
      name: { type: Sequelize.STRING(255), allowNull: false, unique: true },
      username: { type: Sequelize.STRING(191), allowNull: true },
      osName: { type: Sequelize.STRING(191), allowNull: true },
      nodeId: { type: Sequelize.INTEGER, allowNull: true, references: { model: 'Nodes', key: 'id' }, onDelete: 'RESTRICT' },
      vmid: { type: Sequelize.INTEGER, allowNull: true },
      macAddress: { type: Sequelize.STRING(17), allowNull: true, unique: true },
      ipv4Address: { type: Sequelize.STRING(45), allowNull: true, unique: true },
      rdpPort: { type: Sequelize.INTEGER, allowNull: false, defaultValue: 3389 },
      status: { type: Sequelize.STRING(32), allowNull: false, defaultValue: 'unknown' },
      environment: { type: Sequelize.STRING(32), allowNull: true },
      expiresAt: { type: Sequelize.DATEONLY, allowNull: true },
      purpose: { type: Sequelize.STRING(255), allowNull: true },
      notes: { type: Sequelize.TEXT, allowNull: true },
      tags: { type: Sequelize.STRING(512), allowNull: true },
      drift: { type: Sequelize.TEXT, allowNull: true },
      syncedAt: { type: Sequelize.DATE, allowNull: true },
      createdAt: { type: Sequelize.DATE, allowNull: false },
      updatedAt: { type: Sequelize.DATE, allowNull: false },
    });
    await queryInterface.addIndex('VirtualMachines', ['nodeId', 'vmid'], { unique: true, name: 'virtual_machines_node_vmid' });
    await queryInterface.addIndex('VirtualMachines', ['username'], { name: 'virtual_machines_username' });
    await queryInterface.addIndex('VirtualMachines', ['expiresAt'], { name: 'virtual_machines_expires_at' });
  },
  async down(queryInterface) {
    await queryInterface.dropTable('VirtualMachines');
  },
};
