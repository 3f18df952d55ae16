// Issue 15, defect 6: the writer, the entry file's reader and the entry bundles share one limit (MAX_ENTRY_SIZE):
// a receipt larger than it is refused before the log changes, and every entry the log accepted, it reopens and bundles.
import test from 'ava';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeReceipt } from './cbor.ts';
import { ReceiptChain } from './receipt-chain.ts';
import { ReceiptTooLargeError, type ReceiptBody } from './receipt.ts';
import { MAX_ENTRY_BYTES, ReceiptLog } from './store/index.ts';
import { decodeEntryBundle, encodeEntryBundle, MAX_ENTRY_SIZE } from './tlog-tiles.ts';

const clock = { now: () => Date.parse('2026-11-28T12:00:00Z') };
const TIME = clock.now() * 1000;

/** A reconcile-like body padded so that the receipt at `index` encodes to exactly `bytes` bytes. */
function bodyOfSize(bytes: number, index: number): ReceiptBody {
  let pad = bytes;
  for (;;) {
    const body = { resource: 'Tenant/big', pad: 'x'.repeat(pad) };
    const size = encodeReceipt({ v: 1, kind: 'reconcile', index, time: TIME, prev: new Uint8Array(32), body }).length;
    if (size === bytes) return body;
    pad += bytes - size;
  }
}

test('the entry file reads back exactly what an entry bundle holds', (t) => {
  t.is(MAX_ENTRY_BYTES, MAX_ENTRY_SIZE);
  t.is(MAX_ENTRY_SIZE, 65_535);
});

test('a receipt one byte larger than a log entry may be is refused with a typed error, and the chain is unchanged', (t) => {
  const chain = new ReceiptChain();
  chain.append('lifecycle', { event: 'start' }, TIME);
  const before = chain.state();
  const error = t.throws(() => chain.append('reconcile', bodyOfSize(MAX_ENTRY_SIZE + 1, 1), TIME), { instanceOf: ReceiptTooLargeError });
  t.like(error, { kind: 'reconcile', bytes: MAX_ENTRY_SIZE + 1, limit: MAX_ENTRY_SIZE });
  t.regex(error!.message, /65536 bytes.*65535/);
  t.deepEqual(chain.state(), before);
  t.is(chain.append('reconcile', bodyOfSize(MAX_ENTRY_SIZE, 1), TIME).bytes.length, MAX_ENTRY_SIZE, 'the limit itself is accepted');
});

test('a log with entries at the limit reopens and bundles; a refused 1.3 MB receipt leaves it openable', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'tai-entry-size-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const log = await ReceiptLog.open({ dir, durability: 'sync', clock });
  const first = log.append('reconcile', bodyOfSize(MAX_ENTRY_SIZE, 0));
  t.throws(() => log.append('reconcile', { resource: 'Tenant/big', patch: 'x'.repeat(1_293_439) }), { instanceOf: ReceiptTooLargeError });
  const second = log.append('reconcile', bodyOfSize(MAX_ENTRY_SIZE, 1));
  await Promise.all([first.durable, second.durable]);
  await log.close();
  const entries: Uint8Array[] = [];
  const reopened = await ReceiptLog.open({ dir, durability: 'sync', clock, onEntry: (e) => entries.push(e.bytes) });
  t.is(reopened.size, 2);
  t.is(reopened.recovery.truncatedBytes, 0);
  await reopened.close();
  t.deepEqual(entries.map((e) => e.length), [MAX_ENTRY_SIZE, MAX_ENTRY_SIZE]);
  const bundled = decodeEntryBundle(encodeEntryBundle(entries));
  t.true(bundled.length === 2 && bundled.every((b, i) => Buffer.from(b).equals(Buffer.from(entries[i]!))), 'the publisher can bundle every entry');
});
