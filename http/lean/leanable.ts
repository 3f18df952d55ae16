import type { IncomingMessage } from 'node:http';

/** The Host values @hono/node-server takes as they are (others it parses, or refuses). */
const PLAIN_HOST = /^[a-z0-9._-]+(?::(?:[1-5]\d{3,4}|[6-9]\d{3}))?$/;

/**
 * Headers Node keeps once (it drops the repeats) where the app's WHATWG Headers joins them: a repeat would be
 * read differently, so such a request goes to the app.
 */
const READ_ONCE = new Set(['authorization', 'content-type', 'user-agent']);

/**
 * Whether the lean routes answer this request exactly as the app would: a body of a stated length (a chunked
 * one is counted by the app's streaming limit), a plain Host (the app builds its URL from it) and no repeated
 * header of those it reads.
 */
export function leanable(req: IncomingMessage): boolean {
  const { headers } = req;
  if (headers['transfer-encoding'] !== undefined || !/^\d+$/.test(headers['content-length'] ?? '')) return false;
  if (headers.host === undefined || !PLAIN_HOST.test(headers.host)) return false;
  return !repeats(req.rawHeaders);
}

function repeats(raw: readonly string[]): boolean {
  let seen = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (!READ_ONCE.has(name)) continue;
    const bit = name === 'authorization' ? 1 : name === 'content-type' ? 2 : 4;
    if (seen & bit) return true;
    seen |= bit;
  }
  return false;
}
