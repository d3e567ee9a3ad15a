'use strict';

/** What a job is about (e.g. subjectType 'container', subjectId 12), for the record's detail page. */
module.exports = {
  async up(queryInterface, Sequelize) {
    await queryInterface.addColumn('Jobs', 'subjectType', { type: Sequelize.STRING(32), allowNull: true });
    await queryInterface.addColumn('Jobs', 'subjectId', { type: Sequelize.INTEGER, allowNull: true });
    await queryInterface.addIndex('Jobs', ['subjectType', 'subjectId'], { name: 'jobs_subject' });
  },
  async down(queryInterface) {
    await queryInterface.removeIndex('Jobs', 'jobs_subject');
    await queryInterface.removeColumn('Jobs', 'subjectId');
    await queryInterface.removeColumn('Jobs', 'subjectType');
  },
};
