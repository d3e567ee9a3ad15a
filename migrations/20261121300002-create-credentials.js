'use strict';

/**
 * Credentials attached to a container or a VM (exactly one). `secret` and `sshKey` hold vault
 * envelopes (AES-256-GCM, `v1:<keyId>:…`), never plaintext; `keyId` repeats the secret's key id so
 * `bin/rotate-key` can find what still uses an old key. As in Services, `containerId` is Containers.id.
 */
module.exports = {
  async up(queryInterface, Sequelize) {
    await queryInterface.createTable('Credentials', {
      id: { type: Sequelize.INTEGER, primaryKey: true, autoIncrement: true, allowNull: false },
      containerId: { type: Sequelize.INTEGER, allowNull: true, references: { model: 'Containers', key: 'id' }, onDelete: 'CASCADE' },
      virtualMachineId: { type: Sequelize.INTEGER, allowNull: true, references: { model: 'VirtualMachines', key: 'id' }, onDelete: 'CASCADE' },
      label: { type: Sequelize.STRING(64), allowNull: false },
      username: { type: Sequelize.STRING(191), allowNull: false },
      secret: { type: Sequelize.TEXT, allowNull: false },
      sshKey: { type: Sequelize.TEXT, allowNull: true },
      keyId: { type: Sequelize.STRING(16), allowNull: false },
      createdBy: { type: Sequelize.STRING(191), allowNull: true },
      createdAt: { type: Sequelize.DATE, allowNull: false },
      updatedAt: { type: Sequelize.DATE, allowNull: false },
    });
    await queryInterface.addIndex('Credentials', ['containerId'], { name: 'credentials_container_id' });
    await queryInterface.addIndex('Credentials', ['virtualMachineId'], { name: 'credentials_virtual_machine_id' });
    await queryInterface.addIndex('Credentials', ['keyId'], { name: 'credentials_key_id' });
  },
  async down(queryInterface) {
    await queryInterface.dropTable('Credentials');
  },
};
