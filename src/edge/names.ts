import { z } from 'zod';
import { isEdgePath } from '../../config/index.js';

/**
 * The names and paths that end up in nginx.conf. Each is checked against a strict whitelist and
 * refused otherwise: nothing is escaped after the fact, so a value the registry holds can always be
 * written into the config as it is. Lower-case ASCII letters, digits, hyphens and dots only for host
 * names (no whitespace, quotes, `;`, braces, `$`, `#`, and no non-ASCII look-alikes).
 */

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** One DNS label: `app`, `web-01`. */
export function isLabel(v: string): boolean {
  return LABEL.test(v);
}

/** A fully qualified name of two labels or more, 253 characters at most, whose last label is not all digits. */
export function isEdgeHostname(v: string): boolean {
  if (v.length > 253) return false;
  const labels = v.split('.');
  return labels.length >= 2 && labels.every(isLabel) && !/^\d+$/.test(labels[labels.length - 1]!);
}

const HOSTNAME_RULE = 'Use lower-case letters, digits and hyphens in dot-separated labels (e.g. app.example.org); no spaces or other characters.';

/** A public host name or domain, as forms and the API take it (upper case is lowered; nothing else is changed). */
export const edgeHostname = z
  .string({ error: 'Enter a host name.' })
  .min(1, 'Enter a host name.')
  .max(253, 'A host name has at most 253 characters.')
  // ASCII before lower-casing: toLowerCase() turns look-alikes such as the Kelvin sign (U+212A) into 'k'.
  .refine((v) => /^[A-Za-z0-9.-]+$/.test(v), { message: HOSTNAME_RULE })
  .transform((v) => v.toLowerCase())
  .refine(isEdgeHostname, { message: HOSTNAME_RULE });

/** A certificate or key path on the edge host (the rule of the EDGE_* path settings). */
export const edgePath = z
  .string()
  .max(1024, 'A path has at most 1024 characters.')
  .refine(isEdgePath, { message: 'Use an absolute path of letters, digits and . _ / - (e.g. /etc/ssl/example.org.pem), without ..' });

/** The name an edge host pulls and reports with (bin/berth-edge-pull's EDGE_NAME). */
export const EDGE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** The first label of a host name: what a container's default http service is called under the default domain. */
export function firstLabel(hostname: string): string {
  return hostname.split('.')[0]!;
}

/**
 * The domain `hostname` sits directly under (one label below it: `app.example.org` under
 * `example.org`), choosing the longest when domains nest; null when it is under none.
 */
export function domainFor<D extends { name: string }>(hostname: string, domains: readonly D[]): D | null {
  let best: D | null = null;
  for (const d of domains) {
    if (!hostname.endsWith(`.${d.name}`)) continue;
    const label = hostname.slice(0, -d.name.length - 1);
    if (!isLabel(label)) continue;
    if (!best || d.name.length > best.name.length) best = d;
  }
  return best;
}
