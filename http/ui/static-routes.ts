import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Hono } from 'hono';
import { problem } from '../problem.ts';

const STATIC_DIR = join(import.meta.dirname, 'static');
/** Only flat names: nothing outside http/ui/static/ is reachable, whatever the path says. */
const NAME = /^[a-z0-9][a-z0-9-]*\.(js|css)$/;
const TYPES = { js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8' } as const;

/**
 * The dashboard's own files, http/ui/static/*.js and *.css, as `GET /<name>` (mount it under /ui/static): plain ES
 * modules with no build step, served as JavaScript (a module script needs a JavaScript MIME type), and the
 * stylesheet; with nosniff, and revalidated on each load by ETag, so a page never runs a module from an older release.
 */
export function uiStatic(): Hono {
  const app = new Hono();
  app.get('/:name', async (c) => {
    const name = c.req.param('name');
    const kind = NAME.exec(name)?.[1] as keyof typeof TYPES | undefined;
    const bytes = kind === undefined ? undefined : await readFile(join(STATIC_DIR, name)).catch(() => undefined);
    if (kind === undefined || bytes === undefined) return problem(c, 'not-found', `no file ${JSON.stringify(name.slice(0, 80))} in the dashboard's static files`);
    const etag = `"${Buffer.from(await crypto.subtle.digest('SHA-256', bytes)).toString('base64url').slice(0, 22)}"`;
    const headers = { etag, 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' };
    if (c.req.header('if-none-match') === etag) return new Response(null, { status: 304, headers });
    return new Response(bytes, { headers: { ...headers, 'content-type': TYPES[kind] } });
  });
  return app;
}
