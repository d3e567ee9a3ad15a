import type { Sequelize } from 'sequelize';
import { AccountRequest } from './AccountRequest.js';
import { ApiToken } from './ApiToken.js';
import { AuditEvent } from './AuditEvent.js';
import { Container } from './Container.js';
import { ContainerRequest } from './ContainerRequest.js';
import { ContainerTemplate } from './ContainerTemplate.js';
import { Credential } from './Credential.js';
import { IdempotencyKey } from './IdempotencyKey.js';
import { IpPool } from './IpPool.js';
import { CsvImport } from './CsvImport.js';
import { MachineSnapshot } from './MachineSnapshot.js';
import { Job } from './Job.js';
import { JobRunner } from './JobRunner.js';
import { JobOutput } from './JobOutput.js';
import { Node } from './Node.js';
import { RateLimit } from './RateLimit.js';
import { Service } from './Service.js';
import { ScheduledRun } from './ScheduledRun.js';
import { Session } from './Session.js';
import { User } from './User.js';
import { UserQuota } from './UserQuota.js';
import { VirtualMachine } from './VirtualMachine.js';
import { PublicDomain } from './PublicDomain.js';
import { EdgeConfigVersion } from './EdgeConfigVersion.js';
import { EdgeState } from './EdgeState.js';
import { Edge } from './Edge.js';
import { OutboxMessage } from './OutboxMessage.js';
import { NotificationLog } from './NotificationLog.js';
import { ExtendLink } from './ExtendLink.js';
import { ExpiryPolicy } from './ExpiryPolicy.js';

export { JobRunner };
export { Container, Job, JobOutput, Node, RateLimit, Service, Session, User };
export type { Role } from './User.js';
export type { ServiceType } from './Service.js';
export { AccountRequest, ApiToken };
export { AuditEvent, Credential, CsvImport, MachineSnapshot, ScheduledRun, VirtualMachine };
export { ContainerRequest, ContainerTemplate, IdempotencyKey, IpPool, UserQuota };
export { Edge, EdgeConfigVersion, EdgeState, PublicDomain };
export { ExpiryPolicy, ExtendLink, NotificationLog, OutboxMessage };

export interface Models {
  User: typeof User;
  Session: typeof Session;
  Node: typeof Node;
  Container: typeof Container;
  Service: typeof Service;
  Job: typeof Job;
  JobOutput: typeof JobOutput;
  JobRunner: typeof JobRunner;
  RateLimit: typeof RateLimit;
  AccountRequest: typeof AccountRequest;
  ApiToken: typeof ApiToken;
  VirtualMachine: typeof VirtualMachine;
  Credential: typeof Credential;
  AuditEvent: typeof AuditEvent;
  MachineSnapshot: typeof MachineSnapshot;
  CsvImport: typeof CsvImport;
  ScheduledRun: typeof ScheduledRun;
  ContainerTemplate: typeof ContainerTemplate;
  IpPool: typeof IpPool;
  UserQuota: typeof UserQuota;
  ContainerRequest: typeof ContainerRequest;
  IdempotencyKey: typeof IdempotencyKey;
  PublicDomain: typeof PublicDomain;
  EdgeConfigVersion: typeof EdgeConfigVersion;
  EdgeState: typeof EdgeState;
  Edge: typeof Edge;
  OutboxMessage: typeof OutboxMessage;
  NotificationLog: typeof NotificationLog;
  ExtendLink: typeof ExtendLink;
  ExpiryPolicy: typeof ExpiryPolicy;
}

/**
 * Initialises every model on `sequelize` and wires the associations. Sequelize keeps model classes
 * global, so one process works with one database at a time (tests included).
 */
