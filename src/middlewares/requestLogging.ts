import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { pinoHttp } from 'pino-http';
import { redactUrl, type Logger } from '../lib/logger.js';

const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/**
 * One JSON line per request, and `req.log` for handlers, all carrying the request id. The id comes
 * from a trusted front proxy's X-Request-Id when it is well-formed, otherwise a new UUID; it is echoed
 * in the X-Request-Id response header so a user can quote it. The logged URL has its secret query
 * parameters blanked (redactUrl): `req.log` lines carry the same serialized request, so no line does.
 */
export function requestLogging(logger: Logger) {
  return pinoHttp({
    logger,
    genReqId(req: IncomingMessage, res) {
      const incoming = req.headers['x-request-id'];
      const id = typeof incoming === 'string' && SAFE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
      res.setHeader('X-Request-Id', id);
      return id;
    },
    customLogLevel(_req, res, err) {
      if (err || res.statusCode >= 500) return 'error';
      if (res.statusCode >= 400) return 'warn';
      return 'info';
    },
    autoLogging: { ignore: (req) => (req.url ?? '').startsWith('/css/') || (req.url ?? '').startsWith('/js/') },
    serializers: {
      req: (req) => ({ id: req.id, method: req.method, url: redactUrl(req.url ?? ''), remoteAddress: req.remoteAddress }),
      res: (res) => ({ statusCode: res.statusCode }),
    },
  });
}
