import { z } from 'zod';
import { line, optional } from '../lib/validators.js';
import type { NewCredential } from '../services/credentials.js';

/** At most 16 KiB of SSH key: an RSA-4096 key in PEM is about 3.3 KiB, so this leaves room, not abuse. */
export const SSH_KEY_MAX = 16 * 1024;

/** A private key in PEM or OpenSSH format: a BEGIN … PRIVATE KEY line, a body, and the matching END line. */
const PRIVATE_KEY = /^-----BEGIN ([A-Z0-9]+ )*PRIVATE KEY-----\r?\n[\s\S]+\r?\n-----END ([A-Z0-9]+ )*PRIVATE KEY-----\s*$/;

/**
 * POST /containers/:id/credentials and /vms/:id/credentials. The password is taken as typed (no trim:
 * spaces may be part of it); the SSH key is optional ('' = none) and normalised to end with a newline,
 * which ssh requires.
 */
export const credentialInput = z.object({
  label: line(64).pipe(z.string().min(1, 'Enter a label (e.g. root, admin, service account).')),
  username: line(191).pipe(z.string().min(1, 'Enter the username.')),
  password: z
    .string({ error: 'Enter the password.' })
    .min(1, 'Enter the password.')
    .max(4096, 'A password has at most 4096 characters.')
    .refine((v) => !v.includes('\u0000'), { message: 'A password cannot contain NUL characters.' }),
  sshKey: optional(
    z
      .string()
      .max(SSH_KEY_MAX, `An SSH key has at most ${SSH_KEY_MAX} characters.`)
      .transform((v) => v.trim().replace(/\r\n/g, '\n') + '\n')
      .refine((v) => PRIVATE_KEY.test(v), { message: 'Paste a private key, from its -----BEGIN … PRIVATE KEY----- line to its -----END … PRIVATE KEY----- line, or leave this empty.' }),
  ),
}) satisfies z.ZodType<NewCredential>;

/** GET /vms/:id/rdp?credential=<id>: which credential's username goes in the file (default: the first). */
export const rdpQuery = z.object({
  credential: optional(z.coerce.number({ error: 'credential is a credential id.' }).int().positive('credential is a credential id.')),
});
