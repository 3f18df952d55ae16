import test from 'ava';
import { readFile, rm, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { fixtureLog } from '../test/support/log-fixture.ts';
import { logApi } from './log-api.ts';

// Defect 15.2 at the HTTP edge: a client holding the checkpoint of size 15 fetches tile/0/000.p/15 after the log
// grew past 256 and the partial file is gone; the answer is the same bytes, cut from the full tile.
test('every tile of an earlier checkpoint is served, byte for byte, after its partial file is gone', async (t) => {
  const log = (await fixtureLog()).grow(15);
  await log.publish();
  const partial = await readFile(join(log.logDir, 'tile/0/000.p/15'));
  const bundle = await readFile(join(log.logDir, 'tile/entries/000.p/15'));
  await log.grow(300).publish();
  await rm(join(log.logDir, 'tile/0/000.p/15'));
  await rm(join(log.logDir, 'tile/entries/000.p/15'));
  const app = logApi(log.logDir);
  const res = await app.request('/tile/0/000.p/15');
  t.is(res.status, 200);
  t.deepEqual(Buffer.from(await res.arrayBuffer()), partial);
  t.is(res.headers.get('cache-control'), 'no-cache');
  t.deepEqual(Buffer.from(await (await app.request('/tile/entries/000.p/15')).arrayBuffer()), bundle);
  t.is((await app.request('/tile/0/001.p/200')).status, 404, 'a tile past the log is not published');
});

// Defect 15.7: a full tile left at 0 bytes by a full disk was served with `immutable, max-age=31536000`.
test('a full tile whose file is short is refused with 503, never served as immutable', async (t) => {
  const log = (await fixtureLog()).grow(300);
  await log.publish();
  await truncate(join(log.logDir, 'tile/0/000'), 0);
  const res = await logApi(log.logDir).request('/tile/0/000');
  t.is(res.status, 503);
  t.is(res.headers.get('cache-control'), null);
  t.regex(((await res.json()) as { detail: string }).detail, /tile\/0\/000 is 0 bytes, want 8192/);
  const full = await logApi(log.logDir).request('/tile/0/001.p/44');
  t.is(full.status, 200);
});
