import test from 'ava';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { watchFiles } from './file-watch.ts';

async function eventually(probe: () => boolean, deadlineMs = 15_000): Promise<boolean> {
  const until = Date.now() + deadlineMs;
  while (Date.now() < until && !probe()) await new Promise((r) => setTimeout(r, 10));
  return probe();
}

test('checks never overlap; triggers during a run become one more run; stop ends it', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'tai-watch-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  let running = 0;
  let most = 0;
  let runs = 0;
  let release: () => void = () => undefined;
  const stop = watchFiles(
    [join(dir, 'a'), join(dir, 'b')],
    async () => {
      running++;
      most = Math.max(most, running);
      await new Promise<void>((r) => (release = r));
      running--;
      runs++;
    },
    { pollMs: 20, debounceMs: 5 },
  );
  t.true(await eventually(() => running === 1), 'the poll started a run');
  await writeFile(join(dir, 'a'), '1'); // events and polls while the run is held
  await new Promise((r) => setTimeout(r, 100));
  release();
  t.true(await eventually(() => runs === 1 && running === 1), 'exactly one more run follows');
  stop();
  release();
  await new Promise((r) => setTimeout(r, 100));
  t.is(runs, 2);
  t.is(running, 0, 'no run after stop');
  t.is(most, 1);
});
