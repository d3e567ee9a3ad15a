// Development only (`npm run demo`): `smtp-server` is a devDependency, so nothing the server or the
// job runner loads may import this module.
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { SMTPServer } from 'smtp-server';

/** One message the catcher received, decoded enough for a person to read it. */
export interface CaughtMail {
  from: string;
  to: string[];
  subject: string;
  /** The text/plain part (or the HTML part with its tags removed), decoded. */
  text: string;
  /** Where the raw message was saved (.eml, opens in any mail client). */
  file: string;
}

export interface MailCatcher {
  host: string;
  port: number;
  /** The folder the .eml files go to. */
  dir: string;
  close(): Promise<void>;
}

export interface MailCatcherOptions {
  /** Folder for the .eml files (created private: the mails carry one-time password links). */
  dir: string;
  host?: string;
  /** 0 (default): a free port. */
  port?: number;
  onMail(mail: CaughtMail): void;
}

/**
 * An SMTP server without TLS or auth that accepts every message, saves it as an .eml file and hands
 * it, decoded, to `onMail`. It delivers nothing onwards: the demo's mail never leaves the machine.
 */
export async function startMailCatcher(options: MailCatcherOptions): Promise<MailCatcher> {
  fs.mkdirSync(options.dir, { recursive: true, mode: 0o700 });
  let seq = 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    banner: 'Berth demo mail catcher',
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('error', callback);
      stream.on('end', () => {
        try {
          const raw = Buffer.concat(chunks).toString('utf8');
          const parsed = parseMessage(raw);
          const stamp = new Date().toISOString().replace(/[:.]/g, '-');
          const slug = parsed.subject.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40) || 'mail';
          const file = path.join(options.dir, `${stamp}-${String(++seq).padStart(3, '0')}-${slug}.eml`);
          fs.writeFileSync(file, raw, { mode: 0o600 });
          options.onMail({
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
            subject: parsed.subject,
            text: parsed.text,
            file,
          });
          callback();
        } catch (err) {
          callback(err as Error);
        }
      });
    },
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const port = (server.server.address() as AddressInfo).port;
  return { host, port, dir: options.dir, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** The mail as a block of console text: who, what, and the body with its links. */
export function formatMail(mail: CaughtMail): string {
  const rule = '─'.repeat(72);
  return [rule, `Mail to ${mail.to.join(', ')}  (saved as ${mail.file})`, `From:    ${mail.from}`, `Subject: ${mail.subject}`, '', mail.text.trim(), rule].join('\n');
}

// A small MIME reader: enough for what nodemailer sends (multipart/alternative, quoted-printable or
// base64 parts, RFC 2047 subjects); anything stranger is still saved whole in the .eml file.

interface Part {
  headers: Record<string, string>;
  body: string;
}

function splitPart(raw: string): Part {
  const m = /\r?\n\r?\n/.exec(raw);
  const head = m ? raw.slice(0, m.index) : raw;
  const body = m ? raw.slice(m.index + m[0].length) : '';
  const headers: Record<string, string> = {};
  for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] ??= line.slice(colon + 1).trim();
  }
  return { headers, body };
}

function decodeQuotedPrintable(text: string): Buffer {
  const soft = text.replace(/=\r?\n/g, '');
  const bytes: number[] = [];
  for (let i = 0; i < soft.length; i++) {
    if (soft[i] === '=' && /^[0-9A-Fa-f]{2}$/.test(soft.slice(i + 1, i + 3))) {
      bytes.push(parseInt(soft.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(soft[i], 'utf8'));
    }
  }
  return Buffer.from(bytes);
}

function decodeBody(part: Part): string {
  const encoding = (part.headers['content-transfer-encoding'] ?? '').toLowerCase();
  if (encoding === 'quoted-printable') return decodeQuotedPrintable(part.body).toString('utf8');
  if (encoding === 'base64') return Buffer.from(part.body.replace(/\s+/g, ''), 'base64').toString('utf8');
  return part.body;
}

/** Decodes RFC 2047 encoded words (=?UTF-8?Q?...?= and =?UTF-8?B?...?=). */
function decodeWords(value: string): string {
  return value
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?[^?]+\?([QqBb])\?([^?]*)\?=/g, (_m, enc: string, data: string) =>
      enc.toUpperCase() === 'B' ? Buffer.from(data, 'base64').toString('utf8') : decodeQuotedPrintable(data.replace(/_/g, ' ')).toString('utf8'),
    );
}

function findText(part: Part): { type: 'plain' | 'html'; text: string } | null {
  const type = (part.headers['content-type'] ?? 'text/plain').toLowerCase();
  if (type.startsWith('multipart/')) {
    const boundary = /boundary="?([^";]+)"?/i.exec(part.headers['content-type'])?.[1];
    if (!boundary) return null;
    const found = part.body
      .split(`--${boundary}`)
      .slice(1)
      .filter((p) => !p.startsWith('--'))
      .map((p) => findText(splitPart(p.replace(/^\r?\n/, ''))))
      .filter((t) => t !== null);
    return found.find((t) => t.type === 'plain') ?? found[0] ?? null;
  }
  if (type.startsWith('text/plain')) return { type: 'plain', text: decodeBody(part) };
  if (type.startsWith('text/html')) {
    const html = decodeBody(part);
    // Keep each link's address next to its words, so it can still be followed from the console.
    const text = html
      .replace(/<a\s[^>]*href="([^"]*)"[^>]*>(.*?)<\/a>/gis, '$2 ($1)')
      .replace(/<[^>]+>/g, '')
      .replace(/&amp;/g, '&')
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&quot;/g, '"')
      .replace(/&#39;/g, "'");
    return { type: 'html', text };
  }
  return null;
}

/** The subject and readable text of a raw RFC 5322 message. */
export function parseMessage(raw: string): { subject: string; text: string } {
  const top = splitPart(raw);
  return { subject: decodeWords(top.headers.subject ?? ''), text: (findText(top)?.text ?? top.body).replace(/\r\n/g, '\n') };
}
