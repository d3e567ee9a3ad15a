import type { Request } from 'express';
import type { Transaction } from 'sequelize';
import type { Config } from '../../config/index.js';
import type { Models } from '../../models/index.js';
import type { Logger } from '../lib/logger.js';
import type { Changes } from './changes.js';
import { AuditFile } from './file.js';

/** Who did it, and from which request. `username` null: Berth itself (a schedule, the CLI). */
export interface AuditActor {
  username: string | null;
  requestId?: string | null;
  ip?: string | null;
}

export interface AuditInput {
  /** `<objectType>.<verb>`: container.create, credential.reveal, job.enqueue, … */
  action: string;
  objectType: string;
  objectId?: string | number | null;
  /** A readable name that outlives the record (hostname, username). */
  objectLabel?: string | null;
  changes?: Changes | null;
}

/** The actor of a web request: the logged-in user (or API token owner), the request id and client IP. */
export function actorOf(req: Request): AuditActor {
  return { username: req.user?.username ?? null, requestId: req.id ? String(req.id) : null, ip: req.ip ?? null };
}

/**
 * Writes the audit trail. `record` inserts the AuditEvents row in the caller's transaction, so the
 * event exists exactly when the change does, and appends the JSON line to the audit file once that
 * transaction commits.
 */
export class Auditor {
  constructor(
    private readonly models: Pick<Models, 'AuditEvent'>,
    private readonly file: AuditFile | null,
  ) {}

  /** An auditor for a process: the database plus, unless AUDIT_LOG_FILE=false, the file `<name>`. */
  static fromConfig(config: Config, models: Pick<Models, 'AuditEvent'>, logger: Logger, name: string): Auditor {
    const file = config.AUDIT_LOG_FILE
      ? new AuditFile(config.AUDIT_LOG_DIR, name, {
          maxSize: config.AUDIT_LOG_MAX_SIZE,
          maxFiles: config.AUDIT_LOG_MAX_FILES,
          onError: (err) => logger.error({ err }, 'cannot write the audit file; events are still stored in AuditEvents'),
        })
      : null;
    return new Auditor(models, file);
  }

  async record(actor: AuditActor, input: AuditInput, transaction?: Transaction): Promise<void> {
    const changes = input.changes && Object.keys(input.changes).length ? input.changes : null;
    const row = await this.models.AuditEvent.create(
      {
        actor: actor.username,
        action: input.action,
        objectType: input.objectType,
        objectId: input.objectId === undefined || input.objectId === null ? null : String(input.objectId),
        objectLabel: input.objectLabel?.slice(0, 255) ?? null,
        changes: changes ? JSON.stringify(changes) : null,
        requestId: actor.requestId?.slice(0, 64) ?? null,
        ip: actor.ip?.slice(0, 45) ?? null,
      },
      { transaction },
    );
    if (!this.file) return;
    const line = {
      time: row.createdAt.toISOString(),
      id: row.id,
      actor: row.actor,
      action: row.action,
      objectType: row.objectType,
      objectId: row.objectId,
      objectLabel: row.objectLabel,
      changes,
      requestId: row.requestId,
      ip: row.ip,
    };
    if (transaction) transaction.afterCommit(() => this.file?.write(line));
    else this.file.write(line);
  }

  async close(): Promise<void> {
    await this.file?.close();
  }
}
