// The expiry scan: reminders 7 days before, 1 day before and on the day, one digest mail per owner
// per scan day, then the expiry action (src/expiry/actions.ts). Run by the 'expiry.scan' job
// (scheduled daily at EXPIRY_SCAN_TIME in TZ, src/expiry/scheduler.ts) and by bin/expiry-scan.
//
// Exactly once: an owner's NotificationLogs rows, extend links and outbox message are written in one
// transaction, and the log's unique key (item, notice, expiry date) makes a second scanner that
// decided the same thing fail and roll back, whatever runs at once, late, or again after a crash.
// A scan that dies midway has committed whole owners only; running it again finishes the others.
import crypto from 'node:crypto';
import { Op, UniqueConstraintError, type Transaction } from 'sequelize';
import type { Notice } from '../../models/NotificationLog.js';
import { queueMail } from '../notify/outbox.js';
import { deleteDay, plannedAction, runExpiryActions, type ActionSummary, type ExpiryDeps } from './actions.js';
import { addDays, scanDay as scanDayOf } from './clock.js';
import { issueExtendLink } from './extend-link.js';
import { loadExpiringItems, type ExpiringItem } from './items.js';
import { daysLeftInWords, dueNotice, REMINDER_NOTICES, type ReminderNotice } from './notices.js';
import { expiryRules, type ExpiryRule } from './policy.js';

export type { ActionSummary, ExpiryDeps } from './actions.js';

export interface ReminderSummary {
  username: string;
  /** How many items the digest lists. */
  items: number;
  /** The queued mail; null on a dry run. */
  outboxId: number | null;
}

export interface ScanSummary {
  /** "Today" in config.TZ at the scan's moment. */
  scanDay: string;
  reminders: ReminderSummary[];
  actions: ActionSummary[];
}

export interface ScanOptions {
  /** The scan's moment: its day in config.TZ decides every notice. */
  at: Date;
  /** Decide and print, write nothing. */
  dryRun?: boolean;
  /** Receives one line per reminder queued (and per action), after it is committed. */
  print?: (line: string) => void;
}

/** The digest's outbox category and template (views/emails/expiry-reminder.*.ejs). */
export const REMINDER_CATEGORY = 'expiry-reminder';

/** An item's line in a digest, as the template shows it. */
export interface ReminderEntry {
  kind: string;
  name: string;
  url: string;
  expiresOn: string;
  daysLeft: number;
  /** "today", "tomorrow", "in 5 days". */
  when: string;
  notice: ReminderNotice;
  extendUrl: string;
  /** What happens when it expires, with the dates. */
  action: string;
}

/** Scans at `opts.at`: queues every reminder that is due, then runs the expiry action. */
export async function runExpiryScan(deps: ExpiryDeps, opts: ScanOptions): Promise<ScanSummary> {
  const day = scanDayOf(opts.at, deps.config.TZ);
  const items = await loadExpiringItems(deps.models, day);
  const rules = await expiryRules(deps.models);
  const reminders: ReminderSummary[] = [];
  const failed: string[] = [];
  for (const [username, owned] of byOwner(items)) {
    let reminded: Reminded | null;
    try {
      reminded = await remindOwner(deps, { username, items: owned, day, at: opts.at, rules, dryRun: opts.dryRun ?? false });
    } catch (err) {
      // One owner's failure (rolled back whole) must not cost the others their reminders; the scan
      // still fails at the end, so the job says so, and the next scan sends what was missed.
      deps.logger.error({ err, username, scanDay: day }, 'expiry reminder could not be queued');
      failed.push(`${username}: ${(err as Error).message}`);
      continue;
    }
    if (!reminded) continue;
    reminders.push({ username, items: reminded.due.length, outboxId: reminded.outboxId });
    if (!opts.dryRun) deps.logger.info({ username, scanDay: day, items: reminded.due.length, outboxId: reminded.outboxId }, 'expiry reminder queued');
    opts.print?.(reminderLine(username, reminded, opts.dryRun ?? false));
  }
  const actions = await runExpiryActions(deps, { scanDay: day, at: opts.at, dryRun: opts.dryRun, print: opts.print });
  if (failed.length) throw new Error(`reminders for ${failed.length} owner(s) could not be queued (the next scan retries them): ${failed.join('; ')}`);
  return { scanDay: day, reminders, actions };
}

