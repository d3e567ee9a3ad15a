import type { NotificationLog } from '../../models/index.js';
import type { ExpiryItemType, Notice } from '../../models/NotificationLog.js';
import { plannedAction } from '../expiry/actions.js';
import { daysBetween } from '../expiry/clock.js';
import { extensionTarget } from '../expiry/extend.js';
import type { ExpiryRule } from '../expiry/policy.js';
import { expiryActionInWords } from '../expiry/scan.js';

const KIND_LABEL: Record<ExpiryItemType, string> = { container: 'Container', vm: 'VM' };
const BASE_PATH: Record<ExpiryItemType, string> = { container: '/containers', vm: '/vms' };

/** The page of a container or VM. */
export const itemHref = (itemType: ExpiryItemType, itemId: number): string => `${BASE_PATH[itemType]}/${itemId}`;

/** "in 3 days", "tomorrow", "today", "expired 2 days ago". */
export function daysLeftText(daysLeft: number): string {
  if (daysLeft > 1) return `in ${daysLeft} days`;
  if (daysLeft === 1) return 'tomorrow';
  if (daysLeft === 0) return 'today (last day)';
  return daysLeft === -1 ? 'expired yesterday' : `expired ${-daysLeft} days ago`;
}

export interface ExpiryRow {
  itemType: ExpiryItemType;
  id: number;
  label: string;
  status: string;
  expiresAt: string;
  /** Containers: whether Berth created it (the expiry action never touches one it did not). */
  managed?: boolean;
}

/** One line of the Expiries page; what the expiry action will do is said in the reminders' words (src/expiry/scan.ts). */
export function presentExpiryItem(
  row: ExpiryRow,
  rule: Pick<ExpiryRule, 'action' | 'graceDays'>,
  today: string,
  config: { EXPIRY_EXTEND_DAYS: number; CONTAINER_EXPIRY_MAX_DAYS: number },
) {
  const daysLeft = daysBetween(today, row.expiresAt);
  const target = extensionTarget(config, row.expiresAt, today);
  return {
    itemType: row.itemType,
    kindLabel: KIND_LABEL[row.itemType],
    id: row.id,
    label: row.label,
    status: row.status,
    href: itemHref(row.itemType, row.id),
    expiresAt: row.expiresAt,
    daysLeft,
    daysLeftText: daysLeftText(daysLeft),
    expired: daysLeft < 0,
    action: expiryActionInWords(plannedAction(row.itemType, row, rule), rule.graceDays, row.expiresAt),
    canExtend: target.possible,
    extendTo: target.to,
  };
}

const NOTICE_LABEL: Record<Notice, string> = {
  '7d': 'reminder (7 days)',
  '1d': 'reminder (1 day)',
  today: 'reminder (last day)',
  stopped: 'stopped',
  'delete-due': 'delete announced',
  deleted: 'deleted',
};

/** One row of the notification log (admins). */
export function presentNotification(row: NotificationLog) {
  return {
    id: row.id,
    createdAt: row.createdAt.toISOString(),
    itemType: row.itemType,
    itemId: row.itemId,
    itemLabel: row.itemLabel,
    itemHref: itemHref(row.itemType, row.itemId),
    notice: row.notice,
    noticeLabel: NOTICE_LABEL[row.notice] ?? row.notice,
    expiresOn: row.expiresOn,
    scanDay: row.scanDay,
    username: row.username,
    outboxId: row.outboxId,
    outboxHref: row.outboxId ? `/admin/mail/${row.outboxId}` : null,
    jobId: row.jobId,
    jobHref: row.jobId ? `/status/${row.jobId}` : null,
  };
}

/** The settings form's view of one kind's rule. */
export function presentExpiryRule(rule: ExpiryRule, actions: readonly string[]) {
  return { kind: rule.kind, kindLabel: KIND_LABEL[rule.kind], action: rule.action, graceDays: rule.graceDays, actions };
}
