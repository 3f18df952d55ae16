import test from 'ava';
import { eventually } from '../test/support/served.ts';
import { pollEvery } from './poll-every.ts';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('ticks repeat, never overlap, survive a rejected tick, and stop', async (t) => {
  let ticks = 0;
  let inFlight = 0;
  let mostInFlight = 0;
  const stop = pollEvery(5, async () => {
    ticks++;
    inFlight++;
    mostInFlight = Math.max(mostInFlight, inFlight);
    await sleep(20); // slower than the interval, like a read of a slow mount
    inFlight--;
    if (ticks === 1) throw new Error('a failed read');
  });
  t.true(await eventually(() => ticks >= 4), `${ticks} ticks`);
  stop();
  await sleep(30); // the tick in flight, if any, settles
  const stoppedAt = ticks;
  await sleep(100);
  t.is(ticks, stoppedAt, 'no tick after stop');
  t.is(mostInFlight, 1);
});

test('the interval must be a delay setTimeout keeps', (t) => {
  for (const ms of [0, -1, Number.NaN, 2 ** 31]) {
    t.throws(() => pollEvery(ms, async () => undefined), { instanceOf: RangeError }, String(ms));
  }
});
