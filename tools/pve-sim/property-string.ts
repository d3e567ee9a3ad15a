// Property strings (`name=eth0,bridge=vmbr0,ip=dhcp`, `local-lvm:8,size=8G`): how a node splits and
// writes them. Read from the team's Proxmox notes (../shared/proxmox/README.md, beside the checkout:
// §4 and "How to read the schema") and pve-common's JSONSchema.pm (`parse_property_string`,
// `print_property_string`), and written here on purpose instead of importing the client's parser from
// src/lib/proxmox/: the client is tested against this simulator, so one shared parser would hide its
// own bugs from both sides. The schema subset's parameters use no `alias` keys, so those are left out.

/** A property string a node refuses; `message` is the node's text, ending in "\n" as Perl's `die` does. */
export class MalformedPropertyString extends Error {}

/** What the format of one property string says about its keys. */
export interface PropertyStringFormat {
  /** The key a part written without `key=` belongs to (the schema's `default_key`), e.g. `volume` for `rootfs`. */
  defaultKey?: string;
  /**
   * The keys the format defines. When given, another key is refused in the same pass, as the node
   * does; when left out (the simulator reading back its own stored config), every key is taken.
   */
  isKey?: (key: string) => boolean;
}

/**
 * Split a property string into its values (kept as text). Parts are separated by `,`; a blank part
 * is skipped; `key=value` needs a non-empty key and value (`value` may hold further `=`); a part with
 * no `=` is the default key's value. Throws MalformedPropertyString with the node's message.
 */
export function parsePropertyString(text: string, format: PropertyStringFormat = {}): Record<string, string> {
  // A Map, so a key such as `constructor` or `__proto__` is a key like any other.
  const values = new Map<string, string>();
  let bareValueSeen = false;
  for (const part of text.split(',')) {
    if (/^\s*$/.test(part)) continue;
    const eq = part.indexOf('=');
    if (eq === -1) {
      const key = format.defaultKey;
      if (bareValueSeen || (key !== undefined && isSet(values.get(key)))) {
        throw new MalformedPropertyString(`duplicate key in comma-separated list property: ${key}\n`);
      }
      if (key === undefined) throw new MalformedPropertyString('value without key, but schema does not define a default key\n');
      values.set(key, part);
      bareValueSeen = true;
      continue;
    }
    const key = part.slice(0, eq);
    // Perl's `(.+)$` stops at a line break and lets one trailing "\n" go; a value with a line break inside is no value.
    const value = part.slice(eq + 1).replace(/\n$/, '');
    if (key === '' || value === '' || value.includes('\n')) throw new MalformedPropertyString('missing key in comma-separated list property\n');
    if (values.has(key)) throw new MalformedPropertyString(`duplicate key in comma-separated list property: ${key}\n`);
    if (format.isKey && !format.isKey(key)) throw new MalformedPropertyString(`invalid key in comma-separated list property: ${key}\n`);
    values.set(key, value);
  }
  return Object.fromEntries(values);
}

/** Perl truth, which the node uses to ask "does the default key have a value yet": "0" counts as none. */
function isSet(value: string | undefined): boolean {
  return value !== undefined && value !== '' && value !== '0';
}

/** How to write a property string back. */
export interface PropertyStringLayout {
  /** Written first, bare (`local-lvm:vm-101-disk-0,size=8G`). */
  defaultKey?: string;
  /** Written next, in this order (a container NIC starts with `name=`); every other key follows alphabetically. */
  first?: string[];
}

/**
 * Write values as a node stores them: the default key's value bare, then `first`, then the other keys
 * in alphabetical order; undefined values are left out. A value holding a comma could not be read
 * back, so it is refused, as print_property_string does.
 */
export function formatPropertyString(values: Record<string, string | number | undefined>, layout: PropertyStringLayout = {}): string {
  const first = (layout.first ?? []).filter((k) => Object.hasOwn(values, k));
  const rest = Object.keys(values).filter((k) => k !== layout.defaultKey && !first.includes(k)).sort();
  const parts: string[] = [];
  if (layout.defaultKey !== undefined && values[layout.defaultKey] !== undefined) parts.push(String(values[layout.defaultKey]));
  for (const key of [...first, ...rest]) {
    const value = values[key];
    if (value === undefined) continue;
    if (String(value).includes(',')) throw new Error(`illegal value with commas for ${key}`);
    parts.push(`${key}=${value}`);
  }
  return parts.join(',');
}