export function initModels(sequelize: Sequelize): Models {
  const models: Models = {
    User: User.initModel(sequelize),
    Session: Session.initModel(sequelize),
    Node: Node.initModel(sequelize),
    Container: Container.initModel(sequelize),
    Service: Service.initModel(sequelize),
    Job: Job.initModel(sequelize),
    JobOutput: JobOutput.initModel(sequelize),
    JobRunner: JobRunner.initModel(sequelize),
    RateLimit: RateLimit.initModel(sequelize),
    AccountRequest: AccountRequest.initModel(sequelize),
    ApiToken: ApiToken.initModel(sequelize),
    VirtualMachine: VirtualMachine.initModel(sequelize),
    Credential: Credential.initModel(sequelize),
    AuditEvent: AuditEvent.initModel(sequelize),
    MachineSnapshot: MachineSnapshot.initModel(sequelize),
    CsvImport: CsvImport.initModel(sequelize),
    ScheduledRun: ScheduledRun.initModel(sequelize),
    ContainerTemplate: ContainerTemplate.initModel(sequelize),
    IpPool: IpPool.initModel(sequelize),
    UserQuota: UserQuota.initModel(sequelize),
    ContainerRequest: ContainerRequest.initModel(sequelize),
    IdempotencyKey: IdempotencyKey.initModel(sequelize),
    PublicDomain: PublicDomain.initModel(sequelize),
    EdgeConfigVersion: EdgeConfigVersion.initModel(sequelize),
    EdgeState: EdgeState.initModel(sequelize),
    Edge: Edge.initModel(sequelize),
    OutboxMessage: OutboxMessage.initModel(sequelize),
    NotificationLog: NotificationLog.initModel(sequelize),
    ExtendLink: ExtendLink.initModel(sequelize),
    ExpiryPolicy: ExpiryPolicy.initModel(sequelize),
  };
  Node.hasMany(Container, { foreignKey: 'nodeId', as: 'containers' });
  Container.belongsTo(Node, { foreignKey: 'nodeId', as: 'node' });
  Container.hasMany(Service, { foreignKey: 'containerId', as: 'services', onDelete: 'CASCADE' });
  Service.belongsTo(Container, { foreignKey: 'containerId', as: 'container' });
  Node.hasMany(VirtualMachine, { foreignKey: 'nodeId', as: 'virtualMachines' });
  VirtualMachine.belongsTo(Node, { foreignKey: 'nodeId', as: 'node' });
  Container.hasMany(Credential, { foreignKey: 'containerId', as: 'credentials', onDelete: 'CASCADE' });
  VirtualMachine.hasMany(Credential, { foreignKey: 'virtualMachineId', as: 'credentials', onDelete: 'CASCADE' });
  Job.hasMany(JobOutput, { foreignKey: 'jobId', as: 'chunks' });
  JobOutput.belongsTo(Job, { foreignKey: 'jobId', as: 'job' });
  User.hasMany(Session, { foreignKey: 'userId', as: 'sessions' });
  User.hasMany(ApiToken, { foreignKey: 'userId', as: 'apiTokens', onDelete: 'CASCADE' });
  ApiToken.belongsTo(User, { foreignKey: 'userId', as: 'user' });
  Node.hasMany(ContainerTemplate, { foreignKey: 'nodeId', as: 'templates', onDelete: 'CASCADE' });
  ContainerTemplate.belongsTo(Node, { foreignKey: 'nodeId', as: 'node' });
  Node.hasMany(IpPool, { foreignKey: 'nodeId', as: 'ipPools', onDelete: 'CASCADE' });
  IpPool.belongsTo(Node, { foreignKey: 'nodeId', as: 'node' });
  User.hasOne(UserQuota, { foreignKey: 'userId', as: 'quota', onDelete: 'CASCADE' });
  Container.hasOne(ContainerRequest, { foreignKey: 'containerId', as: 'request' });
  ContainerRequest.belongsTo(Container, { foreignKey: 'containerId', as: 'container' });
  PublicDomain.hasMany(Service, { foreignKey: 'domainId', as: 'services' });
  Service.belongsTo(PublicDomain, { foreignKey: 'domainId', as: 'domain' });
  return models;
}
