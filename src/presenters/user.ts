import type { User } from '../../models/index.js';

/** What templates, policies and JSON see of a user: never the password hash. */
export interface CurrentUser {
  id: number;
  username: string;
  displayName: string;
  email: string | null;
  realm: string;
  isAdmin: boolean;
}

export function presentUser(user: User): CurrentUser {
  return {
    id: user.id,
    username: user.username,
    displayName: user.displayName || user.username,
    email: user.email,
    realm: user.realm,
    isAdmin: user.role === 'admin',
  };
}
