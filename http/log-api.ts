import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Hono } from 'hono';
import { readTileAt, TileMissingError } from '../receipts/client/index.ts';
import { parseTilePath } from '../receipts/index.ts';
import { problem } from './problem.ts';

/**
 * The receipt log, read-only, as static C2SP tlog-tiles files (design §4): `GET /log/checkpoint` and
 * `GET /log/tile/…`. Paths are parsed before any file is touched, so nothing outside the layout is reachable.
 * Every tile of every checkpoint ever served is answered (a deleted partial is cut from a wider one), and a tile
 * is served only when its bytes are the size its path names, so nothing short is ever cached as immutable.
 */
export function logApi(dir: string): Hono {
  const app = new Hono();
  app.get('/checkpoint', async (c) => {
    const bytes = await readFile(join(dir, 'checkpoint')).catch(() => undefined);
    if (!bytes) return problem(c, 'not-found', 'no checkpoint has been published yet');
    return new Response(bytes, { headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-cache' } });
  });
  app.get('/tile/*', async (c) => {
    const path = c.req.path.slice(c.req.path.indexOf('/tile/') + 1);
    let ref: ReturnType<typeof parseTilePath>;
    try {
      ref = parseTilePath(path);
    } catch (e) {
      return problem(c, 'not-found', `not a tile path: ${(e as Error).message}`);
    }
    try {
      const bytes = await readTileAt(dir, ref);
      return new Response(bytes, { headers: { 'content-type': 'application/octet-stream', 'cache-control': ref.width === 256 ? 'public, max-age=31536000, immutable' : 'no-cache' } });
    } catch (e) {
      if (e instanceof TileMissingError) return problem(c, 'not-found', `${path} is not published (yet)`);
      return problem(c, 'log-unavailable', `${path} cannot be served: ${(e as Error).message}`);
    }
  });
  return app;
}
