import test from 'ava';
import { serve, type ServerType } from '@hono/node-server';
import { Hono } from 'hono';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { bodyLimit } from './body-limit.ts';

/** A real node:http server (the fast path reads the Content-Length the parser enforces), echoing the body's length. */
async function served(t: { teardown(f: () => void): void }, maxSize: number): Promise<number> {
  const app = new Hono();
  app.use(bodyLimit(maxSize, (c) => c.text('too large', 413)));
  app.post('/', async (c) => c.text(String((await c.req.text()).length)));
  const server = await new Promise<ServerType>((resolve) => {
    const s = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(s));
  });
  t.teardown(() => void server.close());
  return (server.address() as AddressInfo).port;
}

/** POSTs `body`, with a Content-Length or chunked (several writes, no length). */
function post(port: number, body: string, framing: 'length' | 'chunked'): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const headers = framing === 'length' ? { 'content-length': String(Buffer.byteLength(body)) } : {};
    const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/', headers }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d: string) => (text += d)).on('end', () => resolve({ status: res.statusCode!, text }));
    });
    req.on('error', reject);
    if (framing === 'chunked') for (let i = 0; i < body.length; i += 10) req.write(body.slice(i, i + 10));
    else req.write(body);
    req.end();
  });
}

for (const framing of ['length', 'chunked'] as const) {
  test(`${framing}: a body at the limit is read whole; one byte over is refused with 413`, async (t) => {
    const port = await served(t, 100);
    t.deepEqual(await post(port, 'x'.repeat(100), framing), { status: 200, text: '100' });
    t.is((await post(port, 'x'.repeat(101), framing)).status, 413);
    t.deepEqual(await post(port, '', framing), { status: 200, text: '0' });
  });
}
