// Proxmox "property strings" (`name=eth0,bridge=vmbr0,ip=dhcp`) carry structured config such as
// `net0` and `rootfs`. The split rules and messages follow PVE::JSONSchema::parse_property_string.

/** Raised when a property string cannot be split; `message` is Proxmox's text (ends with "\n"). */
export class PropertyStringError extends Error {}

/**
 * Split a property string into its keys. A part without `=` is stored under `defaultKey`
 * (e.g. `local-lvm:8` for `rootfs`). Values are kept as text.
 */
export function parsePropertyString(text: string, defaultKey?: string): Record<string, string> {
  // A Map, not a plain object: keys such as `constructor` or `__proto__` are ordinary keys here, and
  // must neither look present already nor reach an object's prototype.
  const out = new Map<string, string>();
  let usedDefault = false;
  for (const part of text.split(',')) {
    if (/^\s*$/.test(part)) continue;
    // As Perl's m/^([^=]+)=(.+)$/: the value does not run across a line break, and `$` allows one
    // trailing newline, which is not part of the value.
    const kv = /^([^=]+)=(.+)\n?$/.exec(part);
    if (kv) {
      const [, k, v] = kv;
      if (out.has(k)) throw new PropertyStringError(`duplicate key in comma-separated list property: ${k}\n`);
      out.set(k, v);
    } else if (!part.includes('=')) {
      if (!defaultKey) throw new PropertyStringError('value without key, but schema does not define a default key\n');
      if (usedDefault || out.has(defaultKey)) {
        throw new PropertyStringError(`duplicate key in comma-separated list property: ${defaultKey}\n`);
      }
      usedDefault = true;
      out.set(defaultKey, part);
    } else {
      throw new PropertyStringError('missing key in comma-separated list property\n');
    }
  }
  return Object.fromEntries(out);
}

/**
 * Join keys back into a property string. `first` keys come first in the given order, the rest
 * alphabetically, which is how Proxmox writes `net0` (`name` first). Undefined values are skipped.
 */
export function formatPropertyString(
  values: Record<string, string | number | undefined>,
  first: string[] = [],
): string {
  const keys = Object.keys(values).filter((k) => values[k] !== undefined);
  const head = first.filter((k) => keys.includes(k));
  const tail = keys.filter((k) => !first.includes(k)).sort();
  return [...head, ...tail].map((k) => `${k}=${values[k]}`).join(',');
}

/**
 * The MAC address of a container `netN` entry (`hwaddr=`) or a QEMU one (`virtio=...`), upper-case.
 */
export function macFromNet(net: string | undefined): string | null {
  if (!net) return null;
  const m = /(?:^|,)(?:hwaddr|virtio|e1000e?|rtl8139|vmxnet3)=([0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5})(?:,|$)/.exec(net);
  return m ? m[1].toUpperCase() : null;
}

/** The static IPv4 of a container `netN` entry (`ip=10.0.0.5/24`); null for `ip=dhcp` or none. */
export function staticIpv4FromNet(net: string | undefined): string | null {
  return /(?:^|,)ip=(\d+\.\d+\.\d+\.\d+)\/\d+/.exec(net ?? '')?.[1] ?? null;
}
