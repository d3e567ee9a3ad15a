// Delivers the outbox (src/notify/outbox.ts) over SMTP, from the job runner.
//
// Guarantees, and how:
// - Nothing is lost: a message leaves the table only by pruning, long after it was sent. Every failure
//   is written back to its row (reason, attempt count, next attempt), and a database or SMTP outage
//   only makes this pass end early; the next poll tries again.
// - Several deliverers (runners on several hosts) never send the same message at the same time: each
//   message is claimed with a lease by one UPDATE whose WHERE says "still due and not leased by anyone
//   alive"; the affected-row count says who won (works on SQLite and MariaDB alike, no SKIP LOCKED).
// - Not sent twice: the final "sent" update is fenced (WHERE lockedBy = me AND status = 'sending'), and
//   a deliverer sends one message at a time. The only resend is a crash (or a database outage that
//   outlasts the lease) between the SMTP server's "250 OK" and that update: the lease then expires and
//   another deliverer sends the message again. So at most ONE message per crashed deliverer is sent
//   twice, and it carries the same Message-ID both times (`<outbox-<id>.<install>@<host>>`), which mail
//   clients and the admins' outbox page can use to recognise it.
// - The second, inherent duplicate: a send that times out after the whole body went out. The server
//   may have accepted it without our hearing the "250 OK" (it hung, or the answer was lost); we cannot
//   tell that from a refusal, so the message is retried and may arrive twice (same Message-ID again).
//   Not retrying would lose every message whose server hiccups at the end, which is worse.
import crypto from 'node:crypto';
import os from 'node:os';
import nodemailer from 'nodemailer';
import { Op, type Sequelize, type WhereOptions } from 'sequelize';
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
  /**
   * Only messages matching this are handled (default: all). For tests, which share one database and
   * must not deliver each other's messages to their own SMTP server.
   */
  scope?: WhereOptions<OutboxMessage>;
}

/** The first retry waits this long; each further one twice as long, up to OUTBOX_MAX_BACKOFF_SECONDS. */
export const FIRST_BACKOFF_SECONDS = 15;
/** How many candidates one query fetches (claims still decide, one message at a time). */
const BATCH = 25;
/** The longest stop() waits for the message in flight (job-runner.ts has 40 s for everything). */
const STOP_WAIT_MS = 15_000;
/** The longest stop() then spends recording a message sent but not yet recorded. */
const STOP_RECORD_MS = 5000;
/** Sent messages are pruned at most this often. */
const PRUNE_EVERY_MS = 3600_000;

/** Why a message could not be sent, and whether trying again can help. */
export class DeliveryError extends Error {
  constructor(
    message: string,
    readonly permanent: boolean,
    /** The server cannot be reached (or is not configured): the next message would fail the same way. */
    readonly serverDown = false,
  ) {
    super(message);
    this.name = 'DeliveryError';
  }
}

// Deliberately loose (nodemailer and the SMTP server are the judges of the rest): one @, no spaces or
// angle brackets, a dot-free or dotted domain. Its job is to fail obvious garbage at once instead of
// retrying it for days.
const ADDRESS = /^[^\s@<>(),;:"]+@[^\s@<>(),;:"]+$/;

/** The SMTP error codes that mean "the server or network is not answering right now". */
const NETWORK_CODES = new Set(['ECONNECTION', 'ETIMEDOUT', 'ESOCKET', 'EDNS', 'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETLS', 'EPROTOCOL', 'EAUTH', 'ENOTFOUND', 'EAI_AGAIN']);

/**
 * Sorts an SMTP/nodemailer error: 4xx, network trouble, TLS and authentication problems are transient
 * (an outage, or settings an admin is about to fix: the message waits for them); a 5xx refusal of the
 * message or of all its recipients is permanent.
 */
