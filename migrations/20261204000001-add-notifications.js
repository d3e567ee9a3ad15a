'use strict';

/**
 * Notifications (issue 15).
 * - OutboxMessages: every email Berth sends, written in the transaction of the change that causes
 *   it and delivered by the job runner (src/notify/). The template data is sealed with the vault
 *   (it can hold one-time links). `lockedBy`/`lockedUntil` is a delivery lease: a runner that dies
 *   mid-send leaves the message to be retried when the lease runs out.
 * - NotificationLogs: one row per notice sent about an item, unique per (item, notice, expiry date):
 *   the seed's notification_log, which makes each reminder go out once however many runners scan.
 * - ExtendLinks: the one-click "extend" links in reminders (stored as an HMAC, single use).
 * - ExpiryPolicies: what happens to an expired container or VM (per kind): nothing, stop, or stop
 *   and delete after a grace period.
 */
module.exports = {
  async up(queryInterface, Sequelize) {
    const ts = () => ({
      createdAt: { type: Sequelize.DATE, allowNull: false },
      updatedAt: { type: Sequelize.DATE, allowNull: false },
    });
    await queryInterface.createTable('OutboxMessages', {
      id: { type: Sequelize.INTEGER, primaryKey: true, autoIncrement: true, allowNull: false },
      category: { type: Sequelize.STRING(64), allowNull: false },
      template: { type: Sequelize.STRING(64), allowNull: false },
      recipients: { type: Sequelize.TEXT, allowNull: false },
      cc: { type: Sequelize.TEXT, allowNull: true },
      subject: { type: Sequelize.STRING(255), allowNull: false },
      // MEDIUMTEXT on MariaDB (TEXT stops at 64 KB; a failed job's mail quotes its output); SQLite's TEXT has no limit.
      payload: { type: queryInterface.sequelize.getDialect() === 'sqlite' ? Sequelize.TEXT : Sequelize.TEXT('medium'), allowNull: false },
      forUser: { type: Sequelize.STRING(191), allowNull: true },
      dedupeKey: { type: Sequelize.STRING(191), allowNull: true, unique: true },
      status: { type: Sequelize.STRING(16), allowNull: false, defaultValue: 'queued' },
      attempts: { type: Sequelize.INTEGER, allowNull: false, defaultValue: 0 },
      nextAttemptAt: { type: Sequelize.DATE, allowNull: false },
      // Where the retry window (OUTBOX_RETRY_HOURS) starts: when it was queued, or when an admin retried it.
      retryFrom: { type: Sequelize.DATE, allowNull: false },
      lockedBy: { type: Sequelize.STRING(64), allowNull: true },
      lockedUntil: { type: Sequelize.DATE, allowNull: true },
      lastError: { type: Sequelize.TEXT, allowNull: true },
      messageId: { type: Sequelize.STRING(255), allowNull: true },
      sentAt: { type: Sequelize.DATE, allowNull: true },
      ...ts(),
    });
    await queryInterface.addIndex('OutboxMessages', ['status', 'nextAttemptAt'], { name: 'outbox_messages_status_next' });
    await queryInterface.addIndex('OutboxMessages', ['forUser'], { name: 'outbox_messages_for_user' });
    await queryInterface.createTable('NotificationLogs', {
      id: { type: Sequelize.INTEGER, primaryKey: true, autoIncrement: true, allowNull: false },
      itemType: { type: Sequelize.STRING(16), allowNull: false },
      itemId: { type: Sequelize.INTEGER, allowNull: false },
      itemLabel: { type: Sequelize.STRING(255), allowNull: false },
      notice: { type: Sequelize.STRING(16), allowNull: false },
      expiresOn: { type: Sequelize.DATEONLY, allowNull: false },
      scanDay: { type: Sequelize.DATEONLY, allowNull: false },
      username: { type: Sequelize.STRING(191), allowNull: true },
      outboxId: { type: Sequelize.INTEGER, allowNull: true },
      jobId: { type: Sequelize.INTEGER, allowNull: true },
      // The delete date a 'stopped' or 'delete-due' notice announced (nothing is deleted before it).
      actionOn: { type: Sequelize.DATEONLY, allowNull: true },
      createdAt: { type: Sequelize.DATE, allowNull: false },
    });
    await queryInterface.addIndex('NotificationLogs', ['itemType', 'itemId', 'notice', 'expiresOn'], { unique: true, name: 'notification_logs_item_notice_date' });
    await queryInterface.addIndex('NotificationLogs', ['scanDay'], { name: 'notification_logs_scan_day' });
    await queryInterface.createTable('ExtendLinks', {
      id: { type: Sequelize.INTEGER, primaryKey: true, autoIncrement: true, allowNull: false },
      tokenHash: { type: Sequelize.STRING(64), allowNull: false, unique: true },
      itemType: { type: Sequelize.STRING(16), allowNull: false },
      itemId: { type: Sequelize.INTEGER, allowNull: false },
      username: { type: Sequelize.STRING(191), allowNull: false },
      expiresOn: { type: Sequelize.DATEONLY, allowNull: false },
      validUntil: { type: Sequelize.DATE, allowNull: false },
      usedAt: { type: Sequelize.DATE, allowNull: true },
      createdAt: { type: Sequelize.DATE, allowNull: false },
    });
    await queryInterface.createTable('ExpiryPolicies', {
      kind: { type: Sequelize.STRING(16), primaryKey: true, allowNull: false },
      action: { type: Sequelize.STRING(16), allowNull: false, defaultValue: 'none' },
      graceDays: { type: Sequelize.INTEGER, allowNull: false, defaultValue: 7 },
      updatedBy: { type: Sequelize.STRING(191), allowNull: true },
      ...ts(),
    });
  },

  async down(queryInterface) {
    await queryInterface.dropTable('ExpiryPolicies');
    await queryInterface.dropTable('ExtendLinks');
    await queryInterface.dropTable('NotificationLogs');
    await queryInterface.dropTable('OutboxMessages');
  },
};
