// Shared by the expiry scan tests (test/integration/expiry/scan*.test.ts, scheduler.test.ts).
import crypto from 'node:crypto';
import { Op } from 'sequelize';
import type { Config } from '../../../config/index.js';
import type { NotificationLog, OutboxMessage } from '../../../models/index.js';
import { Auditor } from '../../../src/audit/index.js';
import type { ExpiryDeps } from '../../../src/expiry/scan.js';
import { createLogger } from '../../../src/lib/logger.js';
import { openPayload } from '../../../src/notify/outbox.js';
import { testConfig, testContext } from '../../support/context.js';

/** Berth's config for a scan: the run's database, a zone, a public URL for the links. */
export function expiryConfig(overrides: Record<string, string> = {}): Config {
  return testConfig(testContext().scratch.url, { TZ: 'Asia/Kolkata', PUBLIC_URL: 'https://berth.example.org', ...overrides });
}

export function scanDeps(config: Config, db = testContext().db): ExpiryDeps {
  return { models: db.models, sequelize: db.sequelize, config, logger: createLogger('silent'), auditor: new Auditor(db.models, null) };
}

// Day arithmetic written here from scratch, not with src/expiry/clock.ts: the expected notices are
// computed from the dates independently of the code under test.
const DAY_MS = 86_400_000;
export const plusDays = (day: string, n: number): string => new Date(Date.parse(`${day}T00:00:00Z`) + n * DAY_MS).toISOString().slice(0, 10);

/**
 * A random day far in the future (years 2400–2899), so the tests' items and scans never meet
 * another test's records in the shared database.
 */
export function farDay(): string {
  return plusDays('2400-01-01', crypto.randomInt(0, 500 * 365));
}

/**
 * A random day long past (years 1700–1899): a scan on it finds nothing expired in the shared
 * database, for tests that turn the expiry action on and must not touch other tests' records.
 */
export function pastDay(): string {
  return plusDays('1700-01-01', crypto.randomInt(0, 200 * 365));
}

export const uniqueName = (prefix: string) => `${prefix}-${crypto.randomBytes(4).toString('hex')}`;

/** No expiry action for either kind (another test may have set one): these tests are about reminders. */
export async function remindersOnly(): Promise<void> {
  const { models } = testContext().db;
  for (const kind of ['container', 'vm'] as const) await models.ExpiryPolicy.upsert({ kind, action: 'none', graceDays: 7, updatedBy: null });
}

export interface ItemRef {
  itemType: 'container' | 'vm';
  itemId: number;
}

/** The reminder log rows of these items. */
export async function logsOf(items: ItemRef[]): Promise<NotificationLog[]> {
  if (!items.length) return [];
  const { models } = testContext().db;
  return models.NotificationLog.findAll({
    where: { notice: ['7d', '1d', 'today'], [Op.or]: items.map((i) => ({ itemType: i.itemType, itemId: i.itemId })) },
    order: [['id', 'ASC']],
  });
}

/** The reminder digests queued for these owners. */
export async function digestsOf(usernames: string[]): Promise<OutboxMessage[]> {
  return testContext().db.models.OutboxMessage.findAll({ where: { category: 'expiry-reminder', forUser: usernames }, order: [['id', 'ASC']] });
}

export interface DigestItem {
  name: string;
  kind: string;
  url: string;
  expiresOn: string;
  daysLeft: number;
  notice: string;
  extendUrl: string;
  action: string;
}

/** The items a digest lists (its sealed template data). */
export function digestItems(config: Config, message: OutboxMessage): DigestItem[] {
  return (openPayload(config, message) as { items: DigestItem[] }).items;
}

/** The moment 08:00 in Asia/Kolkata (+05:30, no daylight saving) on `day`. */
export const kolkataEight = (day: string) => new Date(`${day}T08:00:00+05:30`);

/**
 * The notices an item expiring `expiryOffset` days after the first scan gets when the scan runs
 * every day from offset 0 to `lastScan`, written from the rule's words rather than the code's
 * structure: 'today' on the day; '1d' the day before, if a scan ran then; '7d' seven days before, or
 * at the first scan if that was later, as long as at least two days were left.
 */
export function expectedNotices(expiryOffset: number, lastScan: number): Array<{ notice: string; scanOffset: number }> {
  const out: Array<{ notice: string; scanOffset: number }> = [];
  const firstSeven = Math.max(0, expiryOffset - 7);
  if (firstSeven <= expiryOffset - 2) out.push({ notice: '7d', scanOffset: firstSeven });
  if (expiryOffset - 1 >= 0) out.push({ notice: '1d', scanOffset: expiryOffset - 1 });
  if (expiryOffset <= lastScan) out.push({ notice: 'today', scanOffset: expiryOffset });
  return out;
}


/** The `n`th Sunday (1-based; -1: the last) of `month` (1–12) in `year`, as 'YYYY-MM-DD'. */
export function sunday(year: number, month: number, n: number): string {
  if (n === -1) {
    const last = new Date(Date.UTC(year, month, 0));
    return new Date(Date.UTC(year, month - 1, last.getUTCDate() - last.getUTCDay())).toISOString().slice(0, 10);
  }
  const first = new Date(Date.UTC(year, month - 1, 1)).getUTCDay();
  return new Date(Date.UTC(year, month - 1, 1 + ((7 - first) % 7) + (n - 1) * 7)).toISOString().slice(0, 10);
}
