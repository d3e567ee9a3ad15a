// Disk sizes as Proxmox writes them: `8G`, `8704M`, `+2G`. The units are binary (K = 1024) and a
// number without a unit means bytes (PVE::JSONSchema parse_size/format_size). That last rule is a
// trap, since create's `rootfs=local-lvm:8` means 8 GiB: a resize to `8` would ask for 8 bytes.
import { parsePropertyString } from './property-string.js';

const UNITS: Record<string, number> = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };

/** The pattern `size` of `PUT .../resize` must match as a whole (pve-common JSONSchema). */
export const SIZE_RE = /^(\+?)(\d+(?:\.\d+)?)([KMGT]?)$/;

/** A parsed size: `relative` when it had a leading `+` (grow by), else the new absolute size. */
export interface DiskSize {
  bytes: number;
  relative: boolean;
}

/**
 * Read a size such as `10G`, `+0.5G` or `8704M`; null when Proxmox would refuse it. Fractions are
 * rounded down to whole bytes, as Proxmox's `int()` does.
 */
export function parseSize(text: string): DiskSize | null {
  const m = SIZE_RE.exec(text);
  if (!m) return null;
  return { bytes: Math.floor(Number(m[2]) * UNITS[m[3]]), relative: m[1] === '+' };
}

/** Write bytes in the largest unit that is exact, as Proxmox writes `size=` into a config. */
export function formatSize(bytes: number): string {
  let n = Math.trunc(bytes);
  for (const unit of ['', 'K', 'M', 'G']) {
    if (n % 1024 !== 0 || n === 0) return `${n}${unit}`;
    n /= 1024;
  }
  return `${n}T`;
}

/**
 * The size in bytes of a mount-point value such as `local-lvm:vm-101-disk-0,size=8G` (a config's
 * `rootfs` or `mpN`); null when it carries no readable `size=` (a volume not yet allocated).
 */
export function volumeSize(volume: string | undefined): number | null {
  if (!volume) return null;
  let size: string | undefined;
  try {
    size = parsePropertyString(volume, 'volume').size;
  } catch {
    return null;
  }
  const parsed = size === undefined ? null : parseSize(size);
  return parsed && !parsed.relative ? parsed.bytes : null;
}
