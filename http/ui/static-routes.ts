import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Hono } from 'hono';
import { problem } from '../problem.ts';

const STATIC_DIR = join(import.meta.dirname, 'static');
/** Only flat module names: nothing outside http/ui/static/ is reachable, whatever the path says. */
const NAME = /^[a-z0-9][a-z0-9-]*\.js$/;

/**
 * The dashboard's browser modules, http/ui/static/*.js, as `GET /<name>.js` (mount it under /ui/static). They
 * are plain ES modules with no build step, served as JavaScript (a module script needs a JavaScript MIME type)
 * with nosniff, and revalidated on each load by ETag, so a page never runs a module from an older release.
 */
export function uiStatic(): Hono {
  const app = new Hono();
  app.get('/:name', async (c) => {
    const name = c.req.param('name');
    const bytes = NAME.test(name) ? await readFile(join(STATIC_DIR, name)).catch(() => undefined) : undefined;
    if (bytes === undefined) return problem(c, 'not-found', `no module ${JSON.stringify(name.slice(0, 80))} in the dashboard's static files`);
    const etag = `"${Buffer.from(await crypto.subtle.digest('SHA-256', bytes)).toString('base64url').slice(0, 22)}"`;
    const headers = { etag, 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' };
    if (c.req.header('if-none-match') === etag) return new Response(null, { status: 304, headers });
    return new Response(bytes, { headers: { ...headers, 'content-type': 'text/javascript; charset=utf-8' } });
  });
  return app;
}
