import test from 'ava';
import { mkdir, mkdtemp, open, rm, stat, writeFile } from 'node:fs/promises';
import type { EntryFs, EntryHandle } from '../receipts/store/index.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { folderFeed } from './embedded-feed.ts';
import { startServer } from './governor-server.ts';

/** The real filesystem, whose writes fail with ENOSPC while `failing` is above 0 (one fewer each; Infinity: a full disk). */
class FillingFs implements EntryFs {
  failing = 0;

  async open(path: string, flags: string): Promise<EntryHandle> {
    const real = await open(path, flags);
    return {
      write: (b, o, l, p) => {
        if (this.failing <= 0) return real.write(b, o, l, p);
        this.failing--;
        return Promise.reject(Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' }));
      },
      read: (b, o, l, p) => real.read(b, o, l, p),
      datasync: () => real.datasync(),
      truncate: (l) => real.truncate(l),
      stat: () => real.stat(),
      close: () => real.close(),
    };
  }
}

async function served(t: { teardown(f: () => Promise<void>): void }, fs?: EntryFs) {
  const root = await mkdtemp(join(tmpdir(), 'tai-server-'));
  t.teardown(() => rm(root, { recursive: true, force: true }));
  const logDir = join(root, 'log');
  let now = Date.now();
  const lines: string[] = [];
  return {
    root,
    logDir,
    lines,
    advance: (ms: number) => (now += ms),
    start: () =>
      startServer({
        feed: folderFeed('config/samples'),
        listen: { host: '127.0.0.1', port: 0 },
        logDir,
        keyPath: join(root, 'signing.key'),
        origin: 'tai.test/server',
        stateEvery: 10_000,
        durability: 'sync',
        auth: { mode: 'none' },
        clock: { now: () => now },
        logFs: fs,
        logRetry: { firstMs: 3_600_000, maxMs: 3_600_000 }, // the log retries only when the stop flushes
        io: { out: (l) => lines.push(l), err: (l) => lines.push(l) },
      }),
  };
}

test('publishing that keeps failing makes /readyz not ready, naming the error, with one line logged', async (t) => {
  const s = await served(t);
  await mkdir(s.logDir, { recursive: true });
  await writeFile(join(s.logDir, 'tile'), 'not a directory'); // every publish fails: no tile can be written
  const server = await s.start();
  let stopped = false;
  t.teardown(async () => void (stopped || (await server.stop())));
  const first = await fetch(`${server.url}/readyz`);
  t.is(first.status, 200, 'a publish that just failed does not make the server unready yet');
  s.advance(6000);
  const later = await fetch(`${server.url}/readyz`);
  const body = (await later.json()) as { publish?: { publishing: boolean; error?: string; failingSince?: string } };
  t.is(later.status, 503, JSON.stringify(body));
  t.like(body.publish, { publishing: false });
  t.regex(body.publish?.error ?? '', /ENOTDIR|EEXIST/);
  const metrics = await (await fetch(`${server.url}/metrics`)).text();
  t.regex(metrics, /^tai_log_publish_failing 1$/m);
  t.is(s.lines.filter((l) => /publishing the log failed/.test(l)).length, 1, s.lines.join('\n'));
  await rm(join(s.logDir, 'tile'));
  stopped = true;
  t.deepEqual(await server.stop(), { clean: true }, 'the stop publishes once the tiles can be written');
});

test('a stop whose last write attempt (in close) succeeds reports a clean stop and saves state.json', async (t) => {
  const fs = new FillingFs();
  const s = await served(t, fs);
  const server = await s.start();
  fs.failing = Infinity;
  const consume = await fetch(`${server.url}/v1/consume`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tenant: 'initech', metric: 'api-calls', amount: 1 }) });
  t.is(consume.status, 503, 'the write failed: outcome unknown');
  fs.failing = 2; // the stop's two flushes fail; the attempt close() makes writes
  const outcome = await server.stop();
  t.deepEqual(outcome, { clean: true }, 'reason' in outcome ? outcome.reason : '');
  t.true((await stat(join(s.logDir, 'state.json'))).size > 0, 'state.json is saved');
});
