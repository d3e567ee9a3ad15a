import { z } from 'zod';
import * as v from '../lib/validators.js';
import { CONTAINER_DEFAULTS, CONTAINER_MINIMUMS } from '../provisioning/params.js';

/** One OpenSSH public key line: type, base64 blob, optional comment (what Proxmox's create accepts). */
const SSH_KEY_LINE = /^(ssh-(rsa|ed25519|dss)|ecdsa-sha2-nistp(256|384|521)|sk-(ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com) [A-Za-z0-9+/]{16,}={0,3}( [\x21-\x7e][\x20-\x7e]{0,199})?$/;

const blank = (x: unknown) => x === undefined || x === null || (typeof x === 'string' && x.trim() === '');
const numberIn = (label: string, min: number, max: number, fallback: number) =>
  z.preprocess((x) => (blank(x) ? fallback : x), z.coerce.number({ error: `${label} must be a number.` }).int(`${label} must be a whole number.`).min(min, `${label} is at least ${min}.`).max(max, `${label} is at most ${max}.`));

/**
 * POST /containers?init=true: the seed's `{hostname, osRelease, httpPort, aiContainer}` plus what the
 * create form adds. `max` comes from config (CONTAINER_MAX_*), so the schema is built per app.
 */
export function containerCreateSchema(max: { cores: number; memoryMb: number; diskGb: number }) {
  return z.object({
    hostname: v.hostname,
    osRelease: z.string({ error: 'Choose a template.' }).trim().min(1, 'Choose a template.').max(191),
    // '' or 'auto': the node with the template and the most free memory.
    nodeId: z.preprocess((x) => (blank(x) || x === 'auto' ? null : x), z.coerce.number({ error: 'Choose a node.' }).int().positive('Choose a node.').nullable()).default(null),
    cores: numberIn('Cores', CONTAINER_MINIMUMS.cores, max.cores, CONTAINER_DEFAULTS.cores),
    memoryMb: numberIn('Memory (MB)', CONTAINER_MINIMUMS.memoryMb, max.memoryMb, CONTAINER_DEFAULTS.memoryMb),
    diskGb: numberIn('Disk (GB)', CONTAINER_MINIMUMS.diskGb, max.diskGb, CONTAINER_DEFAULTS.diskGb),
    httpPort: z.preprocess((x) => (blank(x) ? null : x), z.coerce.number({ error: 'The HTTP port must be a number.' }).int('The HTTP port must be a whole number.').min(1, 'A port is 1 to 65535.').max(65535, 'A port is 1 to 65535.').nullable()).default(null),
    sshPublicKey: z.preprocess(
      (x) => (blank(x) ? null : typeof x === 'string' ? x.replace(/\r\n?/g, '\n').split('\n').map((l) => l.trim()).filter(Boolean).join('\n') : x),
      z.string().max(16_000, 'At most 16,000 characters of keys.').refine((keys) => keys.split('\n').every((l) => SSH_KEY_LINE.test(l)), { message: 'Paste OpenSSH public keys, one per line (ssh-ed25519 AAAA… comment).' }).nullable(),
    ).default(null),
    aiContainer: z.preprocess((x) => (blank(x) || x === false || x === 'N' || x === 'n' || x === 'no' ? 'N' : x === true || v.isTicked(x) || x === 'Y' || x === 'y' ? 'Y' : x), z.enum(['Y', 'N'], { error: 'AI container is Y or N.' })).default('N'),
    // Absent (the seed's body): the default expiry. Present but blank: no expiry (admins only).
    expiresAt: z.preprocess((x) => (typeof x === 'string' && x.trim() === '' ? null : x), v.isoDate.nullable().optional()),
    purpose: z.preprocess((x) => (blank(x) ? null : x), v.line(255).nullable()).default(null),
    submitForApproval: z.preprocess((x) => v.isTicked(x) || x === true, z.boolean()).default(false),
  });
}

/** `?init=true` (the seed's flag) selects the create flow on POST /containers. */
export const initQuery = z.object({ init: z.preprocess((x) => x === 'true' || x === '1' || x === 'yes', z.boolean()).default(false) });

/** An Idempotency-Key header: visible ASCII, at most 191 characters. */
export const idempotencyKey = z.string().regex(/^[\x21-\x7e]{1,191}$/, 'The Idempotency-Key header must be 1 to 191 visible ASCII characters.');
