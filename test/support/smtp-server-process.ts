// A real SMTP server (smtp-server) in its own process, driven by test/support/smtp.ts over the IPC
// channel. It lives in a separate process so a test can make it misbehave the way a remote server
// does (refuse, hang after DATA, drop the connection mid-message, stop listening) without the test's
// own event loop being the one that hangs, and so SIGKILL-style faults are real.
//
// Protocol (parent → child): {op: 'init', options}, {op: 'fault', fault}, {op: 'stop'}, {op: 'listen'},
// each answered with {reply: <op>, port?}. Child → parent: {event: 'mail', mail} for every accepted
// message and {event: 'rejected', stage, code} for every refusal (to let tests wait for an attempt).
import type { Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerOptions, type SMTPServerSession } from 'smtp-server';

export type SmtpFault =
  | { kind: 'none' }
  /** Answer RCPT TO (stage 'rcpt', the default) or the end of DATA (stage 'data') with `code`. */
  | { kind: 'refuse'; code: number; stage?: 'rcpt' | 'data'; times?: number }
  /** Read the whole message, then never answer it. */
  | { kind: 'hang'; times?: number }
  /** Drop the connection after the first chunk of the message. */
  | { kind: 'close'; times?: number };

export interface SmtpProcessOptions {
  tls?: 'starttls' | 'none';
  auth?: { user: string; pass: string };
  fault?: SmtpFault;
  /** PEM key and certificate (required for starttls). */
  key?: string;
  cert?: string;
}

type Request = { op: 'init'; options: SmtpProcessOptions } | { op: 'fault'; fault: SmtpFault } | { op: 'stop' } | { op: 'listen' };

const send = (message: unknown) => process.send?.(message);

let options: SmtpProcessOptions = {};
let fault: SmtpFault = { kind: 'none' };
/** How many more times the current fault applies (Infinity: until changed). */
let faultLeft = Infinity;
let server: SMTPServer | undefined;
let port = 0;

function setFault(next: SmtpFault | undefined) {
  fault = next ?? { kind: 'none' };
  faultLeft = fault.kind !== 'none' && fault.times !== undefined ? fault.times : Infinity;
}

/** True (and one use spent) when the current fault applies to this attempt. */
function takeFault(kind: SmtpFault['kind'], stage?: 'rcpt' | 'data'): boolean {
  if (fault.kind !== kind || faultLeft <= 0) return false;
  if (fault.kind === 'refuse' && (fault.stage ?? 'rcpt') !== stage) return false;
  faultLeft--;
  return true;
}

function refusal(code: number): Error {
  const err = new Error(code >= 500 ? 'Mailbox refused by the test server' : 'Try again later (test server)') as Error & { responseCode: number };
  err.responseCode = code;
  return err;
}

function decodeQuotedPrintable(raw: string): string {
  return raw.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

function socketOf(srv: SMTPServer, session: SMTPServerSession): Socket | undefined {
  // smtp-server keeps its connections (id = session id) with their socket; there is no public API to
  // drop one from inside onData, which is exactly the fault we want to simulate.
  const connections = (srv as unknown as { connections: Set<{ id: string; _socket: Socket }> }).connections;
  for (const c of connections) if (c.id === session.id) return c._socket;
  return undefined;
}

function build(): SMTPServer {
  const starttls = options.tls === 'starttls';
  const config: SMTPServerOptions = {
    logger: false,
    secure: false,
    ...(starttls ? { key: options.key, cert: options.cert } : {}),
    disabledCommands: [...(starttls ? [] : ['STARTTLS']), ...(options.auth ? [] : ['AUTH'])],
    authOptional: !options.auth,
    // With STARTTLS on, AUTH is only offered after the upgrade (as a real submission server does).
    allowInsecureAuth: !starttls,
    onAuth(auth, _session, callback) {
      if (options.auth && auth.username === options.auth.user && auth.password === options.auth.pass) return callback(null, { user: auth.username });
      send({ event: 'rejected', stage: 'auth', code: 535 });
      return callback(Object.assign(new Error('Invalid username or password'), { responseCode: 535 }));
    },
    onMailFrom(_address, session, callback) {
      if (starttls && !session.secure) return callback(Object.assign(new Error('Must issue a STARTTLS command first'), { responseCode: 530 }));
      callback();
    },
    onRcptTo(_address, _session, callback) {
      if (fault.kind === 'refuse' && takeFault('refuse', 'rcpt')) {
        send({ event: 'rejected', stage: 'rcpt', code: fault.code });
        return callback(refusal(fault.code));
      }
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      if (takeFault('close')) {
        stream.once('data', () => {
          send({ event: 'rejected', stage: 'close', code: 0 });
          socketOf(srv, session)?.destroy();
        });
        stream.resume();
        return;
      }
      const hang = takeFault('hang');
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        if (hang) {
          send({ event: 'rejected', stage: 'hang', code: 0 });
          return; // never answer: the client's socket timeout is what ends this
        }
        if (fault.kind === 'refuse' && takeFault('refuse', 'data')) {
          send({ event: 'rejected', stage: 'data', code: fault.code });
          return callback(refusal(fault.code));
        }
        const raw = Buffer.concat(chunks).toString('utf8');
        send({
          event: 'mail',
          mail: {
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
            subject: /^Subject: (.*)$/im.exec(raw)?.[1]?.trim() ?? '',
            raw,
            text: decodeQuotedPrintable(raw),
            messageId: /^Message-ID: *(<[^>]*>)/im.exec(raw)?.[1] ?? null,
            secure: Boolean(session.secure),
            user: (session.user as string | undefined) ?? null,
          },
        });
        callback();
      });
    },
  };
  const srv = new SMTPServer({ ...config, closeTimeout: 200 } as SMTPServerOptions);
  srv.on('error', () => {}); // a client dropping its socket is routine here
  return srv;
}

async function listen(): Promise<number> {
  server = build();
  await new Promise<void>((resolve, reject) => {
    server!.server.once('error', reject);
    server!.listen(port, '127.0.0.1', () => resolve());
  });
  port = (server.server.address() as AddressInfo).port;
  return port;
}

async function stopListening(): Promise<void> {
  const srv = server;
  server = undefined;
  if (srv) await new Promise<void>((resolve) => srv.close(() => resolve()));
}

process.on('message', (request: Request) => {
  void (async () => {
    switch (request.op) {
      case 'init':
        options = request.options;
        setFault(options.fault);
        return send({ reply: 'init', port: await listen() });
      case 'fault':
        setFault(request.fault);
        return send({ reply: 'fault' });
      case 'stop':
        await stopListening();
        return send({ reply: 'stop' });
      case 'listen':
        if (!server) await listen();
        return send({ reply: 'listen', port });
    }
  })().catch((err: Error) => send({ reply: request.op, error: err.message }));
});
// The parent going away (test ended, or killed) ends this process too.
process.on('disconnect', () => process.exit(0));
