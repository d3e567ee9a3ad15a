/**
 * Things a test starts (servers, runner processes, simulators) register here with `track`, and
 * must close. The root afterEach hook closes whatever is still open and fails the test that leaked
 * it, so one test's leftovers never disturb the next (graphile-worker's practice).
 */
interface Tracked {
  name: string;
  close(): Promise<void> | void;
}

const open = new Set<Tracked>();

/** Registers `resource`; returns a close function that also unregisters it. */
export function track(name: string, close: () => Promise<void> | void): () => Promise<void> {
  const entry: Tracked = { name, close };
  open.add(entry);
  return async () => {
    if (!open.delete(entry)) return;
    await close();
  };
}

/** Closes everything still open; returns the names of what was left open. */
export async function closeLeftovers(): Promise<string[]> {
  const names = [...open].map((r) => r.name);
  for (const r of [...open]) {
    open.delete(r);
    await Promise.resolve(r.close()).catch(() => {});
  }
  return names;
}
