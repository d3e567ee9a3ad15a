// Proxmox sometimes sends numbers as JSON strings (a Perl scalar quirk: `/cluster/nextid` gives
// "101", older LXC lists give string vmids, QEMU `memory` may be text). Everything numeric goes
// through these helpers so callers always get real numbers.

/**
 * A number from a number or numeric string; `undefined` for anything else (null, "", "abc").
 */
export function toNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'string' && v.trim() !== '') {
    const n = Number(v);
    return Number.isFinite(n) ? n : undefined;
  }
  if (typeof v === 'boolean') return v ? 1 : 0;
  return undefined;
}

/**
 * Like {@link toNumber} but throws when the value is missing or not numeric; for fields the
 * API always sends (vmid, nextid).
 */
export function requireNumber(v: unknown, what: string): number {
  const n = toNumber(v);
  if (n === undefined) throw new TypeError(`Proxmox sent a non-numeric ${what}: ${JSON.stringify(v)}`);
  return n;
}

/**
 * Copy of `row` with the listed keys converted to numbers where they are numeric strings.
 */
export function coerceNumbers<T extends Record<string, unknown>>(row: T, keys: readonly string[]): T {
  const out: Record<string, unknown> = { ...row };
  for (const k of keys) {
    if (k in out) {
      const n = toNumber(out[k]);
      if (n !== undefined) out[k] = n;
    }
  }
  return out as T;
}
