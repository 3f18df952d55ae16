// Opening a log whose entry file ends in what a crash or an older TAI left: a zero-filled tail (an unfinished
// write whose data never reached the disk) is cut off; an entry over the limit (written before ADR 11) refuses,
// naming the entry, the byte to cut at, and the remedy.
import test from 'ava';
import { appendFile, mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeReceipt } from '../cbor-encode.ts';
import { ReceiptChain } from '../receipt-chain.ts';
import { RECEIPT_VERSION } from '../receipt.ts';
import { EntryFile, MAX_ENTRY_BYTES } from './entry-file.ts';
import { ReceiptLog } from './receipt-log.ts';

const NOW = Date.parse('2026-11-28T12:00:00Z');
const clock = { now: () => NOW };
const body = (i: number) => ({ tenant: 'acme', op: 'consume', subject: 'api-calls', amount: i, allowed: true, reason: 'Allowed' });

async function logWith(n: number): Promise<{ dir: string; path: string; leaves: Uint8Array[] }> {
  const dir = await mkdtemp(join(tmpdir(), 'tai-open-'));
  const log = await ReceiptLog.open({ dir, durability: 'sync', clock });
  const appended = Array.from({ length: n }, (_, i) => log.append('decision', body(i)));
  await Promise.all(appended.map((a) => a.durable));
  await log.close();
  return { dir, path: join(dir, 'entries'), leaves: appended.map((a) => a.leafHash) };
}

function frame(bytes: Uint8Array): Buffer {
  const b = Buffer.alloc(4 + bytes.length);
  b.writeUInt32BE(bytes.length, 0);
  b.set(bytes, 4);
  return b;
}

for (const zeros of [8, 40, 4096 + 13]) {
  test(`a tail of ${zeros} zero bytes (a write whose data never reached the disk) is cut off, with a note, and the log writes on`, async (t) => {
    const { dir, path } = await logWith(5);
    const durable = (await stat(path)).size;
    await appendFile(path, Buffer.alloc(zeros));
    const log = await ReceiptLog.open({ dir, durability: 'sync', clock });
    t.is(log.size, 5);
    t.is(log.recovery.truncatedBytes, zeros);
    t.is(log.recovery.zeroBytes, zeros);
    t.true(log.recovery.notes.some((n) => n.includes(`ended in ${zeros} zero bytes after entry 4`) && n.includes('unfinished write')), log.recovery.notes.join('\n'));
    t.is((await stat(path)).size, durable);
    await log.append('decision', body(5)).durable;
    await log.close();
    const again = await ReceiptLog.open({ dir, durability: 'sync', clock });
    t.is(again.size, 6);
    t.is(again.recovery.zeroBytes, 0);
    t.deepEqual(again.recovery.notes, []);
    await again.close();
  });
}

test('a last entry whose data stops part-way (its second half zeros, the size on disk), then zeros: cut off, with a note', async (t) => {
  // A lost page in the middle of a group: the frame header and the first half of the receipt reached the disk.
  const { dir, path } = await logWith(5);
  const durable = (await stat(path)).size;
  const log = await ReceiptLog.open({ dir, durability: 'sync', clock });
  await log.append('decision', body(5)).durable;
  await log.close();
  const bytes = await readFile(path);
  const half = durable + Math.floor((bytes.length - durable) / 2);
  await writeFile(path, Buffer.concat([bytes.subarray(0, half), Buffer.alloc(bytes.length - half + 4096)]));
  const reopened = await ReceiptLog.open({ dir, durability: 'sync', clock });
  t.is(reopened.size, 5);
  t.is(reopened.recovery.truncatedBytes, bytes.length - durable + 4096);
  t.is(reopened.recovery.zeroBytes, bytes.length - half + 4096);
  t.true(reopened.recovery.notes.some((n) => n.includes(`, the last ${bytes.length - half + 4096} of them zeros after entry 4`)), reopened.recovery.notes.join('\n'));
  t.is((await stat(path)).size, durable);
  await reopened.close();
});

