/**
 * `overrides` without its undefined values, so that `createUser({ username })` with `username`
 * undefined keeps the factory's default instead of writing NULL over it (a spread copies undefined).
 */
export function withoutUndefined<T extends object>(overrides: T): T {
  return Object.fromEntries(Object.entries(overrides).filter(([, value]) => value !== undefined)) as T;
}
