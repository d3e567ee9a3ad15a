'use strict';

/**
 * The service registry's edge side (issue 14).
 * - PublicDomains: the domains http services take names under, with their certificate and key paths
 *   on the edge (NULL: the configured default) and whether users may claim names under them.
 * - Services.domainId: the domain an http service's name sits under (NULL: a name an admin allowed,
 *   served with the default certificate). A domain with services cannot be deleted.
 * - EdgeConfigVersions: every rendered nginx.conf, numbered by id, with its sha256, what changed, and
 *   whether `nginx -t` on the Berth host accepted it (a rejected version is never served).
 * - EdgeStates: one row (id 1): the version served to edges and the pinned one, so a pull reads one
 *   small row instead of the registry.
 * - Edges: each reverse-proxy host by the name it pulls with: its last pull, what it last reported, and
 *   the version it last applied (kept apart from the last report: after refusing a version an edge
 *   still runs the one it applied before).
 */
module.exports = {
  async up(queryInterface, Sequelize) {
    const ts = () => ({
      createdAt: { type: Sequelize.DATE, allowNull: false },
      updatedAt: { type: Sequelize.DATE, allowNull: false },
    });
    await queryInterface.createTable('PublicDomains', {
      id: { type: Sequelize.INTEGER, primaryKey: true, autoIncrement: true, allowNull: false },
      name: { type: Sequelize.STRING(191), allowNull: false, unique: true },
      certificatePath: { type: Sequelize.STRING(1024), allowNull: true },
      keyPath: { type: Sequelize.STRING(1024), allowNull: true },
      userClaimable: { type: Sequelize.BOOLEAN, allowNull: false, defaultValue: false },
      isDefault: { type: Sequelize.BOOLEAN, allowNull: false, defaultValue: false },
      ...ts(),
    });
    await queryInterface.addColumn('Services', 'domainId', {
      type: Sequelize.INTEGER,
      allowNull: true,
      references: { model: 'PublicDomains', key: 'id' },
      onDelete: 'RESTRICT',
    });
    await queryInterface.createTable('EdgeConfigVersions', {
      id: { type: Sequelize.INTEGER, primaryKey: true, autoIncrement: true, allowNull: false },
      // LONGTEXT on MariaDB (a config of 10,000 services is about 2.7 MB); SQLite's TEXT has no limit and warns about a size.
      body: { type: queryInterface.sequelize.getDialect() === 'sqlite' ? Sequelize.TEXT : Sequelize.TEXT('long'), allowNull: false },
      sha256: { type: Sequelize.STRING(64), allowNull: false },
      serviceCount: { type: Sequelize.INTEGER, allowNull: false, defaultValue: 0 },
      // published: served (checked with nginx -t when `checked`); rejected: nginx -t refused it.
      status: { type: Sequelize.STRING(16), allowNull: false },
      checked: { type: Sequelize.BOOLEAN, allowNull: false, defaultValue: false },
      checkOutput: { type: Sequelize.TEXT, allowNull: true },
      checkServiceId: { type: Sequelize.INTEGER, allowNull: true },
      reason: { type: Sequelize.STRING(500), allowNull: true },
      changes: { type: Sequelize.TEXT, allowNull: true },
      createdBy: { type: Sequelize.STRING(255), allowNull: true },
      ...ts(),
    });
    await queryInterface.addIndex('EdgeConfigVersions', ['status', 'id'], { name: 'edge_config_versions_status_id' });
    await queryInterface.createTable('EdgeStates', {
      id: { type: Sequelize.INTEGER, primaryKey: true, allowNull: false },
      servedVersionId: { type: Sequelize.INTEGER, allowNull: true },
      pinnedVersionId: { type: Sequelize.INTEGER, allowNull: true },
      ...ts(),
    });
    await queryInterface.createTable('Edges', {
      id: { type: Sequelize.INTEGER, primaryKey: true, autoIncrement: true, allowNull: false },
      name: { type: Sequelize.STRING(64), allowNull: false, unique: true },
      lastPullAt: { type: Sequelize.DATE, allowNull: true },
      lastPullAddress: { type: Sequelize.STRING(64), allowNull: true },
      // The version Berth served at that pull, and how: 200 (its text sent) or 304 (the edge named its
      // ETag, as the file it runs or as one it refused): never a claim about what the edge runs.
      lastPullVersionId: { type: Sequelize.INTEGER, allowNull: true },
      lastPullStatus: { type: Sequelize.INTEGER, allowNull: true },
      lastReportAt: { type: Sequelize.DATE, allowNull: true },
      lastReportVersionId: { type: Sequelize.INTEGER, allowNull: true },
      lastReportSha256: { type: Sequelize.STRING(64), allowNull: true },
      lastResult: { type: Sequelize.STRING(16), allowNull: true },
      lastOutput: { type: Sequelize.TEXT, allowNull: true },
      // What the edge runs: set only by an `applied` report (a version id Berth may have pruned since).
      appliedVersionId: { type: Sequelize.INTEGER, allowNull: true },
      appliedSha256: { type: Sequelize.STRING(64), allowNull: true },
      appliedAt: { type: Sequelize.DATE, allowNull: true },
      ...ts(),
    });
  },
  async down(queryInterface) {
    await queryInterface.dropTable('Edges');
    await queryInterface.dropTable('EdgeStates');
    await queryInterface.dropTable('EdgeConfigVersions');
    await queryInterface.removeColumn('Services', 'domainId');
    await queryInterface.dropTable('PublicDomains');
  },
};
