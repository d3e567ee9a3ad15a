import { DataTypes, Model, type CreationOptional, type InferAttributes, type InferCreationAttributes, type Sequelize } from 'sequelize';

/** One write, as src/audit/record.ts stores it. Never updated, never deleted with its object. */
export class AuditEvent extends Model<InferAttributes<AuditEvent>, InferCreationAttributes<AuditEvent>> {
  declare id: CreationOptional<number>;
  declare actor: string | null;
  /** `<objectType>.<verb>`, e.g. container.update, credential.reveal, job.enqueue. */
  declare action: string;
  declare objectType: string;
  declare objectId: string | null;
  declare objectLabel: string | null;
  /** JSON {field: {before, after}}, secrets masked. */
  declare changes: string | null;
  declare requestId: string | null;
  declare ip: string | null;
  declare createdAt: CreationOptional<Date>;

  static initModel(sequelize: Sequelize): typeof AuditEvent {
    return AuditEvent.init(
      {
        id: { type: DataTypes.BIGINT, primaryKey: true, autoIncrement: true },
        actor: { type: DataTypes.STRING(191), allowNull: true },
        action: { type: DataTypes.STRING(64), allowNull: false },
        objectType: { type: DataTypes.STRING(32), allowNull: false },
        objectId: { type: DataTypes.STRING(64), allowNull: true },
        objectLabel: { type: DataTypes.STRING(255), allowNull: true },
        changes: { type: DataTypes.TEXT, allowNull: true },
        requestId: { type: DataTypes.STRING(64), allowNull: true },
        ip: { type: DataTypes.STRING(45), allowNull: true },
        createdAt: DataTypes.DATE,
      },
      { sequelize, tableName: 'AuditEvents', modelName: 'AuditEvent', updatedAt: false },
    );
  }
}
