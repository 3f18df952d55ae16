import test from 'ava';
import { appendFile, mkdtemp, open, readFile, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rootFromLeafHashes } from '../compact-range.ts';
import { toHex } from '../merkle-hash.ts';
import type { EntryFs, EntryHandle } from './entry-file.ts';
import { FaultyFs, type FaultPlan } from './faulty-fs.test-helper.ts';
import { LogUnavailableError, ReceiptLog, type LogHealth } from './receipt-log.ts';

const clock = { now: () => Date.parse('2026-11-28T12:00:00Z') };
const body = (i: number) => ({ tenant: 'acme', op: 'consume', subject: 'api-calls', amount: i, allowed: true, reason: 'Allowed' });

async function freshDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'tai-log-'));
}

async function fill(dir: string, n: number, durability: 'sync' | 'async' = 'sync'): Promise<Uint8Array[]> {
  const log = await ReceiptLog.open({ dir, durability, clock });
  const appended = Array.from({ length: n }, (_, i) => log.append('decision', body(i)));
  await Promise.all(appended.map((a) => a.durable));
  await log.close();
  return appended.map((a) => a.leafHash);
}

test('appends are chained, durable, and replayed in order on reopen', async (t) => {
  const dir = await freshDir();
  const leaves = await fill(dir, 300);
  const seen: number[] = [];
  const log = await ReceiptLog.open({ dir, durability: 'sync', clock, onEntry: (e) => seen.push(e.receipt.index) });
  t.is(log.size, 300);
  t.deepEqual(seen, Array.from({ length: 300 }, (_, i) => i));
  t.is(toHex(log.root()), toHex(rootFromLeafHashes(leaves)));
  const next = log.append('decision', body(300));
  t.is(next.index, 300);
  await next.durable;
  t.is(log.durableSize, 301);
  await log.close();
});

test('a group of concurrent appends is written as one group and all become durable', async (t) => {
  const dir = await freshDir();
  const log = await ReceiptLog.open({ dir, durability: 'sync', clock });
  const a = Array.from({ length: 1000 }, (_, i) => log.append('decision', body(i)));
  t.is(a[0]!.durable, a[999]!.durable, 'appends in one tick share one commit');
  await Promise.all(a.map((x) => x.durable));
  t.is(log.durableSize, 1000);
  await log.close();
});

test('async durability answers at once and writes within the delay', async (t) => {
  const dir = await freshDir();
  const log = await ReceiptLog.open({ dir, durability: 'async', clock, asyncDelayMs: 10 });
  const a = log.append('decision', body(1));
  t.is(log.durableSize, 0);
  await a.durable;
  t.is(log.durableSize, 1);
  t.true((await stat(join(dir, 'entries'))).size > 0);
  await log.close();
});

test('a torn last entry is cut off at open; the rest verifies', async (t) => {
  const dir = await freshDir();
  await fill(dir, 10);
  const file = join(dir, 'entries');
  const full = (await stat(file)).size;
  await truncate(file, full - 7);
  const log = await ReceiptLog.open({ dir, durability: 'sync', clock });
  t.is(log.size, 9);
  t.true(log.recovery.truncatedBytes > 0);
  const next = log.append('decision', body(9));
  t.is(next.index, 9, 'the log continues where the valid entries end');
  await next.durable;
  await log.close();
});

test('garbage after the last entry is cut off; corruption in the middle refuses to open and names the entry', async (t) => {
  const dir = await freshDir();
  await fill(dir, 10);
  const file = join(dir, 'entries');
  await appendFile(file, Buffer.from([0, 0, 0, 3, 1, 2, 3]));
  const log = await ReceiptLog.open({ dir, durability: 'sync', clock });
  t.is(log.size, 10);
  t.is(log.recovery.truncatedBytes, 7);
  await log.close();
  const bytes = await readFile(file);
  bytes[4 + 20] = bytes[4 + 20]! ^ 0xff; // inside entry 0
  await writeFile(file, bytes);
  const error = await t.throwsAsync(ReceiptLog.open({ dir, durability: 'sync', clock }));
  t.regex(error.message, /\/entries: entry [01]: .*entry 0.*Restore/, 'an altered entry is caught by its own decoding or by the next prev');
});

test('two resume points captured at the same size before it is durable both resolve, and agree', async (t) => {
  const dir = await freshDir();
  const log = await ReceiptLog.open({ dir, durability: 'sync', clock });
  for (let i = 0; i < 10; i++) log.append('decision', body(i));
  const [first, second] = await Promise.all([log.captureResumePoint(), log.captureResumePoint()]);
  t.deepEqual(first, second);
  t.is(first.size, 10);
  await log.close();
  t.is(first.offset, (await stat(join(dir, 'entries'))).size);
});

/** A log on a FaultyFs that retries only when told (flush), so each attempt is the test's. */
async function faulty(plan: FaultPlan) {
  const dir = await freshDir();
  const fs = new FaultyFs(plan);
  const healths: LogHealth[] = [];
  const log = await ReceiptLog.open({ dir, durability: 'sync', clock, fs, retry: { firstMs: 3_600_000, maxMs: 3_600_000 }, onHealth: (h) => healths.push(h) });
  const first = log.append('decision', body(0));
  await first.durable;
  return { dir, fs, log, healths, durableBytes: (await stat(join(dir, 'entries'))).size };
}

