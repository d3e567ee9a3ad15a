// Named string formats used by the schema subset (`format: "pve-node"`). Checks and messages are
// taken from pve-common JSONSchema.pm, pve-access-control and pve-storage; `-list` and `-opt`
// suffixes are handled like PVE's check_format. Unknown formats are accepted.
import { isIPv4, isIPv6 } from 'node:net';

type Check = (v: string) => string | null;

const DNS_LABEL = '([a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?)';
const DNS_RE = new RegExp(`^(${DNS_LABEL}\\.)*${DNS_LABEL}$`);
const CONTENT_TYPES = new Set(['images', 'rootdir', 'vztmpl', 'iso', 'backup', 'snippets', 'import', 'none']);

function cidrOk(v: string, v6: boolean): boolean {
  const m = /^(.+)\/(\d+)$/.exec(v);
  if (!m) return false;
  const bits = Number(m[2]);
  return (v6 ? isIPv6(m[1]) : isIPv4(m[1])) && bits > 7 && bits <= (v6 ? 128 : 32);
}

/** Parse `12`, `8G`, `512M` into bytes (PVE parse_size); null when malformed. */
export function parseSize(v: string): number | null {
  const m = /^(\d+(\.\d+)?)([KMGT])?$/.exec(v);
  if (!m) return null;
  const mult = { K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 }[m[3] as 'K'] ?? 1;
  return Math.trunc(Number(m[1]) * mult);
}

const checks: Record<string, Check> = {
  'pve-node': (v) => (/^([a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?)$/.test(v) ? null : 'value does not look like a valid node name\n'),
  'pve-vmid': (v) => (/^[1-9][0-9]{2,8}$/.test(v) ? null : 'value does not look like a valid VM ID\n'),
  'pve-configid': (v) => (/^[a-z][a-z0-9_-]+$/i.test(v) ? null : `invalid configuration ID '${v}'\n`),
  'pve-storage-id': (v) => (/^[a-z][a-z0-9\-_.]*[a-z0-9]$/i.test(v) ? null : `storage ID '${v}' contains illegal characters\n`),
  'pve-volume-id': (v) => (/^([a-z][a-z0-9\-_.]*[a-z0-9]):(.+)$/is.test(v) ? null : `unable to parse volume ID '${v}'\n`),
  'dns-name': (v) => (DNS_RE.test(v) ? null : 'value does not look like a valid DNS name\n'),
  'pve-realm': (v) => (/^[A-Za-z][A-Za-z.\-_]+$/.test(v) ? null : 'value does not look like a valid realm\n'),
  // Nested pools (`dev/team`) have up to 3 levels (pve-access-control verify_poolname).
  'pve-poolid': (v) => (/^[A-Za-z0-9.\-_]+(\/[A-Za-z0-9.\-_]+){0,2}$/.test(v) ? null : `pool name '${v}' contains invalid characters\n`),
  // pve-access-control Auth/Plugin.pm verify_username and AccessControl.pm verify_groupname.
  'pve-userid': (v) => {
    if (v.length < 3) return `user name '${v}' is too short\n`;
    if (v.length > 64) return `user name '${v}' is too long (${v.length} > 64)\n`;
    return /^[^\s:/]+@[A-Za-z][A-Za-z0-9.\-_]+$/.test(v) ? null : `value '${v}' does not look like a valid user name\n`;
  },
  'pve-groupid': (v) => (/^[A-Za-z0-9.\-_]+$/.test(v) ? null : `group name '${v}' contains invalid characters\n`),
  email: (v) => (/^[\w+\-~]+(\.[\w+\-~]+)*@[a-zA-Z0-9-]+(\.[a-zA-Z0-9-]+)*$/.test(v) ? null : 'value does not look like a valid email address\n'),
  'pve-priv': (v) => (/^[A-Za-z][A-Za-z0-9.]*$/.test(v) ? null : `invalid privilege name '${v}'\n`),
  'pve-tag': (v) => (/^[a-z0-9_][a-z0-9_\-+.]*$/i.test(v) ? null : 'invalid characters in tag\n'),
  'pve-task-status-type': (v) => (/^(ok|error|warning|unknown)$/i.test(v) ? null : `invalid status '${v}'\n`),
  'pve-storage-content': (v) => (CONTENT_TYPES.has(v) ? null : `invalid content type '${v}'\n`),
  'pve-startup-order': (v) =>
    v.split(',').every((p) => /^\s*$/.test(p) || /^(order=)?\d+$/.test(p) || /^(up|down)=\d+$/.test(p))
      ? null : 'unable to parse startup options\n',
  'pve-ct-timezone': (v) => (/^[A-Za-z0-9_+\-/]+$/.test(v) ? null : `invalid time zone '${v}'\n`),
  'mac-addr': (v) => (/^[a-f0-9][02468ace](?::[a-f0-9]{2}){5}$/i.test(v) ? null : 'value does not look like a valid unicast MAC address\n'),
  ipv4: (v) => (isIPv4(v) ? null : 'value does not look like a valid IPv4 address\n'),
  ipv6: (v) => (isIPv6(v) ? null : 'value does not look like a valid IPv6 address\n'),
  'pve-ipv4-config': (v) => (/^(dhcp|manual)$/.test(v) || cidrOk(v, false) ? null : 'value does not look like a valid ipv4 network configuration\n'),
  'pve-ipv6-config': (v) => (/^(auto|dhcp|manual)$/.test(v) || cidrOk(v, true) ? null : 'value does not look like a valid ipv6 network configuration\n'),
  'lxc-ip-with-ll-iface': (v) => {
    const [ip, iface] = v.split('%');
    return (isIPv4(ip) || isIPv6(ip)) && (iface === undefined || /^[a-z0-9_.-]+$/i.test(iface)) ? null : `invalid IP address '${v}'\n`;
  },
  'disk-size': (v) => (parseSize(v) !== null ? null : `value does not look like a valid disk size: ${v}\n`),
};

/** PVE::Tools::split_list: NUL-separated, else split on `,`, `;` and whitespace. */
export function splitList(v: string): string[] {
  if (v.includes('\0')) return v.split('\0');
  return v.replace(/[,;]/g, ' ').trim().split(/\s+/).filter(Boolean);
}

/**
 * Check `value` against a named format. Returns Proxmox's message (ending in "\n") or null.
 */
export function checkNamedFormat(format: string, value: string): string | null {
  const m = /^(.*?)(?:-(list|opt))?$/.exec(format)!;
  const base = m[1];
  const kind = m[2];
  const check = checks[base] ?? checks[format];
  if (!check) return null;
  if (checks[format]) return check(value);
  if (kind === 'list') {
    for (const item of splitList(value)) {
      const err = check(item);
      if (err) return err;
    }
    return null;
  }
  if (kind === 'opt') return value ? check(value) : null;
  return check(value);
}
