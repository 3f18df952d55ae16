import test from 'ava';
import { truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { fixtureLog, runTai } from '../test/support/log-fixture.ts';

test('show prints one receipt as JSON with its leaf hash', async (t) => {
  const log = (await fixtureLog()).grow(300);
  await log.publish();
  const { code, out } = await runTai(['log', 'show', '5', '--log', log.logDir, '--vkey', log.verifierKey]);
  t.is(code, 0);
  const shown = JSON.parse(out.join('\n')) as { index: number; leafHash: string };
  t.is(shown.index, 5);
  t.is(shown.leafHash, Buffer.from(log.entries[5]!.leafHash).toString('hex'));
});

// Defect 15.7: `tai log show` crashed with an uncaught TileError on a bundle a full disk had left at 0 bytes.
test('show on a damaged entry bundle is a finding naming the file (exit 1), not a crash', async (t) => {
  const log = (await fixtureLog()).grow(300);
  await log.publish();
  await truncate(join(log.logDir, 'tile/entries/000'), 0);
  const { code, err } = await runTai(['log', 'show', '5', '--log', log.logDir, '--vkey', log.verifierKey]);
  t.is(code, 1);
  t.regex(err.join('\n'), /✗ tile\/entries\/000 is damaged: TooFewEntries/);
});