const failure = (p: Promise<void>): Promise<unknown> => p.then(() => undefined, (e: unknown) => e);

test('a failed fdatasync: the group learns its outcome is unknown, appends are refused, and the entries are rewritten from memory once the disk works', async (t) => {
  const { dir, fs, log, healths, durableBytes } = await faulty({ fault: 'fdatasync', at: 2, until: 'healed' });
  const failed = [1, 2].map((i) => log.append('decision', body(i)));
  const errors = await Promise.all(failed.map((a) => failure(a.durable)));
  t.true(errors.every((e) => e instanceof LogUnavailableError && e.outcome === 'unknown'), String(errors[0]));
  t.like(log.health, { writable: false, pendingEntries: 2, attempts: 1 });
  const refused = t.throws(() => log.append('decision', body(3)), { instanceOf: LogUnavailableError });
  t.is(refused.outcome, 'refused');
  t.is(log.size, 3, 'a refused append changes nothing');
  t.is((await stat(join(dir, 'entries'))).size, durableBytes, 'the file is cut back to what the last fdatasync covered');
  await t.throwsAsync(log.flush(), { instanceOf: LogUnavailableError }, 'still failing: one more attempt, rejected');
  t.like(log.health, { writable: false, attempts: 2 });
  fs.heal();
  await log.flush();
  await log.whenWritable();
  t.is(log.durableSize, 3);
  t.deepEqual(healths.map((h) => h.writable), [false, true]);
  const next = log.append('decision', body(3));
  await next.durable;
  await log.close();
  const leaves: string[] = [];
  const reopened = await ReceiptLog.open({ dir, durability: 'sync', clock, onEntry: (e) => leaves.push(toHex(e.leafHash)) });
  await reopened.close();
  t.deepEqual(leaves.slice(1), [...failed, next].map((a) => toHex(a.leafHash)), 'the rewritten entries are the ones appended, in order');
});

test('a stop while the log cannot write loses only the waiting entries: the file reopens at the durable ones', async (t) => {
  const { dir, log } = await faulty({ fault: 'ENOSPC', at: 2, until: 'healed' });
  const waiting = log.append('decision', body(1));
  t.like(await failure(waiting.durable), { outcome: 'unknown' });
  await log.close();
  const reopened = await ReceiptLog.open({ dir, durability: 'sync', clock });
  t.is(reopened.size, 1);
  t.is(reopened.recovery.truncatedBytes, 0, 'nothing of the failed write was left behind');
  await reopened.close();
});

test('a resume point captured before a failed write rejects; captured again after recovery, it resolves', async (t) => {
  const { dir, fs, log } = await faulty({ fault: 'EIO', at: 2, until: 'healed' });
  log.append('decision', body(1));
  log.append('decision', body(2));
  await t.throwsAsync(log.captureResumePoint(), { instanceOf: LogUnavailableError });
  fs.heal();
  await log.flush();
  const point = await log.captureResumePoint();
  t.is(point.size, 3);
  await log.close();
  t.is(point.offset, (await stat(join(dir, 'entries'))).size);
});

/** A full disk (every write fails with ENOSPC) whose next write can be held until the test lets it fail. */
class HeldFullFs implements EntryFs {
  writes = 0;
  #hold: { arrived: () => void; release: Promise<void> } | undefined;

  async open(path: string, flags: string): Promise<EntryHandle> {
    const real = await open(path, flags);
    return {
      write: async () => {
        this.writes++;
        const hold = this.#hold;
        this.#hold = undefined;
        if (hold) {
          hold.arrived();
          await hold.release;
        }
        throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      },
      read: (b, o, l, p) => real.read(b, o, l, p),
      datasync: () => real.datasync(),
      truncate: (l) => real.truncate(l),
      stat: () => real.stat(),
      close: () => real.close(),
    };
  }

  /** Resolves once the next write has started, with the function that lets it fail. */
  holdNext(): Promise<() => void> {
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    return new Promise((arrived) => (this.#hold = { arrived: () => arrived(release), release: released }));
  }
}

test('a flush during a timer-driven retry leaves one retry loop: no attempt is made after close', async (t) => {
  const keepAlive = setInterval(() => undefined, 1000); // the log's retry timers do not keep the process alive
  t.teardown(() => clearInterval(keepAlive));
  const fs = new HeldFullFs();
  const log = await ReceiptLog.open({ dir: await freshDir(), durability: 'sync', clock, fs, retry: { firstMs: 1, maxMs: 1 } });
  t.true((await failure(log.append('decision', body(0)).durable)) instanceof LogUnavailableError);
  const release = await fs.holdNext(); // a timer's retry is writing
  const flushing = failure(log.flush()); // and a flush comes meanwhile
  release();
  t.true((await flushing) instanceof LogUnavailableError);
  await log.close();
  const { attempts } = log.health as { attempts: number };
  const writes = fs.writes;
  await new Promise((r) => setTimeout(r, 200)); // far past every retry delay (1 ms): a stray timer has fired by now
  t.like(log.health, { writable: false, attempts }, 'no retry after close');
  t.is(fs.writes, writes);
});
