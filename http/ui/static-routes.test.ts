import test from 'ava';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { uiStatic } from './static-routes.ts';

test('the browser modules are served as JavaScript, revalidated by ETag', async (t) => {
  const app = uiStatic();
  const res = await app.request('/verify.js');
  t.is(res.status, 200);
  t.is(res.headers.get('content-type'), 'text/javascript; charset=utf-8');
  t.is(res.headers.get('cache-control'), 'no-cache');
  t.is(res.headers.get('x-content-type-options'), 'nosniff');
  t.deepEqual(Buffer.from(await res.arrayBuffer()), await readFile(join(import.meta.dirname, 'static/verify.js')));
  const etag = res.headers.get('etag')!;
  t.regex(etag, /^"[\w-]{22}"$/);
  const again = await app.request('/verify.js', { headers: { 'if-none-match': etag } });
  t.is(again.status, 304);
  t.is(again.headers.get('etag'), etag);
  t.is((await app.request('/verify-page.js', { headers: { 'if-none-match': etag } })).status, 200, 'another file, another tag');
});

test('nothing but a flat module name of the folder is reachable', async (t) => {
  const app = uiStatic();
  for (const path of ['/nope.js', '/verify.test.ts', '/tsconfig.json', '/..%2Fstatic-routes.ts', '/..%2F..%2Fapp.ts', '/.verify.js', '/Verify.js', '/static%2Fverify.js']) {
    const res = await app.request(path);
    t.is(res.status, 404, path);
    t.is(res.headers.get('content-type'), 'application/problem+json', path);
  }
});
