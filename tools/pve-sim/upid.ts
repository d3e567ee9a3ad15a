// Task ids (UPIDs), written and read as §3 of the team's Proxmox notes (../shared/proxmox/README.md,
// beside the checkout) gives them: `UPID:{node}:{pid:%08X}:{pstart:%08X}:{starttime:%08X}:{type}:{id}:{user}:`.
// Kept apart from the client's reader in src/lib/proxmox/ on purpose: the client's tests run against
// this simulator, and a shared reader would let one mistake pass on both sides.

/** The fields a UPID carries. */
export interface TaskIdFields {
  node: string;
  /** Process id of the worker. */
  pid: number;
  /** Process start, in clock ticks since boot (may need 9 hex digits). */
  pstart: number;
  /** Unix seconds. */
  starttime: number;
  /** `vzcreate`, `vzstart`, `qmstart`, … */
  type: string;
  /** The VMID of the Container or VM the task is about, as text; may be empty. */
  id: string;
  /** The caller, `user@realm` or `user@realm!token`. */
  user: string;
}

/** Upper-case hex, at least `digits` wide: Perl's `%08X`. */
const hex = (n: number, digits: number) => n.toString(16).toUpperCase().padStart(digits, '0');

/** Write a UPID as a node does. */
export function formatUpid(t: TaskIdFields): string {
  return `UPID:${t.node}:${hex(t.pid, 8)}:${hex(t.pstart, 8)}:${hex(t.starttime, 8)}:${t.type}:${t.id}:${t.user}:`;
}

const NODE = /^[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?$/;
const hexOf = (digits: string) => new RegExp(`^[0-9A-Fa-f]{${digits}}$`);
const PID = hexOf('8');
const PSTART = hexOf('8,9');
const STARTTIME = hexOf('8');
/** type and user: one or more characters, none of them white space or `/` (`:` cannot occur: it separates the fields). */
const WORD = /^[^\s/]+$/;
/** id: the same, but it may be empty. */
const OPTIONAL_WORD = /^[^\s/]*$/;

/** Read a UPID field by field; null when it is not one a node would write. */
export function parseUpid(text: string): TaskIdFields | null {
  if (!text.startsWith('UPID:') || !text.endsWith(':')) return null;
  const fields = text.slice('UPID:'.length, -1).split(':');
  if (fields.length !== 7) return null;
  const [node, pid, pstart, starttime, type, id, user] = fields;
  const valid = NODE.test(node) && PID.test(pid) && PSTART.test(pstart) && STARTTIME.test(starttime) && WORD.test(type) && OPTIONAL_WORD.test(id) && WORD.test(user);
  if (!valid) return null;
  return { node, pid: parseInt(pid, 16), pstart: parseInt(pstart, 16), starttime: parseInt(starttime, 16), type, id, user };
}
