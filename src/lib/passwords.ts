import argon2 from 'argon2';

// OWASP's argon2id baseline (19 MiB, 2 passes): about 30 ms here, cheap for a login, costly for a cracker.
const OPTIONS = { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export const MIN_PASSWORD_LENGTH = 12;

/** Hashes a password with argon2id (salt and parameters are inside the encoded hash). */
export function hashPassword(password: string): Promise<string> {
  return argon2.hash(password, OPTIONS);
}

let dummyHash: Promise<string> | undefined;

/**
 * Verifies `password` against `hash`. With no hash (unknown user, Proxmox account) it still runs one
 * argon2 verification, so response times do not reveal which usernames exist.
 */
export async function verifyPassword(hash: string | null | undefined, password: string): Promise<boolean> {
  if (!hash) {
    dummyHash ??= hashPassword('no-such-user-dummy-password');
    await argon2.verify(await dummyHash, password).catch(() => false);
    return false;
  }
  return argon2.verify(hash, password).catch(() => false);
}
