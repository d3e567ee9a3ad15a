'use strict';

/** Server-side sessions, shared by every app instance (express-session store). */
module.exports = {
  async up(queryInterface, Sequelize) {
    await queryInterface.createTable('Sessions', {
      sid: { type: Sequelize.STRING(64), primaryKey: true, allowNull: false },
      userId: {
        type: Sequelize.INTEGER,
        allowNull: true,
        references: { model: 'Users', key: 'id' },
        onDelete: 'CASCADE',
      },
      expires: { type: Sequelize.DATE, allowNull: true },
      data: { type: Sequelize.TEXT, allowNull: true },
      createdAt: { type: Sequelize.DATE, allowNull: false },
      updatedAt: { type: Sequelize.DATE, allowNull: false },
    });
    await queryInterface.addIndex('Sessions', ['expires'], { name: 'sessions_expires' });
    await queryInterface.addIndex('Sessions', ['userId'], { name: 'sessions_user_id' });
  },
  async down(queryInterface) {
    await queryInterface.dropTable('Sessions');
  },
};
