// UPIDs identify Proxmox worker tasks. The format and parse regex come from pve-common's UPID.pm, so
// a UPID the client parses matches what a real node writes. (The simulator in tools/pve-sim/ writes
// its UPIDs with a reader and writer of its own, so a mistake here cannot pass on both sides.)

/** The parts of a task id, `UPID:{node}:{pid}:{pstart}:{starttime}:{type}:{id}:{user}:`. */
export interface Upid {
  node: string;
  pid: number;
  pstart: number;
  /** Unix seconds. */
  starttime: number;
  /** Task type such as `vzcreate`, `vzstart`, `qmstart`. */
  type: string;
  /** Machine id as text; for `vzclone` it is the source container. May be empty. */
  id: string;
  /** The caller: `user@realm`, or `user@realm!tokenid` for API tokens. */
  user: string;
}

export const UPID_RE =
  /^UPID:([a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?):([0-9A-Fa-f]{8}):([0-9A-Fa-f]{8,9}):([0-9A-Fa-f]{8}):([^:\s/]+):([^:\s/]*):([^:\s/]+):$/;

/**
 * Parse a UPID string; returns null when it is not in the real format.
 */
export function parseUpid(upid: string): Upid | null {
  const m = UPID_RE.exec(upid);
  if (!m) return null;
  return {
    node: m[1],
    pid: parseInt(m[3], 16),
    pstart: parseInt(m[4], 16),
    starttime: parseInt(m[5], 16),
    type: m[6],
    id: m[7],
    user: m[8],
  };
}

function hex(n: number, width: number): string {
  return Math.trunc(n).toString(16).toUpperCase().padStart(width, '0');
}

/**
 * Write a UPID with upper-case, zero-padded hex fields and the trailing colon.
 */
export function formatUpid(u: Upid): string {
  return `UPID:${u.node}:${hex(u.pid, 8)}:${hex(u.pstart, 8)}:${hex(u.starttime, 8)}:${u.type}:${u.id}:${u.user}:`;
}
