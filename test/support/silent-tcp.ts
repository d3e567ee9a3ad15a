import net from 'node:net';
import { track } from './resources.js';

/** A loopback TCP server that accepts every connection and never sends a byte (a hung node). */
export interface SilentServer {
  port: number;
  url(scheme?: 'http' | 'https'): string;
  /** Connections accepted so far. */
  accepted(): number;
  close(): Promise<void>;
}

/** Starts a SilentServer on 127.0.0.1, tracked until closed. */
export async function startSilentServer(): Promise<SilentServer> {
  const sockets = new Set<net.Socket>();
  let accepted = 0;
  const server = net.createServer((socket) => {
    accepted++;
    sockets.add(socket);
    socket.on('error', () => {}).on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  const close = track(`silent tcp server :${port}`, () => new Promise<void>((resolve) => {
    for (const s of sockets) s.destroy();
    server.close(() => resolve());
  }));
  return { port, url: (scheme = 'http') => `${scheme}://127.0.0.1:${port}`, accepted: () => accepted, close };
}

/** A loopback port that refuses every connection, held until `close()`. */
export interface RefusedPort {
  port: number;
  close(): Promise<void>;
}

/**
 * A loopback port that refuses connections for as long as it is held: the port of a listener that
 * was closed while a connection it had accepted stays open. Nothing listens on it any more, so a
 * connection to it is answered with a reset (ECONNREFUSED); the accepted socket keeps it bound, so
 * listen(0) never picks it, and connect()'s choice of a source port skips it (a port in use for the
 * same local address), so no socket connects to itself through it. (The local port of a client
 * connection is not safe: connect() may choose it as another client's source port, and a
 * connection to it then becomes a TCP self-connect.) A port bound and then released could be taken
 * by another test's server in between, and the connection would not be refused.
 */
export async function refusedPort(): Promise<RefusedPort> {
  const server = net.createServer();
  const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  const client = net.connect(port, '127.0.0.1');
  client.on('error', () => {});
  await new Promise<void>((resolve, reject) => client.once('connect', resolve).once('error', reject));
  const held = await accepted;
  held.on('error', () => {});
  // The listener goes now (its socket is closed at once; the callback would wait for `held`).
  server.close();
  const close = track(`refused port :${port}`, async () => {
    client.destroy();
    held.destroy();
  });
  return { port, close };
}
