import type { Request, Response } from 'express';

export interface SseOptions {
  /** Comment line sent when nothing else was sent for this long (proxies close idle connections). */
  keepAliveMs?: number;
  /** Reconnection delay suggested to EventSource. */
  retryMs?: number;
}

/**
 * One Server-Sent Events response: the headers (no caching, no proxy buffering), events written with
 * backpressure (`send` resolves once the socket has taken the data), keep-alive comments, and a
 * `closed` flag set when the client goes away.
 */
export class SseStream {
  closed = false;
  private keepAlive: NodeJS.Timeout;
  private drainWaiters: Array<() => void> = [];
  private lastWrite = Date.now();
  private readonly closeListeners: Array<() => void> = [];

  constructor(private readonly req: Request, private readonly res: Response, options: SseOptions = {}) {
    res.status(200);
    res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
    res.setHeader('Cache-Control', 'no-cache, no-transform');
    res.setHeader('Connection', 'keep-alive');
    res.setHeader('X-Accel-Buffering', 'no');
    res.flushHeaders();
    res.socket?.setNoDelay(true);
    res.write(`retry: ${options.retryMs ?? 2000}\n\n`);
    const keepAliveMs = options.keepAliveMs ?? 15_000;
    this.keepAlive = setInterval(() => {
      if (!this.closed && !res.writableNeedDrain && Date.now() - this.lastWrite >= keepAliveMs - 50) this.write(': keep-alive\n\n');
    }, keepAliveMs);
    res.on('drain', () => this.flushWaiters());
    const onClose = () => this.markClosed();
    req.on('close', onClose);
    res.on('close', onClose);
    res.on('error', onClose);
  }

  onClose(listener: () => void): void {
    if (this.closed) listener();
    else this.closeListeners.push(listener);
  }

  /** Writes one event; resolves when the socket can take more (backpressure), or at once if closed. */
  async send(event: string, data: unknown, id?: string | number): Promise<void> {
    if (this.closed) return;
    const json = JSON.stringify(data);
    const ok = this.write(`${id !== undefined ? `id: ${id}\n` : ''}event: ${event}\ndata: ${json}\n\n`);
    if (!ok && !this.closed) await new Promise<void>((resolve) => this.drainWaiters.push(resolve));
  }

  end(): void {
    if (!this.closed) this.res.end();
    this.markClosed();
  }

  private write(chunk: string): boolean {
    this.lastWrite = Date.now();
    return this.res.write(chunk);
  }

  private flushWaiters(): void {
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const w of waiters) w();
  }

  private markClosed(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.keepAlive);
    this.flushWaiters();
    for (const l of this.closeListeners.splice(0)) l();
  }
}
