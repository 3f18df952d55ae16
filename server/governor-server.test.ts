import test from 'ava';
import { mkdir, mkdtemp, open, rm, stat, writeFile } from 'node:fs/promises';
import type { EntryFs, EntryHandle } from '../receipts/store/index.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { folderFeed } from './embedded-feed.ts';
import { request } from 'node:http';
import type { Receipt } from '../receipts/index.ts';
import { ReceiptLog } from '../receipts/store/index.ts';
import { startServer } from './governor-server.ts';
import type { Schedule } from './policy-boundaries.ts';

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

async function served(t: { teardown(f: () => Promise<void>): void }, o: { fs?: EntryFs; now?: number; schedule?: Schedule } = {}) {
  const root = await mkdtemp(join(tmpdir(), 'tai-server-'));
  t.teardown(() => rm(root, { recursive: true, force: true }));
  const logDir = join(root, 'log');
  let now = o.now ?? Date.now();
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
        logFs: o.fs,
        schedule: o.schedule,
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
  const s = await served(t, { fs });
  const server = await s.start();
  fs.failing = Infinity;
  const consume = await fetch(`${server.url}/v1/consume`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tenant: 'initech', metric: 'api-calls', amount: 1 }) });
  t.is(consume.status, 503, 'the write failed: outcome unknown');
  fs.failing = 2; // the stop's two flushes fail; the attempt close() makes writes
  const outcome = await server.stop();
  t.deepEqual(outcome, { clean: true }, 'reason' in outcome ? outcome.reason : '');
  t.true((await stat(join(s.logDir, 'state.json'))).size > 0, 'state.json is saved');
});

/** config/samples' acme-black-friday Quota (+5 000 000 api-calls for acme) ends here; 2 000 000 after it. */
const BOUNDARY = Date.parse('2026-12-01T00:00:00Z');

/** A POST whose headers the server has taken (it answered 100 Continue) and whose body the test finishes later. */
async function postInFlight(url: string, body: string): Promise<{ finish: () => Promise<{ status: number; body: string }> }> {
  const req = request(url, { agent: false, method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), expect: '100-continue' } });
  const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
    req.on('response', (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
  });
  await new Promise<void>((resolve) => req.once('continue', resolve));
  req.write(body.slice(0, 5));
  return { finish: () => (req.end(body.slice(5)), answer) };
}

/** Resolves once `url` refuses connections (the listener is closed). */
async function refused(url: string): Promise<void> {
  for (;;) {
    const ok = await fetch(`${url}/healthz`, { headers: { connection: 'close' } }).then(() => true, () => false);
    if (!ok) return;
    await new Promise((r) => setImmediate(r));
  }
}

test('a decision in flight during the stop that passes a Quota boundary has the policy change recorded before it', async (t) => {
  const noTimers: Schedule = () => () => undefined; // only the decision finds the boundary
  const s = await served(t, { now: BOUNDARY - 60_000, schedule: noTimers });
  const server = await s.start();
  const inFlight = await postInFlight(`${server.url}/v1/consume`, JSON.stringify({ tenant: 'acme', metric: 'api-calls', amount: 1 }));
  const stopping = server.stop();
  await refused(server.url); // the stop is waiting for the request
  s.advance(120_000);
  const answer = await inFlight.finish();
  t.is(answer.status, 200, answer.body);
  const decision = (JSON.parse(answer.body) as { limit: number; receipt: { index: number } });
  t.is(decision.limit, 2_000_000);
  t.like(await stopping, { clean: true });
  const receipts: Receipt[] = [];
  const log = await ReceiptLog.open({ dir: s.logDir, durability: 'sync', clock: { now: () => BOUNDARY }, onEntry: (e) => receipts.push(e.receipt) });
  await log.close();
  const limits = receipts
    .slice(0, decision.receipt.index)
    .filter((r) => r.kind === 'reconcile' && r.body.resource === 'Tenant/acme')
    .map((r) => ((r.body.patch as { quotas?: Record<string, { limit?: unknown }> } | null)?.quotas ?? {})['api-calls']?.limit);
  t.is(limits.at(-1), 2_000_000, 'the change the decision used is recorded before it');
});
