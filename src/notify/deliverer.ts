// FIRST DRAFT (foundation): the API other modules and tests use. Helper A makes it robust (leases,
// backoff, permanent vs transient failures, pruning, metrics) without changing these signatures.
import nodemailer, { type Transporter } from 'nodemailer';
import { Op, type Sequelize } from 'sequelize';
import type { Config } from '../../config/index.js';
import type { Models, OutboxMessage } from '../../models/index.js';
import type { Logger } from '../lib/logger.js';
import { renderEmail, smtpOptions } from '../lib/mail/index.js';
import { openPayload } from './outbox.js';

export interface DelivererOptions {
  models: Models;
  sequelize: Sequelize;
  config: Config;
  logger: Logger;
  /** Names this deliverer in leases (default: host:pid:random). */
  id?: string;
  /** Milliseconds since the epoch (injectable for tests). */
  clock?: () => number;
}

/** Delivers the outbox: started by the job runner (job-runner.ts); `deliverDue()` is one pass. */
export class OutboxDeliverer {
  private transport?: Transporter;
  private readonly clock: () => number;

  constructor(private readonly o: DelivererOptions) {
    this.clock = o.clock ?? Date.now;
  }

  start(): void {}

  async stop(): Promise<void> {}

  /** Sends every message that is due now, one at a time; returns how many were sent. */
  async deliverDue(): Promise<number> {
    const due = await this.o.models.OutboxMessage.findAll({ where: { status: 'queued', nextAttemptAt: { [Op.lte]: new Date(this.clock()) } }, order: [['id', 'ASC']] });
    let sent = 0;
    for (const message of due) if (await this.deliver(message)) sent++;
    return sent;
  }

  private async deliver(message: OutboxMessage): Promise<boolean> {
    try {
      const data = openPayload(this.o.config, message);
      const { html, text } = await renderEmail(message.template, { publicUrl: this.o.config.publicUrl, ...data });
      this.transport ??= nodemailer.createTransport(smtpOptions(this.o.config));
      const info = await this.transport.sendMail({ from: this.o.config.MAIL_FROM, to: JSON.parse(message.recipients) as string[], cc: message.cc ? (JSON.parse(message.cc) as string[]) : undefined, subject: message.subject, html, text });
      await message.update({ status: 'sent', sentAt: new Date(this.clock()), messageId: info.messageId, attempts: message.attempts + 1 });
      return true;
    } catch (err) {
      await message.update({ attempts: message.attempts + 1, lastError: (err as Error).message, nextAttemptAt: new Date(this.clock() + 15_000) });
      return false;
    }
  }
}
