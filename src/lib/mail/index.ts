import path from 'node:path';
import ejs from 'ejs';
import type { Config } from '../../../config/index.js';
import { viewsDir } from '../paths.js';

const EMAIL_VIEWS = path.join(viewsDir, 'emails');

// Nothing sends from here: every email is queued in the outbox (src/notify/outbox.ts) in the
// transaction of its change and delivered by the job runner (src/notify/deliverer.ts), which uses
// these two pieces.

/** nodemailer's transport options for the configured TLS mode. */
export function smtpOptions(config: Config) {
  const timeout = config.SMTP_TIMEOUT_MS;
  return {
    host: config.SMTP_HOST,
    port: config.SMTP_PORT,
    // tls: implicit TLS from the first byte (465); starttls: plain connect, then STARTTLS is required;
    // none: never upgrade (a local relay on a trusted network, and tests).
    secure: config.SMTP_SECURE === 'tls',
    requireTLS: config.SMTP_SECURE === 'starttls',
    ignoreTLS: config.SMTP_SECURE === 'none',
    tls: { rejectUnauthorized: config.SMTP_TLS_VERIFY },
    auth: config.SMTP_USER ? { user: config.SMTP_USER, pass: config.SMTP_PASSWORD ?? '' } : undefined,
    connectionTimeout: timeout,
    greetingTimeout: timeout,
    socketTimeout: timeout,
  };
}

/** Renders `template` as HTML (escaped) and as plain text (not HTML-escaped: it is not HTML). */
export async function renderEmail(template: string, data: Record<string, unknown>): Promise<{ html: string; text: string }> {
  if (!/^[a-z0-9-]+$/.test(template)) throw new Error(`bad email template name '${template}'`);
  const html = await ejs.renderFile(path.join(EMAIL_VIEWS, `${template}.html.ejs`), data, { async: false });
  const text = await ejs.renderFile(path.join(EMAIL_VIEWS, `${template}.text.ejs`), data, { async: false, escape: (s: unknown) => (s == null ? '' : String(s)) });
  return { html, text };
}
