'use strict';

/**
 * Uploaded CSV files waiting for their dry run to be applied. Kept in the database (not on disk) so
 * any instance can show the preview and apply it; `appliedAt` makes applying happen once.
 */
module.exports = {
  async up(queryInterface, Sequelize) {
    const mysql = queryInterface.sequelize.getDialect() === 'mysql';
    await queryInterface.createTable('CsvImports', {
      id: { type: Sequelize.INTEGER, primaryKey: true, autoIncrement: true, allowNull: false },
      kind: { type: Sequelize.STRING(16), allowNull: false },
      username: { type: Sequelize.STRING(191), allowNull: false },
      filename: { type: Sequelize.STRING(255), allowNull: true },
      content: { type: mysql ? Sequelize.TEXT('long') : Sequelize.TEXT, allowNull: false },
      appliedAt: { type: Sequelize.DATE, allowNull: true },
      createdAt: { type: Sequelize.DATE, allowNull: false },
      updatedAt: { type: Sequelize.DATE, allowNull: false },
    });
    await queryInterface.addIndex('CsvImports', ['username'], { name: 'csv_imports_username' });
  },
  async down(queryInterface) {
    await queryInterface.dropTable('CsvImports');
  },
};