export function classifySmtpError(err: unknown): DeliveryError {
  const e = err as { message?: string; code?: string; responseCode?: number; response?: string };
  const code = e.responseCode;
  const detail = (e.response || e.message || String(err)).replace(/\s+/g, ' ').slice(0, 500);
  if (e.code === 'EAUTH') return new DeliveryError(`SMTP authentication failed (check SMTP_USER and SMTP_PASSWORD): ${detail}`, false, true);
  if (code !== undefined && code >= 500) return new DeliveryError(`refused by the SMTP server (${code}): ${detail}`, true);
  if (code !== undefined && code >= 400) return new DeliveryError(`deferred by the SMTP server (${code}): ${detail}`, false);
  if (e.code && NETWORK_CODES.has(e.code)) return new DeliveryError(`SMTP server unreachable (${e.code}): ${detail}`, false, true);
  // Anything else from the transport (an unexpected socket state): assume it may pass.
  return new DeliveryError(`SMTP error: ${detail}`, false);
}

/** A short tag that is the same for every process of one installation (it derives from the vault key). */
function installTag(config: Config): string {
  return crypto.createHash('sha256').update(`berth-message-id:${config.ENCRYPTION_KEY}`).digest('hex').slice(0, 12);
}

/** The Message-ID of an outbox row: stable, so a resend after a crash is recognisable as the same mail. */
export function outboxMessageId(config: Config, id: number): string {
  let host = 'berth';
  try {
    host = new URL(config.publicUrl).hostname || host;
  } catch {
    /* keep the default */
  }
  return `<outbox-${id}.${installTag(config)}@${host}>`;
}

/**
 * How long one SMTP conversation may take at most: SMTP_TIMEOUT_MS bounds connecting, the greeting and
 * each quiet spell on the socket; we also bound the whole send with it, so a server that trickles
 * bytes cannot hold a message past its lease.
 */
export function sendBudgetMs(config: Config): number {
  return 3 * config.SMTP_TIMEOUT_MS + 5000;
}

/** The lease: OUTBOX_LEASE_SECONDS, raised when needed to outlast a whole send with a margin. */
export function leaseMs(config: Config): number {
  return Math.max(config.OUTBOX_LEASE_SECONDS * 1000, sendBudgetMs(config) + 30_000);
}

const parseList = (json: string | null): string[] => {
  if (!json) return [];
  const list = JSON.parse(json) as unknown;
  return Array.isArray(list) ? list.map(String) : [];
};

/** Delivers the outbox: started by the job runner (job-runner.ts); `deliverDue()` is one pass. */
export class OutboxDeliverer {
  readonly id: string;
  private readonly clock: () => number;
  private readonly log: Logger;
  private timer?: NodeJS.Timeout;
  private stopping = false;
  private pass?: Promise<number>;
  private lastPrune = 0;
  /** A message the SMTP server accepted whose row could not be marked sent yet (database down). */
  private unrecorded?: SentRecord;

  constructor(private readonly o: DelivererOptions) {
    this.clock = o.clock ?? Date.now;
    this.id = (o.id ?? `${os.hostname()}:${process.pid}:${crypto.randomBytes(3).toString('hex')}`).slice(0, 64);
    this.log = o.logger.child({ deliverer: this.id });
    if (leaseMs(o.config) > o.config.OUTBOX_LEASE_SECONDS * 1000) {
      this.log.warn({ leaseSeconds: leaseMs(o.config) / 1000, configured: o.config.OUTBOX_LEASE_SECONDS }, 'OUTBOX_LEASE_SECONDS is shorter than one SMTP send may take; using a longer lease');
    }
  }

  /** Polls every OUTBOX_POLL_MS until `stop()`. Never throws: a failed pass is logged and retried. */
  start(): void {
    this.stopping = false;
    const tick = () => {
      this.timer = undefined;
      if (this.stopping) return;
      this.pass = this.deliverDue().catch((err: unknown) => {
        // The database is down or busy: nothing was lost, the next poll tries again.
        this.log.warn({ reason: (err as Error).message }, 'outbox pass failed; will retry');
        return 0;
      });
      void this.pass.finally(() => {
        this.pass = undefined;
        if (!this.stopping) {
          this.timer = setTimeout(tick, this.o.config.OUTBOX_POLL_MS);
          this.timer.unref();
        }
      });
    };
    this.timer = setTimeout(tick, 0);
    this.timer.unref();
  }

