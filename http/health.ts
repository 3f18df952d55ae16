import { Hono } from 'hono';
import type { Readiness } from '../readiness/index.ts';

/**
 * /healthz (the process answers) and /readyz (a policy snapshot is being served, the receipt log can write and
 * publishing works; staleness shown).
 */
export function healthApi(readiness: () => Readiness): Hono {
  const app = new Hono();
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', (c) => {
    const r = readiness();
    const ready = r.ready && r.log?.writable !== false && r.publish?.publishing !== false;
    return c.json({ status: ready ? 'ready' : 'not ready', ...r, ready }, ready ? 200 : 503);
  });
  return app;
}
