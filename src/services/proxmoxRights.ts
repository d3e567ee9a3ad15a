import { Op, type Sequelize, type Transaction } from 'sequelize';
import type { Config } from '../../config/index.js';
import type { Models, Node, User } from '../../models/index.js';
import type { AuditActor, Auditor } from '../audit/index.js';
import type { PveUser } from '../lib/proxmox/index.js';
import type { Vault } from '../lib/vault.js';
import { isLocalAccount, LOCAL_REALM } from '../lib/current-user.js';
import { clientForNode } from './nodes.js';

export type RightsConfig = Pick<
  Config,
  'PROXMOX_URL' | 'PROXMOX_ADMIN_GROUP' | 'PROXMOX_RECHECK_MINUTES' | 'PROXMOX_ADMIN_GRACE_MINUTES' | 'PROXMOX_TIMEOUT_MS'
>;

export interface ProxmoxRightsDeps {
  models: Models;
  /** Each change to a user and its audit event commit together. */
  sequelize: Sequelize;
  config: RightsConfig;
  vault: Vault;
  /** Where failures to read Proxmox and rights changes are reported (the app's logger, a job's stderr). */
  logger: { warn(obj: object, msg: string): void };
  /** Records demotions, promotions and disablings (`user.proxmox-*`); omitted, they are only logged. */
  auditor?: Auditor;
}

/** What one re-check did to a user. */
export type RecheckOutcome = 'unchanged' | 'promoted' | 'demoted' | 'disabled' | 'admin-expired' | 'unavailable';

/** Proxmox's users by exact userid (Proxmox ids are case-sensitive), as one Node's token reads them. */
type Directory = Map<string, PveUser>;

/** After a failed read, requests do not try Proxmox again for this long (each try may take a timeout). */
const RETRY_AFTER_FAILURE_MS = 30_000;
const READ_TIMEOUT_MS = 5000;
const SYSTEM: AuditActor = { username: null };

const originOf = (url: string) => {
  try {
    return new URL(url).origin;
  } catch {
    return null;
  }
};

/**
 * Keeps the rights a Proxmox account got from Proxmox (being enabled, existing, being in
 * PROXMOX_ADMIN_GROUP) no older than PROXMOX_RECHECK_MINUTES. Berth has no user ticket after login,
 * so it reads `GET /access/users` with the API token of the Node registered at PROXMOX_URL's
 * address (the token needs Sys.Audit on /access, e.g. the PVEAuditor role). A user who left the
 * group is demoted; one deleted, disabled or expired in Proxmox is disabled in Berth (sessions
 * deleted, tokens refused). When Proxmox cannot be read, the last known rights stay, except admin:
 * it ends PROXMOX_ADMIN_GRACE_MINUTES after the bound (fail closed).
 */
export class ProxmoxRights {
  private reading?: Promise<Directory | null>;
  private failedAt = 0;

  constructor(private readonly deps: ProxmoxRightsDeps) {}

  private get recheckMs(): number {
    return this.deps.config.PROXMOX_RECHECK_MINUTES * 60_000;
  }

  /** True for a Proxmox account whose rights were last confirmed longer than the bound ago. */
  due(user: User, now = new Date()): boolean {
    if (isLocalAccount(user)) return false;
    return !user.proxmoxCheckedAt || now.getTime() - user.proxmoxCheckedAt.getTime() >= this.recheckMs;
  }

  /**
   * Re-checks `user` when due (a request's hook: sessions and API tokens). The row is updated in
   * place, so the caller's `accountUsable` and `presentUser` see the result.
   */
  async refreshIfDue(user: User, actor: AuditActor = SYSTEM, now = new Date()): Promise<RecheckOutcome> {
    if (!this.due(user, now)) return 'unchanged';
    return this.apply(user, await this.directory(), actor, now);
  }

  /** Re-checks every enabled Proxmox account, due or not (the inventory sync's hook). */
  async refreshAll(now = new Date()): Promise<Record<RecheckOutcome, string[]>> {
    const result: Record<RecheckOutcome, string[]> = { unchanged: [], promoted: [], demoted: [], disabled: [], 'admin-expired': [], unavailable: [] };
    const users = await this.deps.models.User.findAll({ where: { disabled: false, realm: { [Op.ne]: LOCAL_REALM } }, order: [['id', 'ASC']] });
    if (!users.length) return result;
    const dir = await this.directory(true);
    for (const user of users) result[await this.apply(user, dir, SYSTEM, now)].push(user.username);
    return result;
  }

