import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Hono } from 'hono';

const STATIC_DIR = join(import.meta.dirname, 'static');
const TYPES: Record<string, string> = { '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8' };

/** The dashboard's own files (http/ui/static/): its stylesheet and module scripts, nothing else. */
export function uiStatic(): Hono {
  const app = new Hono();
  app.get('/:file', async (c) => {
    const file = c.req.param('file');
    const type = TYPES[file.slice(file.lastIndexOf('.'))];
    if (type === undefined || !/^[a-z][a-z0-9-]*\.(js|css)$/.test(file)) return c.text('no such file', 404);
    const body = await readFile(join(STATIC_DIR, file)).catch(() => undefined);
    if (body === undefined) return c.text('no such file', 404);
    return c.body(body, 200, { 'content-type': type, 'cache-control': 'no-cache' });
  });
  return app;
}
