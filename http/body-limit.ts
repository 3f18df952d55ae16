import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit as streamedBodyLimit } from 'hono/body-limit';

/**
 * Refuses request bodies over `maxSize` bytes. A Content-Length settles it from the header alone (Node's parser
 * never reads past it), so the body stays unread for the handler's fast `text()`; hono's own bodyLimit reaches
 * for `c.req.raw.body` first, which makes @hono/node-server build a WHATWG Request and stream on every request
 * (~20 µs). Chunked bodies are counted as they stream, by hono's middleware.
 */
export function bodyLimit(maxSize: number, onError: (c: Context) => Response): MiddlewareHandler {
  const streamed = streamedBodyLimit({ maxSize, onError });
  return async (c, next) => {
    const method = c.req.method;
    if (method === 'GET' || method === 'HEAD') return next();
    const length = c.req.header('content-length');
    if (length === undefined || !/^\d+$/.test(length) || c.req.header('transfer-encoding') !== undefined) return streamed(c, next);
    return Number(length) > maxSize ? onError(c) : next();
  };
}
