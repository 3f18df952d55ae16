import test from 'ava';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadRunState, saveRunState, type RunState } from './run-state.ts';

const state = (size: number): RunState => ({
  version: 1,
  log: { size, offset: size * 10, lastOffset: size * 10 - 10, chain: { size, frontier: [] } as unknown as RunState['log']['chain'] },
  publisher: {} as RunState['publisher'],
  replay: {} as RunState['replay'],
});

test('saves that overlap (a periodic one and the stop\'s) are written one after the other: each succeeds, the last one stays', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'tai-state-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const saves = [1, 2, 3].map((n) => saveRunState(join(dir, 'state.json'), state(n)));
  const outcomes = await Promise.allSettled(saves);
  t.deepEqual(
    outcomes.map((o) => o.status),
    ['fulfilled', 'fulfilled', 'fulfilled'],
    outcomes.map((o) => (o.status === 'rejected' ? String(o.reason) : 'ok')).join('; '),
  );
  t.is((await loadRunState(join(dir, 'state.json')))?.log.size, 3);
  t.deepEqual(await readdir(dir), ['state.json'], 'no temporary file is left');
});

test('a save that fails does not stop the next one', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'tai-state-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const bad = { ...state(1), replay: { loop: 1n } as unknown as RunState['replay'] }; // JSON.stringify throws
  const [first, second] = await Promise.allSettled([saveRunState(join(dir, 'state.json'), bad), saveRunState(join(dir, 'state.json'), state(2))]);
  t.is(first.status, 'rejected');
  t.is(second.status, 'fulfilled');
  t.is(JSON.parse(await readFile(join(dir, 'state.json'), 'utf8')).log.size, 2);
});
