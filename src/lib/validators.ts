import { z } from 'zod';

/**
 * Field rules shared by forms, the JSON API, CSV import and sync. Every value here ends up in SQL,
 * HTML, nginx config or a Proxmox call, so each rule is strict and says plainly what it wants.
 * Optional text fields treat '' as "not given" (HTML forms send empty strings).
 */

/** '' (an empty form field) → undefined, so `.optional()` reads it as absent. */
export const blankToUndefined = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/** An RFC 1123 host name or FQDN: labels of 1–63 letters, digits and inner hyphens; 253 characters at most. Lower-cased. */
export const hostname = z
  .string({ error: 'Enter a host name.' })
  .trim()
  .toLowerCase()
  .min(1, 'Enter a host name.')
  .max(253, 'A host name has at most 253 characters.')
  .refine((v) => v.split('.').every((l) => LABEL.test(l)), {
    message: 'Use letters, digits and hyphens in dot-separated labels of at most 63 characters, not starting or ending with a hyphen (e.g. web-01.example.org).',
  });

/** A dotted-quad IPv4 address without leading zeros (01 is ambiguous: octal to some tools). */
export const ipv4 = z
  .string()
  .trim()
  .refine((v) => /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/.test(v), {
    message: 'Enter an IPv4 address such as 10.0.0.12.',
  });

/** A MAC address with ':' or '-' separators, stored lower-case with ':' (Proxmox writes upper-case; compare normalised). */
export const mac = z
  .string()
  .trim()
  .refine((v) => /^[0-9a-fA-F]{2}([:-][0-9a-fA-F]{2}){5}$/.test(v), { message: 'Enter a MAC address such as bc:24:11:aa:bb:cc.' })
  .transform((v) => normaliseMac(v));

export function normaliseMac(v: string): string {
  return v.trim().toLowerCase().replace(/-/g, ':');
}

/** A Proxmox VMID: 100 to 999999999 (what PVE accepts for new guests). */
export const vmid = z.coerce
  .number({ error: 'Enter a VMID (a number from 100 to 999999999).' })
  .int('A VMID is a whole number.')
  .min(100, 'A VMID is at least 100.')
  .max(999_999_999, 'A VMID is at most 999999999.');

/** A calendar date YYYY-MM-DD that exists (no 2026-02-30). */
export const isoDate = z
  .string()
  .trim()
  .refine((v) => {
    const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(v);
    if (!m) return false;
    const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
    return d.getUTCFullYear() === Number(m[1]) && d.getUTCMonth() === Number(m[2]) - 1 && d.getUTCDate() === Number(m[3]);
  }, { message: 'Enter a date as YYYY-MM-DD, e.g. 2027-03-31.' });

const TAG = /^[a-z0-9][a-z0-9_.-]{0,31}$/;

/**
 * Tags: given as a comma/space-separated string or an array; each 1–32 of a-z 0-9 _ . - (lower-cased),
 * at most 20, duplicates dropped. Stored comma-separated ("web,prod") or null.
 */
export const tags = z
  .union([z.string(), z.array(z.string())])
  .transform((v) => [...new Set((Array.isArray(v) ? v : v.split(/[\s,;]+/)).map((t) => t.trim().toLowerCase()).filter(Boolean))])
  .refine((list) => list.every((t) => TAG.test(t)), { message: 'Tags use a-z, 0-9, _ . - (up to 32 characters each, starting with a letter or digit).' })
  .refine((list) => list.length <= 20, { message: 'At most 20 tags.' })
  // The column is 512 characters: refuse here rather than let the database cut or reject it.
  .refine((list) => list.join(',').length <= 512, { message: 'The tags are too long together (512 characters at most).' })
  .transform((list) => (list.length ? list.join(',') : null));

/** The tags of a stored value, as a list. */
export function tagList(stored: string | null | undefined): string[] {
  return stored ? stored.split(',').filter(Boolean) : [];
}

/** An environment name: production, staging, dev, … (1–32 of a-z 0-9 -). */
export const environment = z
  .string()
  .trim()
  .toLowerCase()
  .refine((v) => /^[a-z0-9][a-z0-9-]{0,31}$/.test(v), { message: 'An environment is 1–32 letters, digits or hyphens (e.g. production).' });

/** A Berth username (local `alice`, Proxmox `alice@pve`): what Users.username accepts. */
export const username = z
  .string()
  .trim()
  .min(1, 'Enter a username.')
  .max(191, 'A username has at most 191 characters.')
  .refine((v) => /^[A-Za-z0-9][A-Za-z0-9._-]*(@[A-Za-z0-9][A-Za-z0-9._-]*)?$/.test(v), { message: 'A username uses letters, digits, . _ - and an optional @realm.' });

/** Free text on one line (purpose, OS): control characters refused. */
export const line = (max: number) =>
  z
    .string()
    .trim()
    .max(max, `At most ${max} characters.`)
    // eslint-disable-next-line no-control-regex
    .refine((v) => !/[\u0000-\u001f\u007f]/.test(v), { message: 'Use a single line of text.' });

/** Notes: multi-line text, up to 10,000 characters, no NUL. */
export const notes = z.string().max(10_000, 'Notes are limited to 10,000 characters.').refine((v) => !v.includes('\u0000'), { message: 'Notes cannot contain NUL characters.' });

/** Makes a field optional where an empty form field means "not given". */
export const optional = <S extends z.ZodType>(schema: S) => z.preprocess(blankToUndefined, schema.optional());

/** A route's numeric `:id`. */
export const idParam = z.object({ id: z.coerce.number().int().positive() });
