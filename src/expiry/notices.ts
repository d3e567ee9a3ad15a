// Which reminder an item is due, from its days left and the notices already logged for its expiry
// date. Pure: the scan (src/expiry/scan.ts) reads the log and writes the answer in one transaction.
import type { Notice } from '../../models/NotificationLog.js';

/** The reminders, earliest first: a later one covers the earlier ones (after '1d', no '7d'). */
export const REMINDER_NOTICES = ['7d', '1d', 'today'] as const;
export type ReminderNotice = (typeof REMINDER_NOTICES)[number];

/** How many days before its expiry date an item is first reminded. */
export const FIRST_REMINDER_DAYS = 7;

/**
 * The reminder that applies with `daysLeft` days to go (0: it expires today), ignoring the log:
 * '7d' from 7 down to 2 days left (so a 7-day notice missed, or an item first seen with 3 days left,
 * is still warned), '1d' the day before, 'today' on the day; none outside that window.
 */
export function applicableNotice(daysLeft: number): ReminderNotice | null {
  if (daysLeft === 0) return 'today';
  if (daysLeft === 1) return '1d';
  if (daysLeft >= 2 && daysLeft <= FIRST_REMINDER_DAYS) return '7d';
  return null;
}

/**
 * The reminder to send now, or null: the applicable one unless it, or a later one, was already
 * logged for this expiry date. A missed earlier notice is never sent late once a later one applies
 * (the 1-day notice missed: only 'today').
 */
export function dueNotice(daysLeft: number, logged: Iterable<Notice>): ReminderNotice | null {
  const notice = applicableNotice(daysLeft);
  if (!notice) return null;
  const sent = new Set<string>(logged);
  const covered = REMINDER_NOTICES.slice(REMINDER_NOTICES.indexOf(notice)).some((n) => sent.has(n));
  return covered ? null : notice;
}

/** Days left in words, for mails and the CLI: "today", "tomorrow", "in 5 days". */
export function daysLeftInWords(daysLeft: number): string {
  if (daysLeft === 0) return 'today';
  if (daysLeft === 1) return 'tomorrow';
  if (daysLeft > 1) return `in ${daysLeft} days`;
  return daysLeft === -1 ? 'yesterday' : `${-daysLeft} days ago`;
}
