// One wording for "what became of the mail" in the flash messages of the pages that cause one
// (password reset, account and container request decisions), so they all say the same thing.
import type { MailResult } from './outbox.js';

/** Queued and (SMTP configured) on its way: the job runner delivers it. */
export const mailOnItsWay = (mail: MailResult): boolean => mail.outboxId !== null && !mail.reason;

/**
 * A sentence about `mail`, e.g. "An email with the reason is queued for the requester (outbox
 * message 12)." `what` names the mail ("An email with the reason"), `to` its recipient.
 */
export function mailNote(mail: MailResult, what: string, to: string): string {
  if (mail.outboxId === null) return `No email was queued (${mail.reason ?? 'nothing to send'}).`;
  const queued = `${what} is queued for ${to} (outbox message ${mail.outboxId})`;
  return mail.reason ? `${queued}; it waits there: ${mail.reason}.` : `${queued}.`;
}
