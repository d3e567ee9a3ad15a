import { ConflictError } from './errors.js';

/**
 * Remote Desktop connection files (.rdp) for VMs. An .rdp file is `name:type:value` lines; a value
 * with a line break would start a line of its own choosing (`alternate shell:s:…` runs a program on
 * connect), so any CR, LF or other control character is refused rather than stripped. The password
 * is never written: mstsc prompts for it.
 */

export interface RdpTarget {
  /** An IPv4 address or a host name. */
  host: string;
  port: number;
  username?: string | null;
}

export const DEFAULT_RDP_PORT = 3389;

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

function checked(what: string, value: string): string {
  if (CONTROL.test(value)) throw new ConflictError(`The ${what} contains a line break or control character, which cannot go into an .rdp file; correct it first.`);
  return value;
}

/** The .rdp file's text (CRLF line endings, as mstsc writes them). */
export function buildRdpFile(target: RdpTarget): string {
  if (!Number.isInteger(target.port) || target.port < 1 || target.port > 65535) throw new ConflictError(`The RDP port ${target.port} is not a port number (1–65535).`);
  const lines = [
    `full address:s:${checked('address', target.host)}:${target.port}`,
    ...(target.username ? [`username:s:${checked('username', target.username)}`] : []),
    'prompt for credentials:i:1',
    'screen mode id:i:2',
    'use multimon:i:0',
    'session bpp:i:32',
    'authentication level:i:2',
    'redirectclipboard:i:1',
    'redirectprinters:i:0',
    'redirectdrives:i:0',
    'autoreconnection enabled:i:1',
  ];
  return lines.join('\r\n') + '\r\n';
}

/** A download name safe in a Content-Disposition header and on every file system: `<vm-name>.rdp`. */
export function rdpFilename(name: string): string {
  const safe = name.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._]+/, '').slice(0, 200);
  return `${safe || 'vm'}.rdp`;
}
