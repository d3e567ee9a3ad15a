import crypto from 'node:crypto';
import type { Config } from '../../config/index.js';

/**
 * The credential vault's cipher: AES-256-GCM with a random 96-bit nonce per value. A sealed value is
 * one string, `v1:<keyId>:<nonce>:<ciphertext>:<tag>` (base64url parts), so the key that sealed it
 * travels with it and keys can rotate: the current key seals, every known key opens, and
 * `bin/rotate-key` re-seals what an old key sealed. The `purpose` is bound as additional
 * authenticated data, so a node token cannot be pasted in place of a credential and opened as one.
 */

const VERSION = 'v1';
const NONCE_BYTES = 12;

export class VaultError extends Error {
  override name = 'VaultError';
}

export interface VaultKey {
  id: string;
  key: Buffer;
}

/** Parses a 256-bit key given as base64 (44 characters) or hex (64 characters). */
export function parseKey(text: string): VaultKey {
  const t = text.trim();
  let key: Buffer | undefined;
  if (/^[0-9a-fA-F]{64}$/.test(t)) key = Buffer.from(t, 'hex');
  else if (/^[A-Za-z0-9+/_-]{43}=?$/.test(t)) key = Buffer.from(t, 'base64');
  if (!key || key.length !== 32) throw new VaultError('an encryption key must be 32 bytes, as base64 (44 characters) or hex (64); generate one with: openssl rand -base64 32');
  return { id: keyIdOf(key), key };
}

/** A short public name for a key: the first 8 bytes of SHA-256 over it, hex. Reveals nothing usable. */
export function keyIdOf(key: Buffer): string {
  return crypto.createHash('sha256').update('berth-vault-key-id:').update(key).digest('hex').slice(0, 16);
}

export class Vault {
  private readonly keys = new Map<string, Buffer>();

  constructor(
    readonly current: VaultKey,
    previous: VaultKey[] = [],
  ) {
    for (const k of [current, ...previous]) this.keys.set(k.id, k.key);
  }

  /** The vault for a configuration: ENCRYPTION_KEY seals, ENCRYPTION_OLD_KEYS (comma-separated) still open. */
  static fromConfig(config: Pick<Config, 'ENCRYPTION_KEY' | 'ENCRYPTION_OLD_KEYS'>): Vault {
    const old = (config.ENCRYPTION_OLD_KEYS ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    return new Vault(parseKey(config.ENCRYPTION_KEY), old.map(parseKey));
  }

  get keyId(): string {
    return this.current.id;
  }

  seal(plaintext: string, purpose: string): string {
    const nonce = crypto.randomBytes(NONCE_BYTES);
    const cipher = crypto.createCipheriv('aes-256-gcm', this.current.key, nonce);
    cipher.setAAD(Buffer.from(purpose));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [VERSION, this.current.id, nonce.toString('base64url'), body.toString('base64url'), cipher.getAuthTag().toString('base64url')].join(':');
  }

  open(sealed: string, purpose: string): string {
    const parts = sealed.split(':');
    if (parts.length !== 5 || parts[0] !== VERSION) throw new VaultError('not a sealed value');
    const [, keyId, nonce, body, tag] = parts as [string, string, string, string, string];
    const key = this.keys.get(keyId);
    if (!key) throw new VaultError(`sealed with key ${keyId}, which is not configured (add it to ENCRYPTION_OLD_KEYS)`);
    const decipher = crypto.createDecipheriv('aes-256-gcm', key, Buffer.from(nonce, 'base64url'));
    decipher.setAAD(Buffer.from(purpose));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    try {
      return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
    } catch {
      throw new VaultError('the sealed value does not authenticate (tampered, or the wrong purpose)');
    }
  }

  /** The key id a sealed value names (without opening it). */
  static keyIdOfSealed(sealed: string): string | undefined {
    return sealed.split(':')[1];
  }

  /** True when `sealed` was sealed with another key than the current one. */
  needsRotation(sealed: string): boolean {
    return Vault.keyIdOfSealed(sealed) !== this.current.id;
  }
}
