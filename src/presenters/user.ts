import type { AccountRequest, ApiToken, User } from '../../models/index.js';
import { presentUser, type CurrentUser } from '../lib/current-user.js';

/** A row of the admin's user list and the user page. */
export interface UserRow extends CurrentUser {
  role: string;
  disabled: boolean;
  expired: boolean;
  expiresAt: string | null;
  lastLoginAt: string | null;
  createdAt: string;
  hasPassword: boolean;
  passwordLinkOpen: boolean;
}

const day = (d: Date | null | undefined) => (d ? d.toISOString().slice(0, 10) : null);
const minute = (d: Date | null | undefined) => (d ? d.toISOString().slice(0, 16).replace('T', ' ') + ' UTC' : null);

export function presentUserRow(user: User, now = new Date()): UserRow {
  return {
    ...presentUser(user),
    role: user.role,
    disabled: user.disabled,
    expired: Boolean(user.expiresAt && user.expiresAt <= now),
    expiresAt: day(user.expiresAt),
    lastLoginAt: minute(user.lastLoginAt),
    createdAt: minute(user.createdAt) ?? '',
    hasPassword: Boolean(user.passwordHash),
    passwordLinkOpen: Boolean(user.passwordSetupHash && user.passwordSetupExpiresAt && user.passwordSetupExpiresAt > now),
  };
}

/** An account request as the admin page and JSON show it. */
export interface AccountRequestView {
  id: number;
  name: string;
  email: string;
  username: string;
  reason: string;
  endDate: string | null;
  status: string;
  rejectionReason: string | null;
  createdAt: string;
  decidedAt: string | null;
}

export function presentAccountRequest(r: AccountRequest): AccountRequestView {
  return {
    id: r.id,
    name: r.name,
    email: r.email,
    username: r.username,
    reason: r.reason,
    endDate: r.endDate,
    status: r.status,
    rejectionReason: r.rejectionReason,
    createdAt: minute(r.createdAt) ?? '',
    decidedAt: minute(r.decidedAt),
  };
}

/** An API token as its owner sees it: never the token or its hash. */
export interface ApiTokenView {
  id: number;
  name: string;
  scope: string;
  hint: string;
  createdAt: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
  revoked: boolean;
  expired: boolean;
}

export function presentApiToken(t: ApiToken, now = new Date()): ApiTokenView {
  return {
    id: t.id,
    name: t.name,
    scope: t.scope,
    hint: t.hint,
    createdAt: minute(t.createdAt) ?? '',
    expiresAt: minute(t.expiresAt),
    lastUsedAt: minute(t.lastUsedAt),
    revoked: Boolean(t.revokedAt),
    expired: Boolean(t.expiresAt && t.expiresAt <= now),
  };
}