  /**
   * Stops polling and waits for the message in flight, at most STOP_WAIT_MS: the job runner must exit
   * within systemd's stop timeout. A send still under way then is abandoned with its lease; another
   * deliverer (or this one after a restart) retries it once the lease runs out. Then, at most
   * STOP_RECORD_MS, one last try to record a message that was sent while the database was away.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const pass = this.pass;
    if (pass) await within(pass, Math.min(sendBudgetMs(this.o.config), STOP_WAIT_MS));
    // A message sent but not recorded (the database was away) would be sent again by whoever takes the
    // lease over after we exit: one last, bounded try to record it (the database may be back by now).
    if (this.unrecorded) {
      const { id } = this.unrecorded;
      const mayResend = (reason: string) => this.log.error({ outboxId: id, reason }, 'mail sent but still not recorded at stop; it may be sent again once its lease runs out');
      const settled = await within(this.recordUnrecorded().catch((err: unknown) => mayResend((err as Error).message)), STOP_RECORD_MS);
      if (!settled) mayResend(`the database did not answer within ${STOP_RECORD_MS} ms`);
    }
  }

  /**
   * Sends every message that is due now, one at a time (so a crash can leave at most one sent but
   * unrecorded); returns how many were sent. Throws only when the database fails.
   */
  async deliverDue(): Promise<number> {
    await this.recordUnrecorded();
    await this.prune();
    let sent = 0;
    const tried = new Set<number>();
    for (;;) {
      const now = new Date(this.clock());
      const candidates = await this.o.models.OutboxMessage.findAll({
        attributes: ['id'],
        where: { [Op.and]: [this.dueWhere(now), ...(tried.size ? [{ id: { [Op.notIn]: [...tried] } }] : [])] },
        // Longest waiting first: with the server down, each poll's one attempt goes round the queue.
        order: [['nextAttemptAt', 'ASC'], ['id', 'ASC']],
        limit: BATCH,
      });
      if (!candidates.length) return sent;
      for (const { id } of candidates) {
        tried.add(id);
        // stop() waits for the message in flight, not for the rest of the queue.
        if (this.stopping) return sent;
        const outcome = await this.deliverOne(id);
        if (outcome === 'sent') sent++;
        // With the server down every further message would wait out the same timeout: end the pass;
        // the rest stay due and the next poll tries again (one message per poll until it answers).
        else if (outcome instanceof DeliveryError && outcome.serverDown) return sent;
      }
    }
  }

  /** Due: queued and its time has come, or 'sending' under a lease that ran out (its deliverer died). */
  private dueWhere(now: Date): WhereOptions {
    const due = {
      [Op.or]: [
        { status: 'queued', nextAttemptAt: { [Op.lte]: now } },
        { status: 'sending', lockedUntil: { [Op.lt]: now } },
      ],
    };
    return this.o.scope ? { [Op.and]: [due, this.o.scope] } : due;
  }

  /** Claims message `id` with a lease; false when another deliverer was first. */
  private async claim(id: number): Promise<boolean> {
    const now = this.clock();
    const [count] = await this.o.models.OutboxMessage.update(
      { status: 'sending', lockedBy: this.id, lockedUntil: new Date(now + leaseMs(this.o.config)) },
      { where: { [Op.and]: [{ id }, this.dueWhere(new Date(now))] } },
    );
    return count === 1;
  }

  /** Claims, sends and records one message: 'sent', 'skipped' (another deliverer had it), or the failure. */
  private async deliverOne(id: number): Promise<'sent' | 'skipped' | DeliveryError> {
    if (!(await this.claim(id))) return 'skipped';
    const message = await this.o.models.OutboxMessage.findByPk(id);
    if (!message) return 'skipped';
    const attempts = message.attempts + 1;
    const messageId = outboxMessageId(this.o.config, message.id);
    let failure: DeliveryError;
    let record: SentRecord | undefined;
    try {
      const refused = await this.send(message, messageId);
      // Sent to the others: the row stays `sent` (sending again would duplicate it for them), and the
      // refusals go where admins look, and into the log.
      const note = refused.length ? refused.join('; ') : null;
      if (note) this.log.warn({ outboxId: id, category: message.category, refused: note }, 'mail sent, but some recipients were refused');
      record = { id, messageId, attempts, note };
      await this.recordSent(record);
      return 'sent';
    } catch (err) {
      if (err instanceof SentButUnrecorded) {
        // Accepted by SMTP, but the database did not take the update: remember it and record it on the
        // next pass (or at stop()). If this process dies first, the lease runs out and the message is
        // sent again (the one bounded duplicate).
        this.unrecorded = record;
        this.log.error({ outboxId: id, reason: err.message }, 'mail sent but not yet recorded; will record it on the next pass');
        throw err.cause;
      }
      failure = err instanceof DeliveryError ? err : new DeliveryError((err as Error).message || String(err), false);
    }
    await this.recordFailure(message, attempts, failure);
    return failure;
  }

