'use strict';

/**
 * Account columns on Users: admin through a Proxmox group (re-read at each Proxmox login, kept apart
 * from the Berth role so leaving the group demotes), an end date (interns), and a one-time
 * set-password link (HMAC of the token, never the token itself).
 */
const COLUMNS = ['proxmoxAdmin', 'expiresAt', 'passwordSetupHash', 'passwordSetupExpiresAt', 'passwordChangedAt'];

module.exports = {
  async up(queryInterface, Sequelize) {
    await queryInterface.addColumn('Users', 'proxmoxAdmin', { type: Sequelize.BOOLEAN, allowNull: false, defaultValue: false });
    await queryInterface.addColumn('Users', 'expiresAt', { type: Sequelize.DATE, allowNull: true });
    await queryInterface.addColumn('Users', 'passwordSetupHash', { type: Sequelize.STRING(64), allowNull: true });
    await queryInterface.addColumn('Users', 'passwordSetupExpiresAt', { type: Sequelize.DATE, allowNull: true });
    await queryInterface.addColumn('Users', 'passwordChangedAt', { type: Sequelize.DATE, allowNull: true });
    await queryInterface.addIndex('Users', ['passwordSetupHash'], { name: 'users_password_setup_hash', unique: true });
  },
  async down(queryInterface) {
    await queryInterface.removeIndex('Users', 'users_password_setup_hash');
    for (const column of [...COLUMNS].reverse()) await queryInterface.removeColumn('Users', column);
  },
};
