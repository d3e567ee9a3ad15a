// Berth's marker on the containers it creates: a tag and a description in Proxmox, so a sync (and
// the create task's own clean-up) can tell Berth's containers from foreign ones. No imports: the
// inventory sync reads it without loading the create task.

/** The Proxmox tag on every container Berth creates. */
export const BERTH_TAG = 'berth';

const PREFIX = 'Managed by Berth: container ';

/** The description Berth writes on a container it creates (the record, request and owner it was made for). */
export function berthDescription(containerId: number, requestId: number, owner: string): string {
  return `${PREFIX}${containerId}, request ${requestId}, owner ${owner}`;
}

/** The record id a container's description names, when Berth created it; null for foreign ones. */
export function markedContainerId(description: unknown): number | null {
  if (typeof description !== 'string') return null;
  // Proxmox may hand back the description with a trailing newline or URL-decoded spaces.
  const m = /Managed by Berth: container (\d+),/.exec(description);
  return m ? Number(m[1]) : null;
}

/** Whether a `tags` value (`a;b`, `a,b` or `a b`, as Proxmox accepts) holds Berth's tag. */
export function hasBerthTag(tags: unknown): boolean {
  return typeof tags === 'string' && tags.split(/[;, ]+/).includes(BERTH_TAG);
}