  /**
   * Renders and sends; throws a DeliveryError saying whether trying again can help. Returns the
   * recipients the server refused while accepting the message for the others ("refused for <addr> (<code>)").
   */
  private async send(message: OutboxMessage, messageId: string): Promise<string[]> {
    const config = this.o.config;
    const to = parseList(message.recipients);
    const cc = parseList(message.cc);
    if (!to.length) throw new DeliveryError(message.forUser ? `no email address for ${message.forUser}` : 'no recipient', true);
    const invalid = [...to, ...cc].filter((a) => !ADDRESS.test(a));
    if (invalid.length) throw new DeliveryError(`invalid address: ${invalid.join(', ')}`, true);
    let data: Record<string, unknown>;
    try {
      data = openPayload(config, message);
    } catch (err) {
      throw new DeliveryError(`the message's data cannot be decrypted (${(err as Error).message}); was the encryption key replaced?`, true);
    }
    let body: { html: string; text: string };
    try {
      body = await renderEmail(message.template, { publicUrl: config.publicUrl, ...data });
    } catch (err) {
      throw new DeliveryError(`template '${message.template}' failed: ${((err as Error).message || String(err)).split('\n').slice(-1)[0].slice(0, 300)}`, true);
    }
    // Unset SMTP is a setting an admin will fix: the message waits (and fails after OUTBOX_RETRY_HOURS).
    if (!config.SMTP_HOST) throw new DeliveryError('SMTP_HOST is not configured', false, true);
    // A transport per message: a connection that hung or broke is never reused for the next one.
    // socketCloseTimeout 0: closing destroys the socket at once instead of waiting for the server.
    const transport = nodemailer.createTransport({ ...smtpOptions(config), socketCloseTimeout: 0 });
    // The whole send is bounded (see sendBudgetMs). Aborting closes this send's connection: a send we
    // have given up on must not carry on and deliver the message behind our back while the row says
    // "queued" and another attempt starts. A timeout after the body went out is the second, inherent
    // possible duplicate (see the top of this file): the server may have accepted what we abandoned.
    const budget = sendBudgetMs(config);
    const abort = new AbortController();
    const deadline = setTimeout(() => abort.abort(Object.assign(new Error(`no answer within ${budget} ms; the send was abandoned`), { code: 'ETIMEDOUT' })), budget);
    try {
      const info = await transport.sendMail({ from: config.MAIL_FROM, to, cc: cc.length ? cc : undefined, subject: message.subject, html: body.html, text: body.text, messageId, signal: abort.signal });
      return refusedRecipients(info);
    } catch (err) {
      // Aborted by our deadline: nodemailer reports EABORT; the reason (a timeout) is what to record.
      throw classifySmtpError(abort.signal.aborted ? abort.signal.reason : err);
    } finally {
      clearTimeout(deadline);
      transport.close();
    }
  }

  /** Marks the message sent, fenced by our lease; a database failure here becomes SentButUnrecorded. */
  private async recordSent(sent: SentRecord): Promise<void> {
    let count: number;
    try {
      [count] = await this.o.models.OutboxMessage.update(
        { status: 'sent', sentAt: new Date(this.clock()), messageId: sent.messageId, attempts: sent.attempts, lastError: sent.note, lockedBy: null, lockedUntil: null },
        { where: { id: sent.id, lockedBy: this.id, status: 'sending' } },
      );
    } catch (err) {
      throw new SentButUnrecorded(err as Error);
    }
    if (count === 1) this.log.info({ outboxId: sent.id, attempts: sent.attempts }, 'mail sent');
    // Our lease ran out and another deliverer took the message over: it may send it again (the bound above).
    else this.log.warn({ outboxId: sent.id }, 'mail sent, but the lease had been taken over by another deliverer');
  }

