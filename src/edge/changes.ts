/** The prefix of the one comment line each service entry begins with (src/edge/render.ts). */
const ENTRY_PREFIX = '# service ';

/** At most this many lines are written into a version's `changes`; the rest are counted. */
export const MAX_CHANGE_LINES = 50;

/**
 * The services' comment lines of a rendered config. Each carries everything that, when changed,
 * changes the entry (its address, port, name, why it is left out), so comparing these lines says
 * what changed between two versions without diffing whole configs.
 */
export function entryLines(body: string): string[] {
  const out: string[] = [];
  for (const line of body.split('\n')) {
    const trimmed = line.trimStart();
    if (trimmed.startsWith(ENTRY_PREFIX)) out.push(trimmed);
  }
  return out;
}

/**
 * What differs between two versions' service entries: `- <old line>` for each entry gone or changed,
 * `+ <new line>` for each entry new or changed, in order, capped to MAX_CHANGE_LINES lines plus
 * "and N more". `previous` null: the first version, so every entry is new. Returns '' when only the
 * rest of the config changed (the settings).
 */
export function describeChanges(previous: string | null, next: string): string {
  const before = previous === null ? [] : entryLines(previous);
  const after = entryLines(next);
  const old = new Set(before);
  const now = new Set(after);
  const lines = [...before.filter((l) => !now.has(l)).map((l) => `- ${l}`), ...after.filter((l) => !old.has(l)).map((l) => `+ ${l}`)];
  if (lines.length <= MAX_CHANGE_LINES) return lines.join('\n');
  return [...lines.slice(0, MAX_CHANGE_LINES), `and ${lines.length - MAX_CHANGE_LINES} more`].join('\n');
}
