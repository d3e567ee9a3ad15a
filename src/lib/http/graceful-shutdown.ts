import type { Server } from 'node:http';
import type { Logger } from '../logger.js';

/**
 * On SIGTERM/SIGINT: stop accepting connections, let in-flight requests finish (idle keep-alive
 * connections are closed at once), then run `cleanup` (close the pool). Forces the exit after
 * `graceMs` so systemd's stop timeout is never reached.
 */
export function installGracefulShutdown(server: Server, logger: Logger, cleanup: () => Promise<void>, graceMs = 10_000): void {
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      logger.warn('requests still running after the grace period; closing them');
      server.closeAllConnections();
    }, graceMs);
    force.unref();
    server.close(async () => {
      clearTimeout(force);
      try {
        await cleanup();
        logger.info('stopped');
        process.exit(0);
      } catch (err) {
        logger.error({ err }, 'error during shutdown');
        process.exit(1);
      }
    });
    server.closeIdleConnections();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}
