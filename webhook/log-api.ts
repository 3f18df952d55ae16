import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Hono } from 'hono';
import { parseTilePath } from '../receipts/index.ts';
import { problem } from './problem.ts';

/**
 * The receipt log, read-only, as static C2SP tlog-tiles files (design §4): `GET /log/checkpoint` and
 * `GET /log/tile/…`. Paths are parsed before any file is touched, so nothing outside the layout is reachable.
 */
export function logApi(dir: string): Hono {
  const app = new Hono();
  const send = async (path: string, type: string, immutable: boolean): Promise<Response | undefined> => {
    try {
      const bytes = await readFile(join(dir, path));
      return new Response(bytes, { headers: { 'content-type': type, 'cache-control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache' } });
    } catch {
      return undefined;
    }
  };
  app.get('/checkpoint', async (c) => (await send('checkpoint', 'text/plain; charset=utf-8', false)) ?? problem(c, 'not-found', 'no checkpoint has been published yet'));
  app.get('/tile/*', async (c) => {
    const path = c.req.path.slice(c.req.path.indexOf('/tile/') + 1);
    let full: boolean;
    try {
      full = parseTilePath(path).width === 256;
    } catch (e) {
      return problem(c, 'not-found', `not a tile path: ${(e as Error).message}`);
    }
    return (await send(path, 'application/octet-stream', full)) ?? problem(c, 'not-found', `${path} is not published (yet)`);
  });
  return app;
}
