'use strict';

/**
 * The audit trail: one row per write, in the same transaction as the write. No foreign keys on
 * purpose: an event outlives the record (and the user) it is about. `objectLabel` keeps a readable
 * name (hostname, username) after the record is gone; `changes` is JSON {field: {before, after}}.
 */
module.exports = {
  async up(queryInterface, Sequelize) {
    await queryInterface.createTable('AuditEvents', {
      id: { type: Sequelize.BIGINT, primaryKey: true, autoIncrement: true, allowNull: false },
      actor: { type: Sequelize.STRING(191), allowNull: true },
      action: { type: Sequelize.STRING(64), allowNull: false },
      objectType: { type: Sequelize.STRING(32), allowNull: false },
      objectId: { type: Sequelize.STRING(64), allowNull: true },
      objectLabel: { type: Sequelize.STRING(255), allowNull: true },
      changes: { type: Sequelize.TEXT, allowNull: true },
      requestId: { type: Sequelize.STRING(64), allowNull: true },
      ip: { type: Sequelize.STRING(45), allowNull: true },
      createdAt: { type: Sequelize.DATE, allowNull: false },
    });
    await queryInterface.addIndex('AuditEvents', ['objectType', 'objectId'], { name: 'audit_events_object' });
    await queryInterface.addIndex('AuditEvents', ['actor'], { name: 'audit_events_actor' });
    await queryInterface.addIndex('AuditEvents', ['action'], { name: 'audit_events_action' });
    await queryInterface.addIndex('AuditEvents', ['createdAt'], { name: 'audit_events_created_at' });
  },
  async down(queryInterface) {
    await queryInterface.dropTable('AuditEvents');
  },
};
