import type { Config } from '../../config/index.js';
import { deriveKey, hmacHex, randomToken } from './crypto.js';

/** API tokens look like `berth_` + 43 base64url characters (256 random bits). */
export const API_TOKEN_PREFIX = 'berth_';
const API_TOKEN_RE = /^berth_[A-Za-z0-9_-]{43}$/;
const SETUP_TOKEN_RE = /^[A-Za-z0-9_-]{43}$/;

export interface TokenKeys {
  /** Keys the HMAC stored for API tokens. */
  apiToken: Buffer;
  /** Keys the HMAC stored for set-password links. */
  passwordSetup: Buffer;
  /** Keys the HMAC stored for the "extend" links in expiry reminders. */
  extendLink: Buffer;
}

/** The HMAC keys, from API_TOKEN_SECRET or derived from SESSION_SECRET (each bound to its purpose). */
export function tokenKeys(config: Config): TokenKeys {
  const master = config.API_TOKEN_SECRET ?? config.SESSION_SECRET;
  return { apiToken: deriveKey(master, 'api-token'), passwordSetup: deriveKey(master, 'password-setup'), extendLink: deriveKey(master, 'extend-link') };
}

/** A new API token: the value shown once, its stored HMAC, and a hint (prefix) to tell tokens apart. */
export function generateApiToken(keys: TokenKeys): { token: string; tokenHash: string; hint: string } {
  const token = API_TOKEN_PREFIX + randomToken(32);
  return { token, tokenHash: hmacHex(keys.apiToken, token), hint: token.slice(0, 12) };
}

/** The stored form of a presented API token, or null when it is not even shaped like one. */
export function hashApiToken(keys: TokenKeys, token: string): string | null {
  return API_TOKEN_RE.test(token) ? hmacHex(keys.apiToken, token) : null;
}

/** A new set-password token (for the emailed link) and its stored HMAC. */
export function generateSetupToken(keys: TokenKeys): { token: string; hash: string } {
  const token = randomToken(32);
  return { token, hash: hmacHex(keys.passwordSetup, token) };
}

/** The stored form of a presented set-password token, or null when malformed. */
export function hashSetupToken(keys: TokenKeys, token: string): string | null {
  return SETUP_TOKEN_RE.test(token) ? hmacHex(keys.passwordSetup, token) : null;
}

/** A new "extend" link token and its stored HMAC. */
export function generateExtendToken(keys: TokenKeys): { token: string; hash: string } {
  const token = randomToken(32);
  return { token, hash: hmacHex(keys.extendLink, token) };
}

/** The stored form of a presented "extend" token, or null when malformed. */
export function hashExtendToken(keys: TokenKeys, token: string): string | null {
  return SETUP_TOKEN_RE.test(token) ? hmacHex(keys.extendLink, token) : null;
}
