/**
 * Returns `target` when it is a path on this site, otherwise `fallback`. Rejects absolute URLs,
 * protocol-relative `//host`, backslash tricks (`/\host`) and control characters, so a crafted
 * `?next=` can never send a user to another site after login.
 */
export function safeRedirectPath(target: unknown, fallback = '/'): string {
  if (typeof target !== 'string' || target.length > 2000) return fallback;
  if (!target.startsWith('/') || target.startsWith('//') || target.startsWith('/\\')) return fallback;
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused here
  if (/[\u0000-\u001f\u007f\\]/.test(target)) return fallback;
  return target;
}
