import http from 'node:http';
import { sessionCookie } from './login.js';

export interface SseEvent {
  id?: string;
  event: string;
  data: string;
}

/** Logs in through the real form with fetch; returns the session cookie header. */
export async function loginCookie(baseUrl: string, username: string, password: string): Promise<string> {
  const page = await fetch(`${baseUrl}/login`);
  const cookie = sessionCookie(page.headers.getSetCookie()) ?? '';
  const token = /<meta name="csrf-token" content="([^"]+)">/.exec(await page.text())![1];
  const res = await fetch(`${baseUrl}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ username, password, _csrf: token }).toString(),
  });
  if (res.status !== 303) throw new Error(`login failed: ${res.status}`);
  return sessionCookie(res.headers.getSetCookie()) ?? cookie;
}

/**
 * Opens an SSE stream and calls `onEvent` per event; resolves when the server ends the stream or
 * `onEvent` returns 'stop' (the client then disconnects). Also resolves with the response headers.
 */
export function readSse(url: string, headers: Record<string, string>, onEvent: (e: SseEvent) => 'stop' | void): Promise<{ status: number; headers: http.IncomingHttpHeaders; comments: number }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers: { Accept: 'text/event-stream', ...headers } }, (res) => {
      let buf = '';
      let comments = 0;
      let done = false;
      const finish = () => {
        if (done) return;
        done = true;
        resolve({ status: res.statusCode ?? 0, headers: res.headers, comments });
      };
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        if (done) return;
        buf += chunk;
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const e: SseEvent = { event: 'message', data: '' };
          let isComment = true;
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) continue;
            isComment = false;
            const [field, ...rest] = line.split(':');
            const value = rest.join(':').replace(/^ /, '');
            if (field === 'id') e.id = value;
            else if (field === 'event') e.event = value;
            else if (field === 'data') e.data += value;
          }
          if (isComment) {
            comments++;
            continue;
          }
          if (!e.data && e.event === 'message') continue; // retry: line
          if (onEvent(e) === 'stop') {
            req.destroy();
            finish();
            return;
          }
        }
      });
      res.on('end', finish);
      res.on('close', finish);
    });
    req.on('error', (err) => (err.message === 'socket hang up' ? undefined : reject(err)));
  });
}
