import { DataTypes, Model, type CreationOptional, type InferAttributes, type InferCreationAttributes, type Sequelize } from 'sequelize';

/** A Proxmox VE node Berth talks to. apiTokenSecret holds ciphertext only. */
export class Node extends Model<InferAttributes<Node>, InferCreationAttributes<Node>> {
  declare id: CreationOptional<number>;
  declare name: string;
  declare apiUrl: string;
  declare tlsVerify: CreationOptional<boolean>;
  declare tlsFingerprint: string | null;
  declare apiTokenId: string | null;
  declare apiTokenSecret: string | null;
  /** When a sync last read this node's machines (src/inventory/sync.ts); null: never. */
  declare syncedAt: CreationOptional<Date | null>;
  /** When and why the last sync that tried this node could not read it; null after a successful read. */
  declare syncFailedAt: CreationOptional<Date | null>;
  declare syncError: CreationOptional<string | null>;
  declare createdAt: CreationOptional<Date>;
  declare updatedAt: CreationOptional<Date>;

  static initModel(sequelize: Sequelize): typeof Node {
    return Node.init(
      {
        id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
        name: { type: DataTypes.STRING(191), allowNull: false, unique: true },
        apiUrl: { type: DataTypes.STRING(255), allowNull: false },
        tlsVerify: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: true },
        tlsFingerprint: { type: DataTypes.STRING(128), allowNull: true },
        apiTokenId: { type: DataTypes.STRING(191), allowNull: true },
        apiTokenSecret: { type: DataTypes.TEXT, allowNull: true },
        syncedAt: { type: DataTypes.DATE, allowNull: true },
        syncFailedAt: { type: DataTypes.DATE, allowNull: true },
        syncError: { type: DataTypes.TEXT, allowNull: true },
        createdAt: DataTypes.DATE,
        updatedAt: DataTypes.DATE,
      },
      { sequelize, tableName: 'Nodes', modelName: 'Node' },
    );
  }
}
