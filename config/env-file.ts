import fs from 'node:fs';

/** Variables that may hold secrets: each also accepts NAME_FILE, a path whose content is the value. */
export const SECRET_VARIABLES = ['SESSION_SECRET', 'DATABASE_URL', 'MYSQL_PASSWORD', 'SMTP_PASSWORD', 'API_TOKEN_SECRET', 'ENCRYPTION_KEY', 'ENCRYPTION_OLD_KEYS'] as const;

/**
 * Copies `env` and replaces every NAME_FILE of a secret variable by NAME with the file's content
 * (trailing newline trimmed), the way Docker and systemd credentials hand secrets over.
 * Problems (unreadable file, both NAME and NAME_FILE given) are pushed to `problems`.
 */
export function applySecretFiles(env: Record<string, string | undefined>, problems: string[]): Record<string, string | undefined> {
  const out = { ...env };
  for (const name of SECRET_VARIABLES) {
    const file = env[`${name}_FILE`];
    if (!file) continue;
    if (env[name]) {
      problems.push(`${name} and ${name}_FILE are both set: keep one`);
      continue;
    }
    try {
      out[name] = fs.readFileSync(file, 'utf8').replace(/\r?\n$/, '');
    } catch (err) {
      problems.push(`${name}_FILE: cannot read '${file}' (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  }
  return out;
}
