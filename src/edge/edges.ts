import type { EdgeResult } from '../../models/Edge.js';
import { changedFields } from '../audit/index.js';
import { inTransaction, type CommandContext } from '../services/context.js';
import { edgeStateRow, newestPublished, pruneVersions, withEdgeLock } from './versions.js';
import type { EdgeConfigVersion } from '../../models/index.js';
import { ConflictError, NotFoundError } from '../lib/errors.js';
import { UniqueConstraintError } from 'sequelize';

/** An edge's report, as bin/berth-edge-pull sends it after applying (or refusing) a version. */
export interface EdgeReportInput {
  edge: string;
  version: number;
  sha256: string;
  result: EdgeResult;
  /** nginx's words (already capped by the schema). */
  output: string;
}

/** The output kept on the Edge row (the schema accepts up to 65,536 characters; TEXT holds 65,535 bytes on MariaDB). */
const MAX_STORED_OUTPUT = 16_000;

/** Keeps `text` within `max` UTF-8 bytes, cutting at a character boundary and saying so. */
export function capOutput(text: string, max = MAX_STORED_OUTPUT): string {
  if (Buffer.byteLength(text, 'utf8') <= max) return text;
  const note = '\n[output cut]';
  let cut = text.slice(0, max - note.length);
  while (Buffer.byteLength(cut, 'utf8') > max - note.length) cut = cut.slice(0, -1);
  return cut + note;
}

/**
 * Records what an edge says it did with a version (created on first sight), audited as `edge.report`
 * in the same transaction. Only an `applied` report changes what the edge runs (`applied*`): after a
 * `rejected` one it still runs the version it applied before (bin/berth-edge-pull keeps or puts back
 * its file).
 */
export async function recordEdgeReport(cmd: CommandContext, input: EdgeReportInput): Promise<void> {
  const now = new Date();
  const values = {
    lastReportAt: now,
    lastReportVersionId: input.version,
    lastReportSha256: input.sha256,
    lastResult: input.result,
    lastOutput: capOutput(input.output),
    ...(input.result === 'applied' ? { appliedVersionId: input.version, appliedSha256: input.sha256, appliedAt: now } : {}),
  };
  const write = () =>
    inTransaction(cmd, async (transaction) => {
      const existing = await cmd.models.Edge.findOne({ where: { name: input.edge }, transaction });
      // A copy: get() hands out the row's own values, which the update below changes.
      const before = existing ? { ...existing.get() } : null;
      const row = existing ? await existing.update(values, { transaction }) : await cmd.models.Edge.create({ name: input.edge, ...values }, { transaction });
      const changes = changedFields(before, row.get(), ['lastReportVersionId', 'lastReportSha256', 'lastResult', 'appliedVersionId', 'appliedSha256']);
      await cmd.auditor.record(cmd.actor, { action: 'edge.report', objectType: 'edge', objectId: row.id, objectLabel: row.name, changes }, transaction);
    });
  try {
    await write();
  } catch (err) {
    // Two instances saw a new edge's first report at once: the other created it; update it now.
    if (!(err instanceof UniqueConstraintError)) throw err;
    await write();
  }
}

/**
 * Pins published version `version`: edges get it (with its own ETag) until it is unpinned, whatever
 * is published meanwhile. Audited as `edge.pin`.
 */
export async function pinVersion(cmd: CommandContext, version: EdgeConfigVersion): Promise<void> {
  if (version.status !== 'published') throw new ConflictError(`Version ${version.id} was rejected by nginx -t: only a published version can be pinned.`);
  await withEdgeLock(cmd.config, () =>
    inTransaction(cmd, async (transaction) => {
      // Still there? A prune may have removed it since the page was drawn.
      if (!(await cmd.models.EdgeConfigVersion.findByPk(version.id, { attributes: ['id'], transaction }))) throw new NotFoundError('No such version.');
      const state = await edgeStateRow(cmd.models, transaction);
      const before = { pinnedVersionId: state.pinnedVersionId, servedVersionId: state.servedVersionId };
      await state.update({ pinnedVersionId: version.id, servedVersionId: version.id }, { transaction });
      const changes = changedFields(before, { pinnedVersionId: state.pinnedVersionId, servedVersionId: state.servedVersionId }, ['pinnedVersionId', 'servedVersionId']);
      await cmd.auditor.record(cmd.actor, { action: 'edge.pin', objectType: 'edgeConfigVersion', objectId: version.id, objectLabel: `version ${version.id}`, changes }, transaction);
    }),
  );
}

/** Ends a pin: edges get the newest published version again. Audited as `edge.unpin` (also when nothing was pinned). */
export async function unpinVersion(cmd: CommandContext): Promise<{ servedVersionId: number | null; wasPinned: number | null }> {
  return withEdgeLock(cmd.config, () =>
    inTransaction(cmd, async (transaction) => {
      const state = await edgeStateRow(cmd.models, transaction);
      const before = { pinnedVersionId: state.pinnedVersionId, servedVersionId: state.servedVersionId };
      const newest = await newestPublished(cmd.models, transaction);
      await state.update({ pinnedVersionId: null, servedVersionId: newest?.id ?? null }, { transaction });
      await pruneVersions(cmd.models, cmd.config.EDGE_KEEP_VERSIONS, state, transaction);
      const changes = changedFields(before, { pinnedVersionId: state.pinnedVersionId, servedVersionId: state.servedVersionId }, ['pinnedVersionId', 'servedVersionId']);
      await cmd.auditor.record(cmd.actor, { action: 'edge.unpin', objectType: 'edgeConfigVersion', objectId: before.pinnedVersionId, objectLabel: before.pinnedVersionId ? `version ${before.pinnedVersionId}` : null, changes }, transaction);
      return { servedVersionId: state.servedVersionId ?? null, wasPinned: before.pinnedVersionId ?? null };
    }),
  );
}
