import { z } from 'zod';
import { PROXMOX_REALM } from '../lib/validators.js';

export const loginInput = z.object({
  username: z.string({ error: 'Enter your username.' }).trim().min(1, 'Enter your username.').max(191, 'That username is too long.'),
  password: z.string({ error: 'Enter your password.' }).min(1, 'Enter your password.').max(1024, 'That password is too long.'),
  /** 'local' (Berth accounts) or a Proxmox realm id; absent means local unless the username has @realm. */
  realm: z.string().trim().max(32, 'Unknown realm.').optional(),
  next: z.string().max(2000).optional(),
});

export type LoginInput = z.infer<typeof loginInput>;

/**
 * What the login form shows again: the submitted username, realm and return path (anything that is
 * not a string counts as absent), or on GET the `?next=` to return to.
 */
export const loginFormValues = z.object({
  username: z.string().catch(''),
  realm: z.string().optional().catch(undefined),
  next: z.string().optional().catch(undefined),
});

/** GET /login: where to go once logged in. */
export const loginPageQuery = z.object({ next: z.string().optional().catch(undefined) });

/** Remembers the realm of this browser's last login, to preselect it on the form (not a secret). */
export const REALM_COOKIE = 'berth.realm';

/**
 * The realm in the request's Cookie header (`berth.realm=pve`), or null when it is absent or not a
 * Proxmox realm id. Berth reads no other cookie but the session's, so it parses the header itself.
 */
export const rememberedRealmCookie = z.preprocess(
  (header) => {
    if (typeof header !== 'string') return undefined;
    const prefix = `${REALM_COOKIE}=`;
    return header.split(';').map((pair) => pair.trimStart()).find((pair) => pair.startsWith(prefix))?.slice(prefix.length);
  },
  z.string().regex(PROXMOX_REALM).nullable().catch(null),
);
