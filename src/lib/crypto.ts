import crypto from 'node:crypto';

/** A random, URL-safe token of `bytes` bytes of entropy (base64url, no padding). */
export function randomToken(bytes = 32): string {
  return crypto.randomBytes(bytes).toString('base64url');
}

/**
 * A purpose-bound key derived from a master secret (HMAC-SHA256(secret, purpose)), so one secret
 * can key several HMACs without one ever being usable for another.
 */
export function deriveKey(secret: string, purpose: string): Buffer {
  return crypto.createHmac('sha256', secret).update(`berth:${purpose}`).digest();
}

/** HMAC-SHA256 of `value`, hex. For high-entropy tokens a keyed fast hash is enough: no argon2 per request. */
export function hmacHex(key: Buffer, value: string): string {
  return crypto.createHmac('sha256', key).update(value).digest('hex');
}
