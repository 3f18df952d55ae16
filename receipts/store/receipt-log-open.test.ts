// Opening a log whose entry file ends in what a crash left: a zero-filled tail (an unfinished write whose data
// never reached the disk) is cut off.
import test from 'ava';
import { appendFile, mkdtemp, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReceiptChain } from '../receipt-chain.ts';
import { EntryFile } from './entry-file.ts';
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

for (const zeros of [8, 40, 4096 + 13]) {
  test(`a tail of ${zeros} zero bytes (a write whose data never reached the disk) is cut off, with a note, and the log writes on`, async (t) => {
    const { dir, path } = await logWith(5);
    const durable = (await stat(path)).size;
    await appendFile(path, Buffer.alloc(zeros));
    const log = await ReceiptLog.open({ dir, durability: 'sync', clock });
    t.is(log.size, 5);
    t.is(log.recovery.truncatedBytes, zeros);
    t.true(log.recovery.zeroTail);
    t.true(log.recovery.notes.some((n) => n.includes(`ended in ${zeros} zero bytes after entry 4`) && n.includes('unfinished write')), log.recovery.notes.join('\n'));
    t.is((await stat(path)).size, durable);
    await log.append('decision', body(5)).durable;
    await log.close();
    const again = await ReceiptLog.open({ dir, durability: 'sync', clock });
    t.is(again.size, 6);
    t.false(again.recovery.zeroTail);
    t.deepEqual(again.recovery.notes, []);
    await again.close();
  });
}

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
