import test from 'ava';
import { WorkQueue } from './work-queue.ts';

const tick = (ms = 0): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('a key added many times while waiting runs once', async (t) => {
  const seen: string[] = [];
  const q = new WorkQueue({ handle: async (k) => void seen.push(k), onError: () => t.fail(), concurrency: 1 });
  q.add('first'); // runs at once; the others wait behind it
  q.add('a');
  q.add('b');
  q.add('b');
  q.add('a');
  await q.drained();
  t.deepEqual(seen, ['first', 'a', 'b']);
});

test('a key added while it runs runs again afterwards, never twice at once', async (t) => {
  let running = 0;
  let max = 0;
  let runs = 0;
  const q = new WorkQueue({
    handle: async () => {
      running++;
      max = Math.max(max, running);
      runs++;
      if (runs === 1) q.add('a');
      await tick(5);
      running--;
    },
    onError: () => t.fail(),
  });
  q.add('a');
  await tick(1);
  q.add('a');
  await q.drained();
  t.is(runs, 2);
  t.is(max, 1);
});

test('a failing key is retried with backoff until it succeeds', async (t) => {
  let calls = 0;
  const errors: unknown[] = [];
  const q = new WorkQueue({
    handle: async () => {
      calls++;
      if (calls < 3) throw new Error(`fail ${calls}`);
    },
    onError: (_k, e) => errors.push(e),
  });
  q.add('x');
  for (let i = 0; i < 100 && calls < 3; i++) await tick(20);
  t.is(calls, 3);
  t.deepEqual(errors.map((e) => (e as Error).message), ['fail 1', 'fail 2']);
  q.stop();
});

test('stop drops waiting keys and scheduled visits', async (t) => {
  let calls = 0;
  const q = new WorkQueue({ handle: async () => void calls++, onError: () => t.fail() });
  q.addAfter('later', 10);
  q.stop();
  q.add('now');
  await tick(30);
  t.is(calls, 0);
});
