'use strict';

/** API tokens: only an HMAC-SHA256 of the token is stored; the token is shown once. */
module.exports = {
  async up(queryInterface, Sequelize) {
    await queryInterface.createTable('ApiTokens', {
      id: { type: Sequelize.INTEGER, primaryKey: true, autoIncrement: true, allowNull: false },
      userId: {
        type: Sequelize.INTEGER,
        allowNull: false,
        references: { model: 'Users', key: 'id' },
        onDelete: 'CASCADE',
      },
      name: { type: Sequelize.STRING(64), allowNull: false },
      scope: { type: Sequelize.STRING(16), allowNull: false, defaultValue: 'write' },
      tokenHash: { type: Sequelize.STRING(64), allowNull: false, unique: true },
      hint: { type: Sequelize.STRING(16), allowNull: false },
      expiresAt: { type: Sequelize.DATE, allowNull: true },
      lastUsedAt: { type: Sequelize.DATE, allowNull: true },
      revokedAt: { type: Sequelize.DATE, allowNull: true },
      createdAt: { type: Sequelize.DATE, allowNull: false },
      updatedAt: { type: Sequelize.DATE, allowNull: false },
    });
    await queryInterface.addIndex('ApiTokens', ['userId'], { name: 'api_tokens_user_id' });
  },
  async down(queryInterface) {
    await queryInterface.dropTable('ApiTokens');
  },
};