  private async apply(user: User, dir: Directory | null, actor: AuditActor, now: Date): Promise<RecheckOutcome> {
    if (!dir) return this.withoutProxmox(user, actor, now);
    const pve = dir.get(user.username);
    const usable = pve && Number(pve.enable ?? 1) === 1 && !(pve.expire && pve.expire > 0 && pve.expire * 1000 <= now.getTime());
    if (!usable) {
      const changes = { disabled: { before: user.disabled, after: true }, proxmoxAdmin: { before: user.proxmoxAdmin, after: false } };
      await this.deps.sequelize.transaction(async (transaction) => {
        await user.update({ disabled: true, proxmoxAdmin: false, proxmoxCheckedAt: now }, { transaction });
        await this.deps.models.Session.destroy({ where: { userId: user.id }, transaction });
        await this.record(actor, user, 'user.proxmox-disable', changes, pve ? 'disabled or expired in Proxmox' : 'no longer in Proxmox', transaction);
      });
      return 'disabled';
    }
    const isAdmin = pve.groups.includes(this.deps.config.PROXMOX_ADMIN_GROUP);
    const before = user.proxmoxAdmin;
    if (before === isAdmin) {
      await user.update({ proxmoxCheckedAt: now });
      return 'unchanged';
    }
    await this.deps.sequelize.transaction(async (transaction) => {
      await user.update({ proxmoxAdmin: isAdmin, proxmoxCheckedAt: now }, { transaction });
      await this.record(actor, user, isAdmin ? 'user.proxmox-promote' : 'user.proxmox-demote', { proxmoxAdmin: { before, after: isAdmin } }, `group ${this.deps.config.PROXMOX_ADMIN_GROUP}`, transaction);
    });
    return isAdmin ? 'promoted' : 'demoted';
  }

  /**
   * Proxmox could not be read: keep the last known rights, but admin only until the grace after
   * the bound has passed since the last confirmation (login or re-check).
   */
  private async withoutProxmox(user: User, actor: AuditActor, now: Date): Promise<RecheckOutcome> {
    const since = user.proxmoxCheckedAt ?? user.lastLoginAt;
    const limit = this.recheckMs + this.deps.config.PROXMOX_ADMIN_GRACE_MINUTES * 60_000;
    if (!user.proxmoxAdmin || (since && now.getTime() - since.getTime() <= limit)) return 'unavailable';
    // proxmoxCheckedAt stays old, so the next request tries again and restores admin once Proxmox answers.
    await this.deps.sequelize.transaction(async (transaction) => {
      await user.update({ proxmoxAdmin: false }, { transaction });
      await this.record(actor, user, 'user.proxmox-demote', { proxmoxAdmin: { before: true, after: false } }, 'Proxmox unreachable past the grace period', transaction);
    });
    return 'admin-expired';
  }

  private async record(actor: AuditActor, user: User, action: string, changes: Record<string, { before: unknown; after: unknown }>, why: string, transaction: Transaction): Promise<void> {
    this.deps.logger.warn({ userId: user.id, username: user.username, action, why }, 'Proxmox rights changed');
    await this.deps.auditor?.record(actor, { action, objectType: 'user', objectId: user.id, objectLabel: user.username, changes }, transaction);
  }

  /** One read shared by concurrent callers; after a failure, requests skip Proxmox for a while. */
  private directory(force = false): Promise<Directory | null> {
    if (!force && Date.now() - this.failedAt < RETRY_AFTER_FAILURE_MS) return Promise.resolve(null);
    this.reading ??= this.readDirectory().finally(() => (this.reading = undefined));
    return this.reading;
  }

  private async readDirectory(): Promise<Directory | null> {
    const { config, models, logger } = this.deps;
    const origin = config.PROXMOX_URL ? originOf(config.PROXMOX_URL) : null;
    const nodes = origin ? (await models.Node.findAll({ order: [['id', 'ASC']] })).filter((n) => n.apiTokenId && n.apiTokenSecret && originOf(n.apiUrl) === origin) : [];
    for (const node of nodes) {
      const dir = await this.readWith(node).catch((err: Error) => {
        logger.warn({ node: node.name, reason: err.message }, 'cannot read Proxmox users to re-check rights');
        return null;
      });
      if (dir) {
        this.failedAt = 0;
        return dir;
      }
    }
    if (!nodes.length && origin) logger.warn({ proxmoxUrl: config.PROXMOX_URL }, 'no Node with an API token is registered at PROXMOX_URL; Proxmox rights cannot be re-checked');
    this.failedAt = Date.now();
    return null;
  }

  private async readWith(node: Node): Promise<Directory | null> {
    const client = clientForNode(node, this.deps.vault, { PROXMOX_TIMEOUT_MS: Math.min(this.deps.config.PROXMOX_TIMEOUT_MS, READ_TIMEOUT_MS) });
    try {
      const users = await client.access.users();
      // Without Sys.Audit the list holds only the token's own user: it proves nothing about others.
      const tokenUser = node.apiTokenId!.split('!')[0];
      if (!users.some((u) => u.userid !== tokenUser)) throw new Error(`the API token ${node.apiTokenId} sees no other users (it needs Sys.Audit on /access)`);
      return new Map(users.map((u) => [u.userid, u]));
    } finally {
      await client.close();
    }
  }
}
