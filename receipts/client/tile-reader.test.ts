import test from 'ava';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fixtureLog } from '../../test/support/log-fixture.ts';
import { tileRefPath, tilesChanged } from '../tlog-tiles.ts';
import { readTileAt } from './tile-reader.ts';

test('a partial tile the publisher has since replaced is cut, byte for byte, from the wider version', async (t) => {
  const log = (await fixtureLog()).grow(100);
  await log.publish();
  const partials = tilesChanged(0, 100).filter((ref) => ref.width < 256);
  const before = await Promise.all(partials.map((ref) => readFile(join(log.logDir, tileRefPath(ref)))));
  await log.grow(300).publish(); // bundle 0 and hash tile 0/0 become full; the old partials are removed as the publisher does
  for (const ref of partials) await rm(join(log.logDir, tileRefPath(ref)));
  for (const [i, ref] of partials.entries()) t.deepEqual(Buffer.from(await readTileAt(log.logDir, ref)), before[i], tileRefPath(ref));
  await log.grow(310).publish(); // and from a wider partial when no full tile exists yet
  const [bundle] = tilesChanged(256, 300).filter((ref) => ref.kind === 'entries');
  const narrow = await readFile(join(log.logDir, tileRefPath(bundle!)));
  await rm(join(log.logDir, tileRefPath(bundle!)));
  t.deepEqual(Buffer.from(await readTileAt(log.logDir, bundle!)), narrow);
  await t.throwsAsync(readTileAt(log.logDir, { kind: 'entries', index: 9, width: 3 }), { message: /tile\/entries\/009\.p\/3: missing .*no wider version/ });
});