  private async recordUnrecorded(): Promise<void> {
    const pending = this.unrecorded;
    if (!pending) return;
    try {
      await this.recordSent(pending);
      this.unrecorded = undefined;
    } catch (err) {
      throw (err as SentButUnrecorded).cause ?? err;
    }
  }

  /** Writes the failure back: retry later with backoff, or failed (permanent, or retried for too long). */
  private async recordFailure(message: OutboxMessage, attempts: number, failure: DeliveryError): Promise<void> {
    const config = this.o.config;
    const now = this.clock();
    // Counted from retryFrom, not createdAt: an admin's "retry now" starts a whole new window.
    const giveUpAt = message.retryFrom.getTime() + config.OUTBOX_RETRY_HOURS * 3600_000;
    const fail = failure.permanent || now >= giveUpAt;
    const reason = failure.permanent ? failure.message : now >= giveUpAt ? `gave up after ${attempts} attempts over ${config.OUTBOX_RETRY_HOURS} h: ${failure.message}` : failure.message;
    const backoffMs = Math.min(FIRST_BACKOFF_SECONDS * 2 ** Math.min(attempts - 1, 20), config.OUTBOX_MAX_BACKOFF_SECONDS) * 1000;
    const [count] = await this.o.models.OutboxMessage.update(
      fail
        ? { status: 'failed', attempts, lastError: reason, lockedBy: null, lockedUntil: null }
        : { status: 'queued', attempts, lastError: reason, nextAttemptAt: new Date(now + backoffMs), lockedBy: null, lockedUntil: null },
      { where: { id: message.id, lockedBy: this.id, status: 'sending' } },
    );
    if (!count) return; // our lease was taken over: the new holder owns the row now
    const where = { outboxId: message.id, category: message.category, attempts, reason };
    if (fail) this.log.error(where, 'mail failed');
    else this.log.warn({ ...where, retryInSeconds: backoffMs / 1000 }, 'mail not sent; will retry');
  }

  /** Deletes sent messages older than OUTBOX_KEEP_DAYS (at most hourly; failed ones stay for admins). */
  private async prune(): Promise<void> {
    const now = this.clock();
    if (now - this.lastPrune < PRUNE_EVERY_MS) return;
    this.lastPrune = now;
    const old = { status: 'sent', sentAt: { [Op.lt]: new Date(now - this.o.config.OUTBOX_KEEP_DAYS * 86_400_000) } };
    const removed = await this.o.models.OutboxMessage.destroy({ where: this.o.scope ? { [Op.and]: [old, this.o.scope] } : old });
    if (removed) this.log.info({ removed }, 'pruned sent mail');
  }
}

/** A message the SMTP server accepted, as its row is to record it. */
interface SentRecord {
  id: number;
  messageId: string;
  attempts: number;
  /** The recipients refused while the others got it (kept in lastError), or null. */
  note: string | null;
}

/** Resolves true when `work` settles within `ms`, false when it does not (it is left running). */
async function within(work: Promise<unknown>, ms: number): Promise<boolean> {
  let bound: NodeJS.Timeout | undefined;
  const timedOut = new Promise<false>((resolve) => (bound = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([work.then(() => true, () => true), timedOut]);
  } finally {
    clearTimeout(bound);
  }
}

/**
 * The recipients the server refused although it took the message for the others (nodemailer resolves
 * then, and only rejects when every recipient was refused), as "refused for <addr> (<code>)".
 */
function refusedRecipients(info: { rejected?: string[]; rejectedErrors?: Array<{ recipient?: string; responseCode?: number }> }): string[] {
  return (info.rejected ?? []).map((address) => {
    const code = info.rejectedErrors?.find((e) => e.recipient === address)?.responseCode;
    return `refused for ${address} (${code ?? 'no code'})`;
  });
}

/** The SMTP server accepted the message but recording that failed (the database is unavailable). */
class SentButUnrecorded extends Error {
  constructor(override readonly cause: Error) {
    super(cause.message);
  }
}