function byOwner(items: ExpiringItem[]): Map<string, ExpiringItem[]> {
  const owners = new Map<string, ExpiringItem[]>();
  for (const item of items) owners.set(item.username, [...(owners.get(item.username) ?? []), item]);
  return owners;
}

interface Due {
  item: ExpiringItem;
  notice: ReminderNotice;
}

interface Reminded {
  due: Due[];
  outboxId: number | null;
}

interface OwnerScan {
  username: string;
  items: ExpiringItem[];
  day: string;
  at: Date;
  rules: Record<ExpiringItem['itemType'], ExpiryRule>;
  dryRun: boolean;
}

/**
 * One owner's reminders in one transaction. When another scanner committed the same notices first,
 * the unique key fails this one; looking again (at what is committed now) finds nothing left to send.
 */
async function remindOwner(deps: ExpiryDeps, owner: OwnerScan): Promise<Reminded | null> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await deps.sequelize.transaction((t) => remindOwnerIn(deps, owner, t));
    } catch (err) {
      if ((err instanceof UniqueConstraintError || isDeadlock(err)) && attempt < 3) continue;
      throw err;
    }
  }
}

async function remindOwnerIn(deps: ExpiryDeps, scan: OwnerScan, t: Transaction): Promise<Reminded | null> {
  const { models, config } = deps;
  // The items were listed before this transaction: one extended, handed over or deleted since is
  // left out (its notice would name a date or an owner that no longer applies).
  const owner = { ...scan, items: await stillAsListed(deps, scan.items, t) };
  if (!owner.items.length) return null;
  const logged = await models.NotificationLog.findAll({
    where: { notice: [...REMINDER_NOTICES], [Op.or]: owner.items.map((i) => ({ itemType: i.itemType, itemId: i.itemId, expiresOn: i.expiresOn })) },
    transaction: t,
  });
  const loggedFor = (i: ExpiringItem): Notice[] => logged.filter((l) => l.itemType === i.itemType && l.itemId === i.itemId && String(l.expiresOn) === i.expiresOn).map((l) => l.notice);
  const due: Due[] = [];
  for (const item of owner.items) {
    const notice = dueNotice(item.daysLeft, loggedFor(item));
    if (notice) due.push({ item, notice });
  }
  if (!due.length) return null;
  if (owner.dryRun) return { due, outboxId: null };

  const user = await models.User.findOne({ where: { username: owner.username }, transaction: t });
  const entries: ReminderEntry[] = [];
  for (const { item, notice } of due) {
    const extendUrl = await issueExtendLink(deps, { itemType: item.itemType, itemId: item.itemId, username: owner.username, expiresOn: item.expiresOn }, owner.at, t);
    entries.push({
      kind: item.kind.label,
      name: item.label,
      url: `${config.publicUrl}${item.kind.basePath}/${item.itemId}`,
      expiresOn: item.expiresOn,
      daysLeft: item.daysLeft,
      when: daysLeftInWords(item.daysLeft),
      notice,
      extendUrl,
      action: expiryActionInWords(plannedAction(item.itemType, item, owner.rules[item.itemType]), owner.rules[item.itemType].graceDays, item.expiresOn),
    });
  }
  const message = await queueMail(
    deps,
    {
      // No address (or no user row): queued all the same, so delivery fails it with the reason and admins see it.
      to: [user?.email],
      cc: config.EXPIRY_CC_ADMINS ? config.ADMIN_EMAILS : [],
      subject: reminderSubject(entries),
      template: REMINDER_CATEGORY,
      data: { name: user?.displayName || owner.username, username: owner.username, scanDay: owner.day, extendDays: config.EXPIRY_EXTEND_DAYS, linkDays: config.EXPIRY_LINK_DAYS, items: entries },
      category: REMINDER_CATEGORY,
      forUser: owner.username,
      dedupeKey: await freeDigestKey(deps, owner.username, owner.day, t),
    },
    t,
  );
  await models.NotificationLog.bulkCreate(
    due.map(({ item, notice }) => ({ itemType: item.itemType, itemId: item.itemId, itemLabel: item.label.slice(0, 255), notice, expiresOn: item.expiresOn, scanDay: owner.day, username: owner.username, outboxId: message.id, jobId: null })),
    { transaction: t },
  );
  await deps.auditor.record(
    { username: null },
    {
      action: 'expiry.remind',
      objectType: 'outboxMessage',
      objectId: message.id,
      objectLabel: owner.username,
      changes: { notices: { after: due.map(({ item, notice }) => `${item.itemType} ${item.itemId} ${notice} ${item.expiresOn}`) } },
    },
    t,
  );
  return { due, outboxId: message.id };
}

