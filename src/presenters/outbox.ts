import type { OutboxMessage } from '../../models/index.js';
import type { OutboxStatus } from '../../models/OutboxMessage.js';
import { mayRetry } from '../notify/outbox-admin.js';

/** The list's label and colour class per status (strings in the database, words here). */
export const OUTBOX_STATUS_LABELS: Record<OutboxStatus, { label: string; css: string }> = {
  queued: { label: 'queued', css: 'pending' },
  sending: { label: 'sending', css: 'running' },
  sent: { label: 'sent', css: 'success' },
  failed: { label: 'failed', css: 'failure' },
};

const addresses = (json: string | null): string[] => {
  if (!json) return [];
  try {
    const list = JSON.parse(json) as unknown;
    return Array.isArray(list) ? list.map(String) : [];
  } catch {
    return [];
  }
};

/**
 * One outbox message's envelope for the admin pages and API: who it is for, what it is, how its
 * delivery went. Never the payload (sealed, and holding links meant for the recipient only).
 */
export function presentOutboxMessage(row: OutboxMessage) {
  return {
    id: row.id,
    category: row.category,
    template: row.template,
    subject: row.subject,
    recipients: addresses(row.recipients),
    cc: addresses(row.cc),
    forUser: row.forUser,
    status: row.status,
    statusCss: OUTBOX_STATUS_LABELS[row.status as OutboxStatus]?.css ?? 'unknown',
    attempts: row.attempts,
    lastError: row.lastError,
    nextAttemptAt: row.nextAttemptAt,
    lockedBy: row.lockedBy,
    lockedUntil: row.lockedUntil,
    messageId: row.messageId,
    sentAt: row.sentAt,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    mayRetry: mayRetry(row.status),
  };
}

export type PresentedOutboxMessage = ReturnType<typeof presentOutboxMessage>;
