import test from 'ava';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rootFromLeafHashes } from '../compact-range.ts';
import { auditEntryFile, PublishedHistoryError, type ReadLeafTile } from './entry-audit.ts';
import { ReceiptLog } from './receipt-log.ts';

const clock = { now: () => Date.parse('2026-12-01T12:00:00Z') };
const body = (i: number) => ({ tenant: 'acme', op: 'consume', subject: 'api-calls', amount: i, allowed: true, reason: 'Allowed' });

/** A log of `n` entries in a fresh folder: its file, leaf hashes, and the level-0 tiles read from those hashes. */
async function written(n: number): Promise<{ path: string; leaves: Uint8Array[]; leafTile: ReadLeafTile }> {
  const dir = await mkdtemp(join(tmpdir(), 'tai-audit-'));
  const log = await ReceiptLog.open({ dir, durability: 'sync', clock });
  const appended = Array.from({ length: n }, (_, i) => log.append('decision', body(i)));
  await Promise.all(appended.map((a) => a.durable));
  await log.close();
  const leaves = appended.map((a) => a.leafHash);
  const leafTile: ReadLeafTile = (k, width) => Promise.resolve(Buffer.concat(leaves.slice(k * 256, k * 256 + width)));
  return { path: join(dir, 'entries'), leaves, leafTile };
}

/** Index of the frame holding byte `offset` of the file. */
function frameAt(bytes: Buffer, offset: number): number {
  let index = 0;
  for (let at = 0; at < bytes.length; at += 4 + bytes.readUInt32BE(at), index++) if (offset < at + 4 + bytes.readUInt32BE(at)) return index;
  return index;
}

test('every single-bit flip anywhere in the covered entries is caught and names the entry holding that byte; the file is not changed', async (t) => {
  const { path, leaves, leafTile } = await written(8);
  const heads = [{ source: 'checkpoint', size: 8, root: rootFromLeafHashes(leaves) }];
  const good = await readFile(path);
  t.like(await auditEntryFile(path, { heads, leafTile }), { coveredSize: 8, coveredBytes: good.length, resumeMatches: false });
  for (let offset = 0; offset < good.length; offset++) {
    const bad = Buffer.from(good);
    bad[offset] = bad[offset]! ^ (1 << offset % 8);
    await writeFile(path, bad);
    const error = await auditEntryFile(path, { heads, leafTile }).then(
      () => undefined,
      (e: unknown) => e,
    );
    if (!(error instanceof PublishedHistoryError) || error.index !== frameAt(good, offset)) {
      t.fail(`byte ${offset}: ${error instanceof Error ? error.message : 'not caught'}`);
      return;
    }
    t.deepEqual(await readFile(path), bad, `byte ${offset}: the audit only reads`);
  }
  t.pass();
});

test('entries past every head are not judged; a size-only head only needs its entries whole', async (t) => {
  const { path, leaves, leafTile } = await written(10);
  const bytes = await readFile(path);
  await writeFile(path, bytes.subarray(0, bytes.length - 3)); // entry 9 torn
  const audit = await auditEntryFile(path, { heads: [{ source: 'checkpoint', size: 8, root: rootFromLeafHashes(leaves.slice(0, 8)) }, { source: 'anchor.json', size: 9, root: undefined }], leafTile });
  t.is(audit.coveredSize, 9);
  const error = await t.throwsAsync(auditEntryFile(path, { heads: [{ source: 'anchor.json', size: 10, root: undefined }], leafTile }), { instanceOf: PublishedHistoryError });
  t.is(error.index, 9);
  t.regex(error.message, /entry 9 is torn/);
});