/** The items whose record still has the owner and expiry date they were listed with. */
async function stillAsListed(deps: ExpiryDeps, items: ExpiringItem[], t: Transaction): Promise<ExpiringItem[]> {
  const current = new Map<string, { username: string | null; expiresAt: string | null }>();
  for (const kind of new Set(items.map((i) => i.kind))) {
    const ids = items.filter((i) => i.kind === kind).map((i) => i.itemId);
    const rows = await kind.model(deps.models).findAll({ where: { id: ids }, attributes: ['id', 'username', 'expiresAt'], transaction: t });
    for (const row of rows) current.set(`${kind.key}:${row.id}`, { username: row.username, expiresAt: row.expiresAt === null ? null : String(row.expiresAt) });
  }
  return items.filter((i) => {
    const now = current.get(`${i.itemType}:${i.itemId}`);
    return now?.username === i.username && now.expiresAt === i.expiresOn;
  });
}

/**
 * The digest's dedupe key: `expiry-reminder:<username>:<scanDay>`. A second digest the same day
 * (an item's date changed and the scan was run again by hand) gets `:2`, `:3`…, because queueMail
 * would return the first message for a key it knows, and the new notices would be logged as sent in
 * a mail that does not list them.
 */
async function freeDigestKey(deps: ExpiryDeps, username: string, day: string, t: Transaction): Promise<string> {
  // The column holds 191 characters; a username that long is shortened to its hash.
  const who = username.length > 140 ? crypto.createHash('sha256').update(username).digest('hex') : username;
  const base = `${REMINDER_CATEGORY}:${who}:${day}`;
  for (let n = 1; ; n++) {
    const key = n === 1 ? base : `${base}:${n}`;
    if (!(await deps.models.OutboxMessage.count({ where: { dedupeKey: key }, transaction: t }))) return key;
  }
}

function reminderSubject(entries: ReminderEntry[]): string {
  const first = entries[0]!;
  if (entries.length === 1) return `Your ${first.kind} ${first.name} expires ${first.when}`;
  const soonest = entries.reduce((a, b) => (b.daysLeft < a.daysLeft ? b : a));
  return `${entries.length} of your machines expire soon (the first ${soonest.when})`;
}

/**
 * What the expiry action will do to an item expiring on `expiresOn` (`planned`: actions.ts's answer
 * for the item under its kind's rule), with the dates the action uses.
 */
export function expiryActionInWords(planned: 'none' | 'stop' | 'delete', graceDays: number, expiresOn: string): string {
  const stopDay = addDays(expiresOn, 1);
  if (planned === 'stop') return `It will be stopped on ${stopDay}.`;
  if (planned === 'delete') return `It will be stopped on ${stopDay}, and deleted ${graceDays} days later, on ${deleteDay(expiresOn, graceDays)}.`;
  return 'Nothing is done to it automatically when it expires.';
}

function reminderLine(username: string, reminded: Reminded, dryRun: boolean): string {
  const what = reminded.due.map(({ item, notice }) => `${item.label} (${item.itemType}, ${notice}, ${item.expiresOn})`).join(', ');
  const where = dryRun ? 'dry run, not queued' : `outbox #${reminded.outboxId}`;
  return `reminder to ${username}: ${reminded.due.length} item${reminded.due.length === 1 ? '' : 's'} [${what}] → ${where}`;
}

function isDeadlock(err: unknown): boolean {
  const code = (err as { parent?: { code?: string } })?.parent?.code;
  return code === 'ER_LOCK_DEADLOCK' || code === 'SQLITE_BUSY';
}
