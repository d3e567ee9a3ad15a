import { DataTypes, Model, type CreationOptional, type InferAttributes, type InferCreationAttributes, type Sequelize } from 'sequelize';

/**
 * queued: waiting for its next attempt; sending: a runner holds the lease and is talking to SMTP;
 * sent: the SMTP server accepted it; failed: given up (a permanent refusal, or retried for too long),
 * shown to admins, who may retry it.
 */
export const OUTBOX_STATUSES = ['queued', 'sending', 'sent', 'failed'] as const;
export type OutboxStatus = (typeof OUTBOX_STATUSES)[number];

/** One email, written in the transaction of the change that causes it (src/notify/outbox.ts). */
export class OutboxMessage extends Model<InferAttributes<OutboxMessage>, InferCreationAttributes<OutboxMessage>> {
  declare id: CreationOptional<number>;
  /** What kind of mail it is (`expiry-reminder`, `job-failed`, …): for the admin list and tests. */
  declare category: string;
  /** Name under views/emails/ (`<template>.html.ejs` and `.text.ejs`). */
  declare template: string;
  /** JSON array of addresses; empty when the person it is for has none (then it fails with that reason). */
  declare recipients: string;
  declare cc: CreationOptional<string | null>;
  declare subject: string;
  /** The template data as JSON, sealed with the vault (purpose `outbox-payload`). */
  declare payload: string;
  /** The Berth user the mail is for, when there is one. */
  declare forUser: CreationOptional<string | null>;
  /** A key that makes a second queueing of the same mail a no-op (unique). */
  declare dedupeKey: CreationOptional<string | null>;
  declare status: CreationOptional<OutboxStatus>;
  declare attempts: CreationOptional<number>;
  declare nextAttemptAt: Date;
  /** Where the retry window (OUTBOX_RETRY_HOURS) starts: when it was queued, or when an admin retried it. */
  declare retryFrom: CreationOptional<Date>;
  declare lockedBy: CreationOptional<string | null>;
  declare lockedUntil: CreationOptional<Date | null>;
  declare lastError: CreationOptional<string | null>;
  declare messageId: CreationOptional<string | null>;
  declare sentAt: CreationOptional<Date | null>;
  declare createdAt: CreationOptional<Date>;
  declare updatedAt: CreationOptional<Date>;

  static initModel(sequelize: Sequelize): typeof OutboxMessage {
    return OutboxMessage.init(
      {
        id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
        category: { type: DataTypes.STRING(64), allowNull: false },
        template: { type: DataTypes.STRING(64), allowNull: false },
        recipients: { type: DataTypes.TEXT, allowNull: false },
        cc: { type: DataTypes.TEXT, allowNull: true },
        subject: { type: DataTypes.STRING(255), allowNull: false },
        payload: { type: DataTypes.TEXT, allowNull: false },
        forUser: { type: DataTypes.STRING(191), allowNull: true },
        dedupeKey: { type: DataTypes.STRING(191), allowNull: true, unique: true },
        status: { type: DataTypes.STRING(16), allowNull: false, defaultValue: 'queued', validate: { isIn: [OUTBOX_STATUSES as unknown as string[]] } },
        attempts: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
        nextAttemptAt: { type: DataTypes.DATE, allowNull: false },
        retryFrom: { type: DataTypes.DATE, allowNull: false, defaultValue: DataTypes.NOW },
        lockedBy: { type: DataTypes.STRING(64), allowNull: true },
        lockedUntil: { type: DataTypes.DATE, allowNull: true },
        lastError: { type: DataTypes.TEXT, allowNull: true },
        messageId: { type: DataTypes.STRING(255), allowNull: true },
        sentAt: { type: DataTypes.DATE, allowNull: true },
        createdAt: DataTypes.DATE,
        updatedAt: DataTypes.DATE,
      },
      { sequelize, tableName: 'OutboxMessages', modelName: 'OutboxMessage' },
    );
  }
}
