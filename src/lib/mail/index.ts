import path from 'node:path';
import ejs from 'ejs';
import nodemailer, { type Transporter } from 'nodemailer';
import type { Config } from '../../../config/index.js';
import type { Logger } from '../logger.js';
import { viewsDir } from '../paths.js';

const EMAIL_VIEWS = path.join(viewsDir, 'emails');

export interface MailMessage {
  to: string | string[];
  subject: string;
  /** Name under views/emails/: `<template>.html.ejs` and `<template>.text.ejs` are both rendered. */
  template: string;
  data?: Record<string, unknown>;
}

export interface SendResult {
  sent: boolean;
  /** Why nothing was sent: 'disabled' (no SMTP_HOST), 'no-recipient', or the SMTP error's message. */
  reason?: string;
}

export interface Mailer {
  /** True when SMTP_HOST is configured. */
  readonly enabled: boolean;
  /**
   * Renders and sends one message. Never throws: a failure (SMTP down, refused recipient) is
   * logged with its reason and reported in the result, so a request that sends mail never fails
   * because of it.
   */
  send(message: MailMessage): Promise<SendResult>;
}

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

/** Berth's mail service (nodemailer over SMTP, settings from config). */
export function createMailer(config: Config, logger: Logger): Mailer {
  const enabled = Boolean(config.SMTP_HOST);
  let transport: Transporter | undefined;
  return {
    enabled,
    async send(message) {
      const to = (Array.isArray(message.to) ? message.to : [message.to]).filter(Boolean);
      const where = { template: message.template, to };
      if (!to.length) {
        logger.warn(where, 'mail not sent: no recipient');
        return { sent: false, reason: 'no-recipient' };
      }
      if (!enabled) {
        logger.warn(where, 'mail not sent: SMTP_HOST is not configured');
        return { sent: false, reason: 'disabled' };
      }
      try {
        const { html, text } = await renderEmail(message.template, { publicUrl: config.publicUrl, ...message.data });
        transport ??= nodemailer.createTransport(smtpOptions(config));
        // A subject built from user input must stay on one line.
        const subject = message.subject.replace(/[\r\n]+/g, ' ').slice(0, 200);
        const info = await transport.sendMail({ from: config.MAIL_FROM, to, subject, html, text });
        logger.info({ ...where, messageId: info.messageId }, 'mail sent');
        return { sent: true };
      } catch (err) {
        const reason = (err as Error).message || String(err);
        logger.error({ ...where, reason, code: (err as { code?: string }).code }, 'mail not sent');
        return { sent: false, reason };
      }
    },
  };
}

const shared = new WeakMap<Config, Mailer>();

/** One mailer per configuration (one SMTP transport shared by the app's routers). */
export function mailerFor(config: Config, logger: Logger): Mailer {
  let mailer = shared.get(config);
  if (!mailer) shared.set(config, (mailer = createMailer(config, logger)));
  return mailer;
}
