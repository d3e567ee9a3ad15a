// The containers and VMs an expiry scan reminds about: owned, with an expiry date from the scan day
// to FIRST_REMINDER_DAYS ahead, and built (a request still being created or approved, or a record
// being deleted, is nobody's to extend). Read through the inventory kinds, once for both tables.
import { Op, type Transaction } from 'sequelize';
import type { Models } from '../../models/index.js';
import type { ExpiryItemType } from '../../models/NotificationLog.js';
import { KINDS, recordName, type InventoryKind } from '../inventory/kinds.js';
import { addDays, daysBetween } from './clock.js';
import { FIRST_REMINDER_DAYS } from './notices.js';

/** Statuses whose records get no reminder. */
export const NOT_REMINDED_STATUSES = ['provisioning', 'pending-approval', 'deleting'] as const;

export interface ExpiringItem {
  kind: InventoryKind;
  itemType: ExpiryItemType;
  itemId: number;
  /** Hostname or VM name. */
  label: string;
  username: string;
  /** The last day it is meant to live. */
  expiresOn: string;
  /** Calendar days from the scan day to the expiry date (0: it expires today). */
  daysLeft: number;
  /** Berth created it (containers; the expiry action leaves the others alone). */
  managed: boolean;
}

/**
 * Every item expiring within the reminder window of `scanDay`, both kinds, ordered by owner, then
 * expiry date, kind and name (the order of a digest).
 */
export async function loadExpiringItems(models: Models, scanDay: string, transaction?: Transaction): Promise<ExpiringItem[]> {
  const items: ExpiringItem[] = [];
  for (const kind of KINDS) {
    const rows = await kind.model(models).findAll({
      where: {
        expiresAt: { [Op.between]: [scanDay, addDays(scanDay, FIRST_REMINDER_DAYS)] },
        username: { [Op.ne]: null },
        status: { [Op.notIn]: [...NOT_REMINDED_STATUSES] },
      },
      transaction,
    });
    for (const row of rows) {
      const expiresOn = String(row.expiresAt);
      items.push({ kind, itemType: kind.key, itemId: row.id, label: recordName(kind, row), username: row.username!, expiresOn, daysLeft: daysBetween(scanDay, expiresOn), managed: Boolean((row as { managed?: boolean }).managed) });
    }
  }
  return items.sort((a, b) => cmp(a.username, b.username) || cmp(a.expiresOn, b.expiresOn) || cmp(a.itemType, b.itemType) || cmp(a.label, b.label) || a.itemId - b.itemId);
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
