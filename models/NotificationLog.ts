import { DataTypes, Model, type CreationOptional, type InferAttributes, type InferCreationAttributes, type Sequelize } from 'sequelize';

/**
 * Reminders (`7d`, `1d`, `today`) and expiry-action notices (`stopped`; `delete-due`, the delete
 * announced for an item stopped before the policy said delete; `deleted`). One row per (item,
 * notice, expiry date): the unique key is what makes a notice go out once, whoever scans.
 */
export const NOTICES = ['7d', '1d', 'today', 'stopped', 'delete-due', 'deleted'] as const;
export type Notice = (typeof NOTICES)[number];
export type ExpiryItemType = 'container' | 'vm';

/** The seed's notification_log: which notice went out about which item, for which expiry date. */
export class NotificationLog extends Model<InferAttributes<NotificationLog>, InferCreationAttributes<NotificationLog>> {
  declare id: CreationOptional<number>;
  declare itemType: ExpiryItemType;
  declare itemId: number;
  /** The hostname or VM name when the notice went out (the item may be gone since). */
  declare itemLabel: string;
  declare notice: Notice;
  /** The expiry date the notice was about: a changed date starts a new series. */
  declare expiresOn: string;
  /** The day (in the configured time zone) of the scan that wrote it. */
  declare scanDay: string;
  declare username: CreationOptional<string | null>;
  declare outboxId: CreationOptional<number | null>;
  /** The stop or delete job of an expiry-action notice. */
  declare jobId: CreationOptional<number | null>;
  /** The delete date a `stopped` or `delete-due` notice announced; null when it announced none. */
  declare actionOn: CreationOptional<string | null>;
  declare createdAt: CreationOptional<Date>;

  static initModel(sequelize: Sequelize): typeof NotificationLog {
    return NotificationLog.init(
      {
        id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
        itemType: { type: DataTypes.STRING(16), allowNull: false, validate: { isIn: [['container', 'vm']] } },
        itemId: { type: DataTypes.INTEGER, allowNull: false },
        itemLabel: { type: DataTypes.STRING(255), allowNull: false },
        notice: { type: DataTypes.STRING(16), allowNull: false, validate: { isIn: [NOTICES as unknown as string[]] } },
        expiresOn: { type: DataTypes.DATEONLY, allowNull: false },
        scanDay: { type: DataTypes.DATEONLY, allowNull: false },
        username: { type: DataTypes.STRING(191), allowNull: true },
        outboxId: { type: DataTypes.INTEGER, allowNull: true },
        jobId: { type: DataTypes.INTEGER, allowNull: true },
        actionOn: { type: DataTypes.DATEONLY, allowNull: true },
        createdAt: DataTypes.DATE,
      },
      {
        sequelize,
        tableName: 'NotificationLogs',
        modelName: 'NotificationLog',
        updatedAt: false,
        indexes: [{ unique: true, fields: ['itemType', 'itemId', 'notice', 'expiresOn'], name: 'notification_logs_item_notice_date' }],
      },
    );
  }
}
