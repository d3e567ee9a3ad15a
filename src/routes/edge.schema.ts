import { z } from 'zod';
import { EDGE_RESULTS } from '../../models/Edge.js';
import { EDGE_NAME } from '../edge/names.js';

const EDGE_NAME_RULE = 'Use 1-64 letters, digits and . _ - (starting with a letter or digit).';

/** The edge's name, as bin/berth-edge-pull sends it (X-Berth-Edge, or `edge` in a report). */
export const edgeName = z.string({ error: 'Give the edge name.' }).regex(EDGE_NAME, EDGE_NAME_RULE);

/** `X-Berth-Edge` on a pull: optional; a name that breaks the rule is refused rather than ignored. */
export const pullHeaders = z.object({ 'x-berth-edge': edgeName.optional() });

/** The longest nginx output a report may carry. */
export const MAX_REPORT_OUTPUT = 65_536;

/** POST /edges/report: JSON or a form (bin/berth-edge-pull sends a form with curl). */
export const reportSchema = z.object({
  edge: edgeName,
  version: z.coerce.number({ error: 'Give the version number.' }).int('Give the version number.').min(1, 'Give the version number.').max(2_147_483_647, 'No such version number.'),
  sha256: z.string({ error: 'Give the sha256 of the applied text.' }).regex(/^[0-9a-f]{64}$/, 'Give the sha256 as 64 lower-case hex digits.'),
  result: z.enum(EDGE_RESULTS, { error: 'Say applied or rejected.' }),
  output: z.string({ error: 'Give nginx output as text.' }).max(MAX_REPORT_OUTPUT, `At most ${MAX_REPORT_OUTPUT} characters of output.`).default(''),
});

const versionId = (what: string) => z.coerce.number({ error: `Choose the ${what} version.` }).int(`Choose the ${what} version.`).min(1, `Choose the ${what} version.`).max(2_147_483_647, `No such ${what} version.`);

/** GET /admin/edge/diff?from=&to=: any two versions. */
export const diffQuery = z.object({ from: versionId('first'), to: versionId('second') });
