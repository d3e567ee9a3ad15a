'use strict';

/**
 * Each node's result in the last sync that tried it (src/inventory/sync.ts): when its machines were
 * last read (`syncedAt`), and when and why the last attempt could not read them (`syncFailedAt`,
 * `syncError`; both null after a successful read). The drift and node pages show them, and the
 * inventory pages date a record's state by them.
 */
module.exports = {
  async up(queryInterface, Sequelize) {
    await queryInterface.addColumn('Nodes', 'syncedAt', { type: Sequelize.DATE, allowNull: true });
    await queryInterface.addColumn('Nodes', 'syncFailedAt', { type: Sequelize.DATE, allowNull: true });
    await queryInterface.addColumn('Nodes', 'syncError', { type: Sequelize.TEXT, allowNull: true });
  },
  async down(queryInterface) {
    await queryInterface.removeColumn('Nodes', 'syncError');
    await queryInterface.removeColumn('Nodes', 'syncFailedAt');
    await queryInterface.removeColumn('Nodes', 'syncedAt');
  },
};
