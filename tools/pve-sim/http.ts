// Wire format of pve-api-daemon answers: the exact content type (the proxmox-api package compares
// it byte for byte), the `{"data":...}` envelope, reason phrases taken from the error message,
// `Connection: close` on errors, and 401s and pveproxy's 595s with an empty body and no content type.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ParamValue } from './validator.js';

export const CONTENT_TYPE = 'application/json;charset=UTF-8';

function baseHeaders(res: ServerResponse): void {
  res.setHeader('Server', 'pve-api-daemon/3.0');
  res.setHeader('Cache-Control', 'max-age=0');
  res.setHeader('Pragma', 'no-cache');
  res.setHeader('Expires', new Date().toUTCString());
}

/** A reason phrase Node accepts: first line only, no CR/LF, Latin-1 printable. */
export function reasonPhrase(message: string): string {
  const first = message.split('\n')[0].replace(/\r/g, '');
  return first.replace(/[^\x20-\x7e\xa0-\xff]/g, '?') || 'Error';
}

function writeJson(res: ServerResponse, status: number, reason: string, body: unknown): void {
  baseHeaders(res);
  const buf = Buffer.from(JSON.stringify(body), 'utf8');
  res.statusCode = status;
  res.statusMessage = reason;
  res.setHeader('Content-Type', CONTENT_TYPE);
  res.setHeader('Content-Length', String(buf.length));
  if (status >= 400) res.setHeader('Connection', 'close');
  res.end(buf);
}

/** 200 with `{"data": ...}` (plus `total` for counted lists). */
export function sendData(res: ServerResponse, data: unknown, total?: number): void {
  writeJson(res, 200, 'OK', total === undefined ? { data } : { data, total });
}

/** An error raised by a handler: reason phrase from the message, body with `message` and `errors`. */
export function sendError(res: ServerResponse, status: number, message: string, errors?: Record<string, string>): void {
  const body: Record<string, unknown> = { data: null, message };
  if (errors) body.errors = errors;
  writeJson(res, status, reasonPhrase(message), body);
}

/** A status line only: empty body, no content type, `Connection: close`. */
export function sendBare(res: ServerResponse, status: number, reason: string): void {
  baseHeaders(res);
  res.statusCode = status;
  res.statusMessage = reasonPhrase(reason);
  res.setHeader('Content-Length', '0');
  res.setHeader('Connection', 'close');
  res.end();
}

/** An authentication failure: status line only, empty body, no content type. */
export function sendUnauthorized(res: ServerResponse, reason: string): void {
  sendBare(res, 401, reason);
}

/** Read the whole request body. */
export async function readBody(req: IncomingMessage, limit = 1024 * 1024): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new Error('request body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** Add a key to a parameter map; a repeated key becomes an array, as in PVE's request parsing. */
function put(params: Record<string, ParamValue>, k: string, v: ParamValue): void {
  if (!(k in params)) params[k] = v;
  else if (Array.isArray(params[k])) (params[k] as ParamValue[]).push(v);
  else params[k] = [params[k], v];
}

/** Query-string parameters. */
export function queryParams(search: URLSearchParams): Record<string, ParamValue> {
  const out: Record<string, ParamValue> = {};
  for (const [k, v] of search) put(out, k, v);
  return out;
}

/**
 * Body parameters: form-encoded (the usual) or JSON. Query parameters are merged in by the caller.
 */
export function bodyParams(body: Buffer, contentType: string | undefined): Record<string, ParamValue> {
  if (!body.length) return {};
  const text = body.toString('utf8');
  if (/^application\/json\b/i.test(contentType ?? '')) {
    const parsed: unknown = JSON.parse(text);
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('JSON body must be an object');
    return parsed as Record<string, ParamValue>;
  }
  return queryParams(new URLSearchParams(text));
}
