/**
 * Who is acting: the signed-in user as every layer sees it (templates, policies, JSON, commands),
 * and whether an account may act at all. It lives in src/lib, below the layers that use it, and
 * takes plain fields rather than the User model, since src/lib imports no model.
 */

/** The realm of Berth's own accounts (password kept by Berth); any other realm is a Proxmox realm. */
export const LOCAL_REALM = 'local';

/** Whether an account is a Berth (local) account rather than a Proxmox one. */
export function isLocalAccount(user: { realm: string }): boolean {
  return user.realm === LOCAL_REALM;
}

/** What templates, policies and JSON see of a user: never the password hash. */
export interface CurrentUser {
  id: number;
  username: string;
  displayName: string;
  email: string | null;
  realm: string;
  isAdmin: boolean;
  /** A Berth (local) account: it has a Berth password that can be changed here. */
  isLocal: boolean;
  /** Why the user is an admin: Berth's role flag, the Proxmox admin group, or not at all. */
  adminVia: 'berth' | 'proxmox' | null;
}

/** The fields of a user row (models/User.ts) that decide its CurrentUser. */
export interface UserIdentity {
  id: number;
  username: string;
  displayName: string | null;
  email: string | null;
  realm: string;
  role: string;
  proxmoxAdmin: boolean;
}

/** The CurrentUser of a user row: admin by Berth's role or by the Proxmox admin group. */
export function presentUser(user: UserIdentity): CurrentUser {
  const adminVia = user.role === 'admin' ? 'berth' : user.proxmoxAdmin ? 'proxmox' : null;
  return {
    id: user.id,
    username: user.username,
    displayName: user.displayName || user.username,
    email: user.email,
    realm: user.realm,
    isAdmin: adminVia !== null,
    isLocal: isLocalAccount(user),
    adminVia,
  };
}

/** Whether an account may be used right now: not disabled and not past its end date. */
export function accountUsable(user: { disabled: boolean; expiresAt: Date | null }, now = new Date()): boolean {
  return !user.disabled && !(user.expiresAt && user.expiresAt.getTime() <= now.getTime());
}
