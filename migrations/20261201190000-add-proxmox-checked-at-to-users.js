'use strict';

/**
 * When a Proxmox user's rights (groups, enabled, still existing) were last confirmed with Proxmox:
 * at login and at each re-check (src/services/proxmoxRights.ts). Null for local accounts and for
 * Proxmox users not checked since this column exists (they are checked at their next request).
 */
module.exports = {
  async up(queryInterface, Sequelize) {
    await queryInterface.addColumn('Users', 'proxmoxCheckedAt', { type: Sequelize.DATE, allowNull: true });
  },
  async down(queryInterface) {
    await queryInterface.removeColumn('Users', 'proxmoxCheckedAt');
  },
};
