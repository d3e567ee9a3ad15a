import { z } from 'zod';

/**
 * Field rules shared by forms, the JSON API, CSV import and sync. Every value here ends up in SQL,
 * HTML, nginx config or a Proxmox call, so each rule is strict and says plainly what it wants.
 * Optional text fields treat '' as "not given" (HTML forms send empty strings).
 */

/** '' (an empty form field) → undefined, so `.optional()` reads it as absent. */
export const blankToUndefined = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);

const HOSTNAME_RULE = 'Use letters, digits and hyphens in dot-separated labels of at most 63 characters, not starting or ending with a hyphen (e.g. web-01.example.org).';

/**
 * An RFC 1123 host name or FQDN: labels of 1–63 letters, digits and inner hyphens; 253 characters at
 * most. Lower-cased. Zod's z.hostname() is the rule, except that it accepts a trailing dot (the DNS
 * root, `web.example.org.`): Berth refuses it, or one host could be stored under two unique names.
 */
export const hostname = z
  .string({ error: 'Enter a host name.' })
  .trim()
  .toLowerCase()
  .min(1, 'Enter a host name.')
  .max(253, 'A host name has at most 253 characters.')
  .pipe(z.hostname({ error: HOSTNAME_RULE }).refine((v) => !v.endsWith('.'), { message: HOSTNAME_RULE }));

/** A dotted-quad IPv4 address; z.ipv4() refuses leading zeros (01 is ambiguous: octal to some tools). */
export const ipv4 = z
  .string()
  .trim()
  .pipe(z.ipv4({ error: 'Enter an IPv4 address such as 10.0.0.12.' }));

/**
 * A MAC address with ':' or '-' separators, stored lower-case with ':' (Proxmox writes upper-case;
 * compare normalised). z.mac() takes one separator, so '-' becomes ':' before it checks.
 */
export const mac = z
  .string()
  .transform((v) => normaliseMac(v))
  .pipe(z.mac({ error: 'Enter a MAC address such as bc:24:11:aa:bb:cc.' }));

export function normaliseMac(v: string): string {
  return v.trim().toLowerCase().replace(/-/g, ':');
}

/** A Proxmox VMID: 100 to 999999999 (what Proxmox accepts for a new container or VM). */
export const vmid = z.coerce
  .number({ error: 'Enter a VMID (a number from 100 to 999999999).' })
  .int('A VMID is a whole number.')
  .min(100, 'A VMID is at least 100.')
  .max(999_999_999, 'A VMID is at most 999999999.');

/** A calendar date YYYY-MM-DD that exists (z.iso.date() refuses 2026-02-30 and 2025-02-29). */
export const isoDate = z
  .string()
  .trim()
  .pipe(z.iso.date({ error: 'Enter a date as YYYY-MM-DD, e.g. 2027-03-31.' }));

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

/*
 * Usernames. Berth has two kinds of account, told apart by '@': a local account (`alice`, password
 * in Berth) and a Proxmox account (`alice@pve`, the realm after the '@', authenticated by Proxmox).
 * Every username rule is here.
 */

/** Proxmox realm ids as pveum accepts them (`pve`, `pam`, `ldap-corp`). */
export const PROXMOX_REALM = /^[A-Za-z][A-Za-z0-9._-]{1,31}$/;

/**
 * A new local account's name: 2–64 of a-z 0-9 . _ -, starting with a letter or digit, lower-cased
 * as given (names differing only in case would be two accounts on SQLite and one on MariaDB, whose
 * collation ignores case). No '@': that marks a Proxmox account.
 */
export const LOCAL_USERNAME = /^[a-z0-9][a-z0-9._-]{1,63}$/;

/** A new local account's name (sign-up, approval, bin/create-admin); see LOCAL_USERNAME. */
export const localUsername = z
  .string({ error: 'Choose a username.' })
  .trim()
  .toLowerCase()
  .regex(LOCAL_USERNAME, 'Use 2–64 letters, digits, dots, dashes or underscores, starting with a letter or digit.');

/**
 * The name part a login accepts for a local account: what LOCAL_USERNAME allows, plus upper case and
 * one character, because accounts created before that rule keep logging in. The database finds the
 * row (case-insensitively on MariaDB, as stored on SQLite), so the name is not lower-cased here.
 */
export const LOCAL_LOGIN_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** The name part of a Proxmox login (`alice` of `alice@pve`): no whitespace, '@', ':' or slashes (pveum's rule, a little stricter). */
export const PROXMOX_USER_NAME = /^[^\s@:/\\]{1,64}$/;

/** The name part of an owner field: letters, digits, . _ -, starting with a letter or digit, any case. */
const OWNER_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * The name of an existing or future account, local or Proxmox (`alice`, `alice@pve`): what an
 * owner field accepts. Looser than localUsername because Proxmox user names keep their case and
 * accounts created before the local rule may not follow it; the realm follows PROXMOX_REALM.
 */
export const username = z
  .string()
  .trim()
  .min(1, 'Enter a username.')
  .max(191, 'A username has at most 191 characters.')
  .refine((v) => isOwnerName(v), { message: 'A username uses letters, digits, . _ - and an optional @realm.' });

function isOwnerName(v: string): boolean {
  const { name, realm } = splitAccountName(v, '');
  return OWNER_NAME.test(name) && (realm === '' ? !v.includes('@') : PROXMOX_REALM.test(realm));
}

/** The local name and realm of a login name: `alice@pve` → alice, pve; `alice` → alice, `defaultRealm`. */
export function splitAccountName(name: string, defaultRealm: string): { name: string; realm: string } {
  const at = name.lastIndexOf('@');
  if (at > 0) return { name: name.slice(0, at), realm: name.slice(at + 1) };
  return { name, realm: defaultRealm };
}

/*
 * Checkboxes and other yes/no form values. A ticked HTML box sends its value ('on' unless the
 * form says otherwise: Berth's forms use '1' or 'yes'), an unticked one sends nothing, a hidden
 * "0" before the box makes the field an array, and JSON clients send true/false. Every reading of
 * such a value uses these two lists.
 */
const TICKED = ['1', 'true', 'on', 'yes'];
const UNTICKED = ['0', 'false', 'off', 'no'];

/** The value that decides a repeated field: the last one (the box after its hidden "0"). */
const lastValue = (x: unknown) => (Array.isArray(x) ? x[x.length - 1] : x);

/** Whether a submitted yes/no value means yes; anything else (absent, unknown) means no. */
export function isTicked(x: unknown): boolean {
  const v = lastValue(x);
  return v === true || (typeof v === 'string' && TICKED.includes(v));
}

/**
 * A yes/no field that refuses what it does not know (with `error`): JSON true/false or one of the
 * ticked/unticked strings; absent or '' is `absent` (an unticked box).
 */
export const checkbox = (error: string, absent = false) =>
  z
    .preprocess((x) => {
      const v = lastValue(x);
      return typeof v === 'boolean' ? String(v) : blankToUndefined(v);
    }, z.stringbool({ truthy: TICKED, falsy: UNTICKED, case: 'sensitive', error }).optional())
    .transform((x) => x ?? absent);

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


/**
 * What a visitor typed into a GET filter form, as strings to show it again beside a refused filter
 * (a repeated parameter keeps its first value; anything else is blank). For display, never for deciding.
 */
export const typedText = <K extends string>(keys: readonly K[]) => {
  const typed = z.preprocess((x) => (Array.isArray(x) ? x[0] : x), z.string().catch(''));
  return z.object(Object.fromEntries(keys.map((k) => [k, typed])) as Record<K, typeof typed>);
};
