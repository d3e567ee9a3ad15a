import { z } from 'zod';
import type { NodeInput } from '../services/nodes.js';
import { normalizeFingerprint } from '../lib/proxmox/index.js';
import { blankToUndefined as blank, checkbox as tickBox } from '../lib/validators.js';

/**
 * Input rules for a Node. Its values end up in URLs Berth calls, in Proxmox API paths and in HTML,
 * so each is strict. A blank form field means "not given": on update that keeps the stored value
 * (the token secret, which is never shown back) or, for optional fields, clears it.
 */

/** '' clears an optional field (null); absent keeps it. */
const clearable = <S extends z.ZodType>(schema: S) => z.preprocess((x) => (typeof x === 'string' && x.trim() === '' ? null : x), schema.nullable().optional());

/** A Proxmox node name: one RFC 1123 label (letters, digits, inner hyphens, at most 63). */
export const nodeName = z
  .string({ error: 'Enter the Proxmox node name.' })
  .trim()
  .min(1, 'Enter the Proxmox node name.')
  .max(63, 'A node name has at most 63 characters.')
  .regex(/^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?$/, 'A node name uses letters, digits and inner hyphens, as in `pvenode` (e.g. pve1).');

/** The node's API origin: http(s)://host[:port], no path, query or credentials. Stored as the origin. */
export const apiUrl = z
  .string({ error: 'Enter the API URL, e.g. https://pve1.example.org:8006.' })
  .trim()
  .max(255, 'At most 255 characters.')
  .transform((v, ctx) => {
    let url: URL;
    try {
      url = new URL(v);
    } catch {
      ctx.addIssue({ code: 'custom', message: 'Enter the API URL, e.g. https://pve1.example.org:8006.' });
      return z.NEVER;
    }
    const problem = url.protocol !== 'https:' && url.protocol !== 'http:' ? 'The URL starts with https:// (or http://).'
      : url.username || url.password ? 'Leave credentials out of the URL; use the API token fields.'
        : (url.pathname !== '/' && url.pathname !== '/api2/json' && url.pathname !== '/api2/json/') || url.search || url.hash ? 'Give only scheme, host and port (no path or query).'
          : null;
    if (problem) {
      ctx.addIssue({ code: 'custom', message: problem });
      return z.NEVER;
    }
    return url.origin;
  });

/** tlsVerify: a checkbox or a JSON boolean (validators.checkbox); what absent means differs per schema below. */
const checkbox = tickBox('Choose whether to verify the certificate.');

const fingerprint = z.string().trim().transform((v, ctx) => {
  try {
    return normalizeFingerprint(v);
  } catch {
    ctx.addIssue({ code: 'custom', message: 'A SHA-256 fingerprint is 32 hex pairs (AA:BB:…), as `pvenode cert info` prints it.' });
    return z.NEVER;
  }
});

/** `user@realm!tokenname`, as Proxmox shows it when the token is created. */
const tokenId = z
  .string()
  .trim()
  .max(191, 'At most 191 characters.')
  .regex(/^[A-Za-z0-9._-]+@[A-Za-z0-9._-]+![A-Za-z][A-Za-z0-9._-]*$/, 'A token id looks like root@pam!berth (user@realm!tokenname).');

/** The token secret Proxmox shows once: a UUID. */
const tokenSecret = z
  .string()
  .trim()
  // z.guid(), not z.uuid(): any 8-4-4-4-12 hex, without z.uuid()'s version and variant checks.
  .pipe(z.guid({ error: 'The token secret is the UUID Proxmox showed when the token was created.' }))
  .transform((v) => v.toLowerCase());

const fields = {
  name: nodeName,
  apiUrl,
  tlsVerify: checkbox,
  tlsFingerprint: clearable(fingerprint),
  apiTokenId: clearable(tokenId),
  /** Blank: keep the stored secret (it is never shown back). */
  apiTokenSecret: z.preprocess(blank, tokenSecret.optional()),
};

export const nodeCreateSchema = z.object({ ...fields, tlsVerify: z.preprocess((x) => (x === undefined ? true : x), checkbox) }) satisfies z.ZodType<NodeInput>;

export const nodeUpdateSchema = z.object(fields).partial() satisfies z.ZodType<NodeInput>;

/** The HTML form sends every field; an unticked checkbox is absent and means false. */
export const nodeFormSchema = z.object({ ...fields, tlsVerify: z.preprocess((x) => (x === undefined ? false : x), checkbox) }) satisfies z.ZodType<NodeInput>;

