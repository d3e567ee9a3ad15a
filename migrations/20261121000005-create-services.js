'use strict';

/**
 * Services a container exposes. The seed's conditional uniqueness (externalHostname unique among http
 * services; (type, externalPort) unique among tcp/udp) is expressed with plain unique indexes that both
 * SQLite and MariaDB support: http rows keep externalPort NULL and tcp/udp rows keep externalHostname
 * NULL (enforced in code), and NULLs never collide in a unique index.
 */
module.exports = {
  async up(queryInterface, Sequelize) {
    await queryInterface.createTable('Services', {
      id: { type: Sequelize.INTEGER, primaryKey: true, autoIncrement: true, allowNull: false },
      containerId: {
        type: Sequelize.INTEGER,
        allowNull: false,
        references: { model: 'Containers', key: 'id' },
        onDelete: 'CASCADE',
      },
      type: { type: Sequelize.STRING(8), allowNull: false },
      internalPort: { type: Sequelize.INTEGER, allowNull: false },
      externalPort: { type: Sequelize.INTEGER, allowNull: true },
      tls: { type: Sequelize.BOOLEAN, allowNull: false, defaultValue: false },
      externalHostname: { type: Sequelize.STRING(255), allowNull: true },
      createdAt: { type: Sequelize.DATE, allowNull: false },
      updatedAt: { type: Sequelize.DATE, allowNull: false },
    });
    await queryInterface.addIndex('Services', ['externalHostname'], { unique: true, name: 'services_external_hostname' });
    await queryInterface.addIndex('Services', ['type', 'externalPort'], { unique: true, name: 'services_type_external_port' });
    await queryInterface.addIndex('Services', ['containerId'], { name: 'services_container_id' });
  },
  async down(queryInterface) {
    await queryInterface.dropTable('Services');
  },
};
