import net from 'node:net';
import { track } from './resources.js';

export interface TcpProxy {
  port: number;
  /** Drops every connection and refuses new ones (the database "goes away"; the client notices at once). */
  cut(): Promise<void>;
  /**
   * From now on every byte, both ways, on every open and new connection is swallowed, and nothing is
   * closed: no RST, no FIN, as when a firewall or a dead NAT entry eats the packets. The client
   * notices only through its own timeouts.
   */
  blackhole(): void;
  /** Accepts and forwards new connections again (after a cut or a black hole); blackholed ones stay dead. */
  restore(): Promise<void>;
  close(): Promise<void>;
}

/** A loopback TCP proxy to `target` that a test can cut, blackhole and restore. Tracked until closed. */
export async function startTcpProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  const sockets = new Set<net.Socket>();
  const links = new Set<{ dead: boolean }>();
  let swallowing = false;
  let server: net.Server | null = null;
  let port = 0;
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      server = net.createServer((client) => {
        const link = { dead: swallowing };
        links.add(link);
        const upstream = net.connect(targetPort, targetHost);
        sockets.add(client).add(upstream);
        const drop = () => {
          client.destroy();
          upstream.destroy();
          sockets.delete(client);
          sockets.delete(upstream);
          links.delete(link);
        };
        client.on('error', drop).on('close', drop);
        upstream.on('error', drop).on('close', drop);
        client.on('data', (chunk) => link.dead || upstream.write(chunk));
        upstream.on('data', (chunk) => link.dead || client.write(chunk));
      });
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        port = (server!.address() as net.AddressInfo).port;
        resolve();
      });
    });
  const stop = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      sockets.clear();
      links.clear();
      if (!server) return resolve();
      server.close(() => resolve());
      server = null;
    });
  await listen();
  const untrack = track(`tcp proxy ${port}`, stop);
  return {
    port,
    cut: stop,
    blackhole() {
      swallowing = true;
      for (const link of links) link.dead = true;
    },
    async restore() {
      swallowing = false;
      if (!server) await listen();
    },
    close: untrack,
  };
}
