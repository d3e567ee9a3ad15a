import crypto from 'node:crypto';
import type { Transaction } from 'sequelize';
import type { EdgeVersionStatus } from '../../models/EdgeConfigVersion.js';
import type { CommandContext } from '../services/context.js';
import { describeChanges } from './changes.js';
import { checkSite, checkWithNginx, nginxBinary, withCheckDir } from './nginx-check.js';
import { loadRegistry, siteFromConfig } from './registry.js';
import { renderEdgeConfig, type RenderedEntry } from './render.js';
import { edgeStateRow, pruneVersions, withEdgeLock } from './versions.js';

/** What caused a publish, written on the version. */
export interface PublishTrigger {
  reason: string;
  /**
   * Check again when the newest version has the same text but was rejected (an admin's "Publish
   * now" after fixing what nginx -t complained about on the host, such as a missing certificate).
   */
  recheck?: boolean;
}

/** The part of a command context publishing needs (jobs and the CLI have one too). */
export type PublishContext = Pick<CommandContext, 'models' | 'sequelize' | 'config' | 'logger' | 'actor'>;

export interface PublishResult {
  /** The version the registry renders to now: a new one, or the newest one when nothing changed. */
  version: { id: number; sha256: string; status: EdgeVersionStatus };
  /** Whether a new version was stored. */
  changed: boolean;
  /** nginx -t's words when the version was rejected. */
  checkOutput: string | null;
  /** The service whose entry nginx -t pointed at, when it named a line inside one. */
  checkServiceId: number | null;
}

/**
 * nginx's output is kept whole up to this many characters (it is a few lines; this only bounds a
 * runaway): 16,000 characters fit the TEXT column's 65,535 bytes on MariaDB whatever the encoding.
 */
const MAX_CHECK_OUTPUT = 16_000;

export const sha256 = (text: string): string => crypto.createHash('sha256').update(text, 'utf8').digest('hex');

/** The service whose entry holds `line` (1-based), if any. */
export function serviceAtLine(entries: readonly RenderedEntry[], line: number | null): number | null {
  if (line === null) return null;
  return entries.find((e) => line >= e.firstLine && line <= e.lastLine)?.serviceId ?? null;
}

/**
 * Renders the registry and, when the text changed since the newest version, stores a new numbered
 * version: proved with `nginx -t` first when an nginx binary is configured (a version nginx refuses
 * is stored `rejected`, with nginx's words and the service they point at, and is never served), and
 * served at once when published and nothing is pinned.
 *
 * Callers call it after their own transaction commits, with what happened as the reason. Publishers
 * run one at a time across instances (the edge lock), each reading the registry after the previous
 * one finished. A rejected version is a result, not an error; it throws only for real faults (the
 * database or the lock unavailable).
 */
export async function publishEdgeConfig(cmd: PublishContext, trigger: PublishTrigger): Promise<PublishResult> {
  const { models, config } = cmd;
  return withEdgeLock(config, async () => {
    const snapshot = await loadRegistry(models);
    const rendered = renderEdgeConfig(snapshot, siteFromConfig(config));
    const hash = sha256(rendered.body);
    const newest = await models.EdgeConfigVersion.findOne({ order: [['id', 'DESC']] });
    if (newest && newest.sha256 === hash && !(trigger.recheck && newest.status === 'rejected')) {
      // Nothing changed; still make sure a published newest version is served (a first run after a
      // restore, or a state row someone removed).
      if (newest.status === 'published') {
        await cmd.sequelize.transaction(async (transaction) => {
          const state = await edgeStateRow(models, transaction);
          if (state.servedVersionId == null) await state.update({ servedVersionId: newest.id }, { transaction });
        });
      }
      return { version: { id: newest.id, sha256: newest.sha256, status: newest.status }, changed: false, checkOutput: newest.checkOutput ?? null, checkServiceId: newest.checkServiceId ?? null };
    }

    let status: EdgeVersionStatus = 'published';
    let checkOutput: string | null = null;
    let checkServiceId: number | null = null;
    const binary = nginxBinary(config);
    if (binary) {
      const check = await withCheckDir(config, async (workDir) => {
        // The same registry with the check site's paths: same lines, so nginx's line number names
        // the same entry in the published text.
        const variant = renderEdgeConfig(snapshot, await checkSite(config, workDir));
        return checkWithNginx(variant.body, { binary, workDir });
      });
      if (!check.ok) {
        status = 'rejected';
        checkOutput = check.output.slice(0, MAX_CHECK_OUTPUT);
        checkServiceId = serviceAtLine(rendered.entries, check.line);
      }
    }

    const version = await cmd.sequelize.transaction(async (transaction) => {
      const row = await models.EdgeConfigVersion.create(
        {
          body: rendered.body,
          sha256: hash,
          serviceCount: rendered.entries.filter((e) => e.included).length,
          status,
          checked: binary !== null,
          checkOutput,
          checkServiceId,
          reason: trigger.reason.slice(0, 500),
          changes: describeChanges(newest?.body ?? null, rendered.body) || 'No service entry changed (the edge settings did).',
          createdBy: cmd.actor.username ?? null,
        },
        { transaction },
      );
      const state = await edgeStateRow(models, transaction);
      if (status === 'published' && state.pinnedVersionId == null) await state.update({ servedVersionId: row.id }, { transaction });
      await pruneVersions(models, config.EDGE_KEEP_VERSIONS, state, transaction);
      return row;
    });
    const log = { versionId: version.id, sha256: hash, status, reason: trigger.reason, checkServiceId };
    if (status === 'rejected') cmd.logger.warn({ ...log, checkOutput }, 'edge config version rejected by nginx -t; the edge keeps the last good one');
    else cmd.logger.info(log, 'edge config version published');
    return { version: { id: version.id, sha256: hash, status }, changed: true, checkOutput, checkServiceId };
  });
}

/**
 * publishEdgeConfig for callers whose own change has already committed and must not fail because
 * the edge could not be published (a job's status change, the sync): a fault is logged, and the
 * job runner's periodic re-render publishes later. Resolves to null then.
 */
export async function publishAfterChange(cmd: PublishContext, trigger: PublishTrigger): Promise<PublishResult | null> {
  try {
    return await publishEdgeConfig(cmd, trigger);
  } catch (err) {
    cmd.logger.error({ err, reason: trigger.reason }, 'could not publish the edge config; the periodic re-render will');
    return null;
  }
}

/**
 * Publishes once `transaction` commits, when container `containerId` has services (a change to a
 * container without any cannot change the config). Sequelize awaits afterCommit hooks, so the
 * command that committed returns after the publish; a publish fault is only logged.
 */
export async function publishOnCommit(cmd: PublishContext, transaction: Transaction, containerId: number, trigger: PublishTrigger): Promise<void> {
  if (!(await cmd.models.Service.count({ where: { containerId }, transaction }))) return;
  transaction.afterCommit(async () => {
    await publishAfterChange(cmd, trigger);
  });
}
