'use strict';

/**
 * Self-service containers (issue 13). Containers gain the resources Berth asked Proxmox for, the
 * HTTP port to expose, `managed` (Berth created it, so Berth may delete it on Proxmox) and what a
 * failed create left behind. New tables:
 * - ContainerTemplates: the admin-curated templates per node, with the seed's osRelease label.
 * - IpPools: an IPv4 range per node and bridge; addresses are taken by Containers.ipv4Address (unique).
 * - UserQuotas: per-user overrides of the configured defaults (NULL = the default).
 * - ContainerRequests: what was asked for a container (template, resources, SSH key), and the
 *   approval state when it was over quota.
 * - IdempotencyKeys: the first answer to a request sent with an Idempotency-Key header.
 */
module.exports = {
  async up(queryInterface, Sequelize) {
    const ts = () => ({
      createdAt: { type: Sequelize.DATE, allowNull: false },
      updatedAt: { type: Sequelize.DATE, allowNull: false },
    });
    await queryInterface.addColumn('Containers', 'cores', { type: Sequelize.INTEGER, allowNull: true });
    await queryInterface.addColumn('Containers', 'memoryMb', { type: Sequelize.INTEGER, allowNull: true });
    await queryInterface.addColumn('Containers', 'diskGb', { type: Sequelize.INTEGER, allowNull: true });
    await queryInterface.addColumn('Containers', 'httpPort', { type: Sequelize.INTEGER, allowNull: true });
    await queryInterface.addColumn('Containers', 'managed', { type: Sequelize.BOOLEAN, allowNull: false, defaultValue: false });
    await queryInterface.addColumn('Containers', 'provisionError', { type: Sequelize.TEXT, allowNull: true });

    await queryInterface.createTable('ContainerTemplates', {
      id: { type: Sequelize.INTEGER, primaryKey: true, autoIncrement: true, allowNull: false },
      nodeId: { type: Sequelize.INTEGER, allowNull: false, references: { model: 'Nodes', key: 'id' }, onDelete: 'CASCADE' },
      // A Proxmox volume id such as local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst.
      volid: { type: Sequelize.STRING(255), allowNull: false },
      osRelease: { type: Sequelize.STRING(191), allowNull: false },
      ...ts(),
    });
    await queryInterface.addIndex('ContainerTemplates', ['nodeId', 'volid'], { unique: true, name: 'container_templates_node_volid' });

    await queryInterface.createTable('IpPools', {
      id: { type: Sequelize.INTEGER, primaryKey: true, autoIncrement: true, allowNull: false },
      nodeId: { type: Sequelize.INTEGER, allowNull: false, references: { model: 'Nodes', key: 'id' }, onDelete: 'CASCADE' },
      bridge: { type: Sequelize.STRING(64), allowNull: false },
      cidr: { type: Sequelize.STRING(18), allowNull: false },
      gateway: { type: Sequelize.STRING(15), allowNull: false },
      rangeStart: { type: Sequelize.STRING(15), allowNull: false },
      rangeEnd: { type: Sequelize.STRING(15), allowNull: false },
      ...ts(),
    });
    await queryInterface.addIndex('IpPools', ['nodeId', 'bridge'], { unique: true, name: 'ip_pools_node_bridge' });

    await queryInterface.createTable('UserQuotas', {
      id: { type: Sequelize.INTEGER, primaryKey: true, autoIncrement: true, allowNull: false },
      userId: { type: Sequelize.INTEGER, allowNull: false, unique: true, references: { model: 'Users', key: 'id' }, onDelete: 'CASCADE' },
      maxContainers: { type: Sequelize.INTEGER, allowNull: true },
      maxCores: { type: Sequelize.INTEGER, allowNull: true },
      maxMemoryMb: { type: Sequelize.INTEGER, allowNull: true },
      maxDiskGb: { type: Sequelize.INTEGER, allowNull: true },
      ...ts(),
    });

    await queryInterface.createTable('ContainerRequests', {
      id: { type: Sequelize.INTEGER, primaryKey: true, autoIncrement: true, allowNull: false },
      // SET NULL: a rejected request outlives the reservation it held (its hostname is copied).
      containerId: { type: Sequelize.INTEGER, allowNull: true, references: { model: 'Containers', key: 'id' }, onDelete: 'SET NULL' },
      hostname: { type: Sequelize.STRING(255), allowNull: false },
      username: { type: Sequelize.STRING(191), allowNull: false },
      params: { type: Sequelize.TEXT, allowNull: false },
      status: { type: Sequelize.STRING(32), allowNull: false },
      overage: { type: Sequelize.TEXT, allowNull: true },
      decidedBy: { type: Sequelize.STRING(191), allowNull: true },
      reason: { type: Sequelize.TEXT, allowNull: true },
      jobId: { type: Sequelize.INTEGER, allowNull: true },
      ...ts(),
    });
    await queryInterface.addIndex('ContainerRequests', ['status'], { name: 'container_requests_status' });
    await queryInterface.addIndex('ContainerRequests', ['containerId'], { name: 'container_requests_container' });

    await queryInterface.createTable('IdempotencyKeys', {
      id: { type: Sequelize.INTEGER, primaryKey: true, autoIncrement: true, allowNull: false },
      username: { type: Sequelize.STRING(191), allowNull: false },
      idemKey: { type: Sequelize.STRING(191), allowNull: false },
      requestHash: { type: Sequelize.STRING(64), allowNull: false },
      responseStatus: { type: Sequelize.INTEGER, allowNull: false },
      responseBody: { type: Sequelize.TEXT, allowNull: false },
      ...ts(),
    });
    await queryInterface.addIndex('IdempotencyKeys', ['username', 'idemKey'], { unique: true, name: 'idempotency_keys_user_key' });
  },
  async down(queryInterface) {
    await queryInterface.dropTable('IdempotencyKeys');
    await queryInterface.dropTable('ContainerRequests');
    await queryInterface.dropTable('UserQuotas');
    await queryInterface.dropTable('IpPools');
    await queryInterface.dropTable('ContainerTemplates');
    for (const c of ['provisionError', 'managed', 'httpPort', 'diskGb', 'memoryMb', 'cores']) await queryInterface.removeColumn('Containers', c);
  },
};
