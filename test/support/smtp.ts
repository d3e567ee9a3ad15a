import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { projectRoot } from '../../src/lib/paths.js';
import { track } from './resources.js';
import type { SmtpFault, SmtpProcessOptions } from './smtp-server-process.js';
import { makeCertificates, type TestCertificates } from './tls.js';

export type { SmtpFault };

export interface ReceivedMail {
  from: string;
  to: string[];
  subject: string;
  /** The raw message as received. */
  raw: string;
  /** The raw message with quoted-printable soft breaks and =XX escapes undone (good enough to find text and links). */
  text: string;
  /** The Message-ID header (Berth's is stable per outbox row, so a resend is recognisable). */
  messageId: string | null;
  /** Whether the session had been upgraded with STARTTLS. */
  secure: boolean;
  /** The authenticated user, if any. */
  user: string | null;
}

/** A refusal, hang or dropped connection the server produced (to wait for an attempt). */
export interface SmtpRejection {
  stage: 'auth' | 'rcpt' | 'data' | 'hang' | 'close';
  code: number;
}

export interface SmtpSink {
  port: number;
  messages: ReceivedMail[];
  /** Every refusal/hang/drop so far, in order. */
  rejections: SmtpRejection[];
  /** The CA that signed the server's certificate (with `tls: 'starttls'`). */
  certificates?: TestCertificates;
  /** Resolves with the first message (already received or arriving within `timeoutMs`) that matches. */
  waitFor(match: (m: ReceivedMail) => boolean, timeoutMs?: number): Promise<ReceivedMail>;
  /** Resolves once at least `count` rejections of `stage` (any stage when omitted) happened. */
  waitForRejections(count: number, stage?: SmtpRejection['stage'], timeoutMs?: number): Promise<void>;
  /** Changes how the server behaves from the next command on (`{kind: 'none'}`: normal again). */
  setFault(fault: SmtpFault): Promise<void>;
  /** Stops listening (clients get "connection refused"); `listen()` resumes on the same port. */
  stopListening(): Promise<void>;
  listen(): Promise<void>;
  close(): Promise<void>;
}

export interface SmtpServerOptions {
  /** 'starttls': STARTTLS offered and required before MAIL FROM, with a fresh test CA. Default 'none'. */
  tls?: 'starttls' | 'none';
  /** Require AUTH (PLAIN/LOGIN) with these credentials. */
  auth?: { user: string; pass: string };
  /** The behaviour from the start (default: accept everything). */
  fault?: SmtpFault;
}

/**
 * A real SMTP server (smtp-server) in a child process on 127.0.0.1 and a free port, that keeps every
 * message it accepts. Without options: no TLS, no auth, accepts everything (as before). Tracked: a
 * test that does not close it fails.
 */
export async function startSmtpServer(options: SmtpServerOptions = {}): Promise<SmtpSink> {
  const certificates = options.tls === 'starttls' ? await makeCertificates() : undefined;
  const child: ChildProcess = fork(path.join(projectRoot, 'test/support/smtp-server-process.ts'), [], {
    cwd: projectRoot,
    execArgv: ['--import', 'tsx'],
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' },
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  let stderr = '';
  child.stderr?.on('data', (d) => (stderr += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const messages: ReceivedMail[] = [];
  const rejections: SmtpRejection[] = [];
  const waiters = new Set<() => void>();
  const replies: Array<{ op: string; resolve: (m: { port?: number; error?: string }) => void }> = [];
  child.on('message', (m: { event?: string; mail?: ReceivedMail; stage?: SmtpRejection['stage']; code?: number; reply?: string; port?: number; error?: string }) => {
    if (m.event === 'mail') messages.push(m.mail!);
    else if (m.event === 'rejected') rejections.push({ stage: m.stage!, code: m.code! });
    else if (m.reply) {
      const i = replies.findIndex((r) => r.op === m.reply);
      if (i >= 0) replies.splice(i, 1)[0].resolve(m);
    }
    for (const w of [...waiters]) w();
  });

  const request = (op: string, extra: Record<string, unknown> = {}, timeoutMs = 30_000) =>
    new Promise<{ port?: number }>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`smtp server process did not answer '${op}': ${stderr}`)), timeoutMs);
      replies.push({ op, resolve: (m) => (clearTimeout(timer), m.error ? reject(new Error(m.error)) : resolve(m)) });
      child.send({ op, ...extra });
    });

  /** Waits until `check` returns a value (re-checked on every event from the child). */
  const until = <T>(check: () => T | undefined, timeoutMs: number, describe: () => string) => {
    const now = check();
    if (now !== undefined) return Promise.resolve(now);
    return new Promise<T>((resolve, reject) => {
      const waiter = () => {
        const value = check();
        if (value === undefined) return;
        waiters.delete(waiter);
        clearTimeout(timer);
        resolve(value);
      };
      const timer = setTimeout(() => (waiters.delete(waiter), reject(new Error(describe()))), timeoutMs);
      waiters.add(waiter);
    });
  };

  const processOptions: SmtpProcessOptions = { tls: options.tls ?? 'none', auth: options.auth, fault: options.fault, key: certificates?.key, cert: certificates?.cert };
  let port: number;
  try {
    ({ port } = (await request('init', { options: processOptions })) as { port: number });
  } catch (err) {
    child.kill('SIGKILL');
    await certificates?.cleanup();
    throw err;
  }
  const close = track(`smtp server :${port}`, async () => {
    child.kill('SIGKILL');
    await exited;
    await certificates?.cleanup();
  });
  return {
    port,
    messages,
    rejections,
    certificates,
    close,
    waitFor(match, timeoutMs = 5000) {
      return until(() => messages.find(match), timeoutMs, () => `no matching mail within ${timeoutMs} ms (got: ${messages.map((m) => m.subject).join(', ') || 'none'})`);
    },
    async waitForRejections(count, stage, timeoutMs = 10_000) {
      await until(() => (rejections.filter((r) => !stage || r.stage === stage).length >= count ? true : undefined), timeoutMs, () => `fewer than ${count} ${stage ?? ''} rejections within ${timeoutMs} ms (got: ${JSON.stringify(rejections)})`);
    },
    async setFault(fault) {
      await request('fault', { fault });
    },
    async stopListening() {
      await request('stop');
    },
    async listen() {
      await request('listen');
    },
  };
}
