// The outbox: every email Berth sends is a row written in the transaction of the change that causes
// it (so a change and its mail commit together or not at all), delivered later by the job runner
// (src/notify/deliverer.ts). Nothing here talks to SMTP.
import type { Transaction } from 'sequelize';
import type { Config } from '../../config/index.js';
import type { Models, OutboxMessage } from '../../models/index.js';
import { Vault } from '../lib/vault.js';

/** The vault purpose the payload is sealed under (a payload cannot be moved to another column). */
export const OUTBOX_PAYLOAD_PURPOSE = 'outbox-payload';

export interface OutgoingMail {
  /** Addresses; empty or missing ones are dropped. An empty list is kept: delivery fails it with `noRecipientReason`. */
  to: Array<string | null | undefined>;
  cc?: Array<string | null | undefined>;
  /** One line (newlines are folded), at most 200 characters kept. */
  subject: string;
  /** Name under views/emails/ (rendered at delivery: a template error fails the message, never the change). */
  template: string;
  data: Record<string, unknown>;
  /** What kind of mail it is: `expiry-reminder`, `job-failed`, `account-request`, … */
  category: string;
  /** The Berth user it is for, if any (shown to admins, and says who lacked an address). */
  forUser?: string | null;
  /** A second queueing with the same key is a no-op (returns the first message). */
  dedupeKey?: string;
}

const vaults = new WeakMap<object, Vault>();
/** One vault per configuration (parsing the keys once). */
export function outboxVault(config: Pick<Config, 'ENCRYPTION_KEY' | 'ENCRYPTION_OLD_KEYS'>): Vault {
  let vault = vaults.get(config);
  if (!vault) vaults.set(config, (vault = Vault.fromConfig(config)));
  return vault;
}

const addresses = (list: Array<string | null | undefined> | undefined): string[] => [...new Set((list ?? []).map((a) => (a ?? '').trim()).filter(Boolean))];

/**
 * Writes one message to the outbox inside `transaction`. Returns the row (the existing one when
 * `dedupeKey` was queued before). Throws only what the database throws: the caller's change and its
 * mail stand or fall together.
 */
export async function queueMail(deps: { models: Models; config: Config }, mail: OutgoingMail, transaction: Transaction): Promise<OutboxMessage> {
  if (mail.dedupeKey) {
    const existing = await deps.models.OutboxMessage.findOne({ where: { dedupeKey: mail.dedupeKey }, transaction });
    if (existing) return existing;
  }
  const cc = addresses(mail.cc);
  const now = new Date();
  return deps.models.OutboxMessage.create(
    {
      category: mail.category,
      template: mail.template,
      recipients: JSON.stringify(addresses(mail.to)),
      cc: cc.length ? JSON.stringify(cc) : null,
      subject: mail.subject.replace(/[\r\n]+/g, ' ').slice(0, 200),
      payload: outboxVault(deps.config).seal(JSON.stringify(mail.data), OUTBOX_PAYLOAD_PURPOSE),
      forUser: mail.forUser ?? null,
      dedupeKey: mail.dedupeKey ?? null,
      status: 'queued',
      attempts: 0,
      nextAttemptAt: now,
      retryFrom: now,
    },
    { transaction },
  );
}

/** The template data of a queued message. */
export function openPayload(config: Pick<Config, 'ENCRYPTION_KEY' | 'ENCRYPTION_OLD_KEYS'>, message: Pick<OutboxMessage, 'payload'>): Record<string, unknown> {
  return JSON.parse(outboxVault(config).open(message.payload, OUTBOX_PAYLOAD_PURPOSE)) as Record<string, unknown>;
}

/**
 * What a command tells its caller about the mail it caused: queued in the outbox (delivered later by
 * the job runner), or why there was nothing to queue. A request never waits for SMTP.
 */
export interface MailResult {
  /** The outbox row, or null when nothing was queued. */
  outboxId: number | null;
  /** Why nothing was queued ('no email address'), or why it will wait ('SMTP_HOST is not configured'). */
  reason?: string;
}

/** The result for a queued row: notes that delivery waits for SMTP_HOST when mail is not configured. */
export function mailQueued(config: Pick<Config, 'SMTP_HOST'>, row: Pick<OutboxMessage, 'id'>): MailResult {
  return config.SMTP_HOST ? { outboxId: row.id } : { outboxId: row.id, reason: 'SMTP_HOST is not configured' };
}
