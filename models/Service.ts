import { DataTypes, Model, type CreationOptional, type ForeignKey, type InferAttributes, type InferCreationAttributes, type Sequelize } from 'sequelize';
import type { Container } from './Container.js';
import type { PublicDomain } from './PublicDomain.js';

export const SERVICE_TYPES = ['http', 'tcp', 'udp'] as const;
export type ServiceType = (typeof SERVICE_TYPES)[number];

/**
 * A port a container exposes through the edge proxy. http services use externalHostname (externalPort
 * stays NULL); tcp/udp services use externalPort (externalHostname stays NULL): see the migration.
 */
export class Service extends Model<InferAttributes<Service>, InferCreationAttributes<Service>> {
  declare id: CreationOptional<number>;
  declare containerId: ForeignKey<Container['id']>;
  declare type: ServiceType;
  declare internalPort: number;
  declare externalPort: number | null;
  declare tls: CreationOptional<boolean>;
  declare externalHostname: string | null;
  /** The domain an http service's name sits under; NULL for tcp/udp and for a name an admin allowed outside every domain. */
  declare domainId: CreationOptional<ForeignKey<PublicDomain['id']> | null>;
  declare createdAt: CreationOptional<Date>;
  declare updatedAt: CreationOptional<Date>;

  static initModel(sequelize: Sequelize): typeof Service {
    return Service.init(
      {
        id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
        containerId: { type: DataTypes.INTEGER, allowNull: false },
        type: { type: DataTypes.STRING(8), allowNull: false, validate: { isIn: [SERVICE_TYPES as unknown as string[]] } },
        internalPort: { type: DataTypes.INTEGER, allowNull: false, validate: { min: 1, max: 65535 } },
        externalPort: { type: DataTypes.INTEGER, allowNull: true, validate: { min: 1, max: 65535 } },
        tls: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: false },
        externalHostname: { type: DataTypes.STRING(255), allowNull: true },
        domainId: { type: DataTypes.INTEGER, allowNull: true },
        createdAt: DataTypes.DATE,
        updatedAt: DataTypes.DATE,
      },
      {
        sequelize,
        tableName: 'Services',
        modelName: 'Service',
        validate: {
          oneKindOfExposure(this: Service) {
            if (this.type === 'http' && this.externalPort !== null) throw new Error('http services have no externalPort');
            if (this.type !== 'http' && this.externalHostname !== null) throw new Error('tcp/udp services have no externalHostname');
          },
        },
      },
    );
  }
}
