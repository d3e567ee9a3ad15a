import { DataTypes, Model, type CreationOptional, type InferAttributes, type InferCreationAttributes, type Sequelize } from 'sequelize';

/**
 * A login for a container or a VM (exactly one of containerId / virtualMachineId). `secret` and
 * `sshKey` are vault envelopes (src/lib/vault.ts); only src/services/credentials.ts opens them.
 */
export class Credential extends Model<InferAttributes<Credential>, InferCreationAttributes<Credential>> {
  declare id: CreationOptional<number>;
  declare containerId: number | null;
  declare virtualMachineId: number | null;
  declare label: string;
  declare username: string;
  declare secret: string;
  declare sshKey: string | null;
  declare keyId: string;
  declare createdBy: string | null;
  declare createdAt: CreationOptional<Date>;
  declare updatedAt: CreationOptional<Date>;

  static initModel(sequelize: Sequelize): typeof Credential {
    return Credential.init(
      {
        id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
        containerId: { type: DataTypes.INTEGER, allowNull: true },
        virtualMachineId: { type: DataTypes.INTEGER, allowNull: true },
        label: { type: DataTypes.STRING(64), allowNull: false },
        username: { type: DataTypes.STRING(191), allowNull: false },
        secret: { type: DataTypes.TEXT, allowNull: false },
        sshKey: { type: DataTypes.TEXT, allowNull: true },
        keyId: { type: DataTypes.STRING(16), allowNull: false },
        createdBy: { type: DataTypes.STRING(191), allowNull: true },
        createdAt: DataTypes.DATE,
        updatedAt: DataTypes.DATE,
      },
      { sequelize, tableName: 'Credentials', modelName: 'Credential' },
    );
  }
}
