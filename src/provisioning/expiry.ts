// The expiry rule of a container Berth makes, in one place: at the request and at every later edit
// of its expiry by a non-admin. Imports nothing from the inventory, which calls it.
import type { Config } from '../../config/index.js';
import { ValidationError } from '../lib/errors.js';

/** Days from `today` (UTC) as YYYY-MM-DD. */
export function daysFromToday(days: number, today = new Date()): string {
  return new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate() + days)).toISOString().slice(0, 10);
}

/** Required for non-admins, not in the past, at most CONTAINER_EXPIRY_MAX_DAYS ahead (admins excepted). 422 otherwise. */
export function checkExpiry(config: Pick<Config, 'CONTAINER_EXPIRY_MAX_DAYS'>, expiresAt: string | null, isAdmin: boolean): void {
  if (!expiresAt) {
    if (!isAdmin) throw new ValidationError('Choose an expiry date.', { expiresAt: 'Choose an expiry date.' });
    return;
  }
  if (expiresAt < daysFromToday(0)) throw new ValidationError('The expiry date is in the past.', { expiresAt: 'Choose a date from today on.' });
  const max = daysFromToday(config.CONTAINER_EXPIRY_MAX_DAYS);
  if (!isAdmin && expiresAt > max) throw new ValidationError(`The expiry date can be at most ${max}.`, { expiresAt: `At most ${max} (${config.CONTAINER_EXPIRY_MAX_DAYS} days from today).` });
}
