'use strict';

/** Containers get what VMs have: an environment, and the last sync's drift (JSON, NULL when in step). */
module.exports = {
  async up(queryInterface, Sequelize) {
    await queryInterface.addColumn('Containers', 'environment', { type: Sequelize.STRING(32), allowNull: true });
    await queryInterface.addColumn('Containers', 'drift', { type: Sequelize.TEXT, allowNull: true });
    await queryInterface.addColumn('Containers', 'syncedAt', { type: Sequelize.DATE, allowNull: true });
  },
  async down(queryInterface) {
    await queryInterface.removeColumn('Containers', 'syncedAt');
    await queryInterface.removeColumn('Containers', 'drift');
    await queryInterface.removeColumn('Containers', 'environment');
  },
};