test('a torn write that happens to end in zero bytes (inside entry 0\'s zero prev) is cut without the lost-data note', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'tai-open-'));
  const bytes = frame(new ReceiptChain().append('decision', body(0), NOW * 1000).bytes);
  const prev = bytes.indexOf(Buffer.alloc(32));
  t.true(prev > 0);
  await writeFile(join(dir, 'entries'), bytes.subarray(0, prev + 20));
  const log = await ReceiptLog.open({ dir, durability: 'sync', clock });
  t.is(log.size, 0);
  t.is(log.recovery.truncatedBytes, prev + 20);
  t.true(log.recovery.zeroBytes >= 20);
  t.deepEqual(log.recovery.notes, []);
  await log.close();
});

test('zeros followed by a non-zero byte are not a torn tail: the log refuses and changes nothing', async (t) => {
  const { dir, path } = await logWith(3);
  await appendFile(path, Buffer.concat([Buffer.alloc(40), Buffer.from([1])]));
  const before = await readFile(path);
  const error = await t.throwsAsync(ReceiptLog.open({ dir, durability: 'sync', clock }));
  t.is(error.name, 'EntryFileRefusal');
  t.regex(error.message, /entry 3: .*more entries follow it/);
  t.deepEqual(await readFile(path), before);
});

test('zeros within the bytes a published checkpoint covers are never cut off', async (t) => {
  const { path } = await logWith(3);
  const size = (await stat(path)).size;
  await appendFile(path, Buffer.alloc(40));
  const chain = new ReceiptChain();
  const error = await t.throwsAsync(EntryFile.open(path, (bytes) => chain.replay(bytes), { keepBytes: size + 20 }).then(() => undefined));
  t.regex(error.message, new RegExp(`unreadable, but a published checkpoint covers the file up to byte ${size + 20}`));
  t.is((await stat(path)).size, size + 40);
});

test('an entry over the entry limit, written by TAI before ADR 11, refuses naming the entry, the byte to cut at and the remedy', async (t) => {
  // The file as TAI 506cf6e left it: valid entries, a 70 KB reconcile receipt, more entries chained after it.
  const dir = await mkdtemp(join(tmpdir(), 'tai-open-'));
  const path = join(dir, 'entries');
  const chain = new ReceiptChain();
  const frames: Buffer[] = [];
  for (let i = 0; i < 3; i++) frames.push(frame(chain.append('decision', body(i), NOW * 1000).bytes));
  const big = encodeReceipt({ v: RECEIPT_VERSION, kind: 'reconcile', index: 3, time: NOW * 1000, prev: chain.head, body: { resource: 'Tenant/acme', generation: 1, patch: { features: { big: 'y'.repeat(70_000) } } } });
  t.true(big.length > MAX_ENTRY_BYTES);
  chain.replay(big);
  const bigAt = frames.reduce((n, f) => n + f.length, 0);
  frames.push(frame(big));
  frames.push(frame(chain.append('lifecycle', { event: 'stop', version: '0.1.0' }, NOW * 1000).bytes));
  await writeFile(path, Buffer.concat(frames));
  const before = await readFile(path);

  const error = await t.throwsAsync(ReceiptLog.open({ dir, durability: 'sync', clock }));
  t.is(error.name, 'EntryFileRefusal');
  t.true(error.message.includes(`entry 3 at byte ${bigAt} is ${big.length} bytes, over the ${MAX_ENTRY_BYTES}-byte entry limit`), error.message);
  t.regex(error.message, /publishing stalled on it/);
  t.true(error.message.includes(`truncate -s ${bigAt} ${path}`), error.message);
  t.regex(error.message, /restore/);
  t.deepEqual(await readFile(path), before, 'changes nothing');

  // The remedy it names works: cut there, and the server opens the entries before it.
  await writeFile(path, before.subarray(0, bigAt));
  const log = await ReceiptLog.open({ dir, durability: 'sync', clock });
  t.is(log.size, 3);
  await log.close();
});
