'use strict';

/**
 * What the last sync saw in Proxmox: one row per guest (LXC or QEMU), replaced by each sync job.
 * The drift page compares it with Containers and VirtualMachines; `node` is the Proxmox node name.
 */
module.exports = {
  async up(queryInterface, Sequelize) {
    await queryInterface.createTable('GuestSnapshots', {
      id: { type: Sequelize.INTEGER, primaryKey: true, autoIncrement: true, allowNull: false },
      kind: { type: Sequelize.STRING(8), allowNull: false },
      node: { type: Sequelize.STRING(191), allowNull: false },
      vmid: { type: Sequelize.INTEGER, allowNull: false },
      name: { type: Sequelize.STRING(255), allowNull: true },
      status: { type: Sequelize.STRING(32), allowNull: true },
      macAddress: { type: Sequelize.STRING(17), allowNull: true },
      ipv4Address: { type: Sequelize.STRING(45), allowNull: true },
      osName: { type: Sequelize.STRING(191), allowNull: true },
      syncJobId: { type: Sequelize.INTEGER, allowNull: true },
      seenAt: { type: Sequelize.DATE, allowNull: false },
    });
    await queryInterface.addIndex('GuestSnapshots', ['node', 'vmid'], { unique: true, name: 'guest_snapshots_node_vmid' });
  },
  async down(queryInterface) {
    await queryInterface.dropTable('GuestSnapshots');
  },
};
