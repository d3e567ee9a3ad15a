// RFC 6238 TOTP (HMAC-SHA1, 6 digits, 30 s steps), as proxmox-tfa checks it, so the simulator can
// hold a second factor for a user and tests can compute the code on the simulator's clock.
import { createHmac } from 'node:crypto';

export const TOTP_STEP_S = 30;

/** Decode RFC 4648 base32 (upper or lower case, padding optional). */
export function base32Decode(text: string): Buffer {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const clean = text.toUpperCase().replace(/=+$/, '');
  let bits = 0;
  let value = 0;
  const out: number[] = [];
  for (const ch of clean) {
    const i = alphabet.indexOf(ch);
    if (i < 0) throw new Error(`not base32: ${ch}`);
    value = (value << 5) | i;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** The 6-digit code of a base32 secret for time step `step` (unix seconds / 30). */
export function totpAt(secret: string, step: number): string {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const mac = createHmac('sha1', base32Decode(secret)).update(counter).digest();
  const off = mac[mac.length - 1] & 0x0f;
  const n = (mac.readUInt32BE(off) & 0x7fffffff) % 1_000_000;
  return String(n).padStart(6, '0');
}

/** The code for unix time `seconds`. */
export function totpCode(secret: string, seconds: number): string {
  return totpAt(secret, Math.floor(seconds / TOTP_STEP_S));
}
