import { DataTypes, Model, type CreationOptional, type ForeignKey, type InferAttributes, type InferCreationAttributes, type Sequelize } from 'sequelize';
import type { Container } from './Container.js';

/**
 * - submitted: within quota (or approved); its container.create job is `jobId`.
 * - pending: over quota, waiting in the admin queue; the hostname stays reserved.
 * - rejected: an admin said no (`reason` was mailed); the reservation is gone.
 * - withdrawn: its requester took it back while it waited; the reservation is gone.
 */
export const CONTAINER_REQUEST_STATUSES = ['submitted', 'pending', 'rejected', 'withdrawn'] as const;
export type ContainerRequestStatus = (typeof CONTAINER_REQUEST_STATUSES)[number];

/** What a user asked for when requesting a new container: the create task reads its parameters from here. */
export class ContainerRequest extends Model<InferAttributes<ContainerRequest>, InferCreationAttributes<ContainerRequest>> {
  declare id: CreationOptional<number>;
  declare containerId: ForeignKey<Container['id']> | null;
  declare hostname: string;
  declare username: string;
  /** JSON of ProvisionParams (src/provisioning/request.ts). */
  declare params: string;
  declare status: ContainerRequestStatus;
  /** JSON of the limits the request went over, for the approval queue. */
  declare overage: string | null;
  declare decidedBy: string | null;
  declare reason: string | null;
  declare jobId: number | null;
  declare createdAt: CreationOptional<Date>;
  declare updatedAt: CreationOptional<Date>;

  static initModel(sequelize: Sequelize): typeof ContainerRequest {
    return ContainerRequest.init(
      {
        id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
        containerId: { type: DataTypes.INTEGER, allowNull: true },
        hostname: { type: DataTypes.STRING(255), allowNull: false },
        username: { type: DataTypes.STRING(191), allowNull: false },
        params: { type: DataTypes.TEXT, allowNull: false },
        status: { type: DataTypes.STRING(32), allowNull: false, validate: { isIn: [CONTAINER_REQUEST_STATUSES as unknown as string[]] } },
        overage: { type: DataTypes.TEXT, allowNull: true },
        decidedBy: { type: DataTypes.STRING(191), allowNull: true },
        reason: { type: DataTypes.TEXT, allowNull: true },
        jobId: { type: DataTypes.INTEGER, allowNull: true },
        createdAt: DataTypes.DATE,
        updatedAt: DataTypes.DATE,
      },
      { sequelize, tableName: 'ContainerRequests', modelName: 'ContainerRequest' },
    );
  }
}
