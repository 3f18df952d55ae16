import test from 'ava';
import fc from 'fast-check';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { decodeReceipt, encodeReceipt } from '../cbor.ts';
import { signCheckpoint } from '../checkpoint.ts';
import { hashLeaf } from '../merkle-hash.ts';
import { ReceiptChain, type ChainedEntry } from '../receipt-chain.ts';
import { generateNoteKey } from '../signed-note.ts';
import { TileBuilder } from '../tile-builder.ts';
import { decodeEntryBundle, encodeEntryBundle, TILE_WIDTH } from '../tlog-tiles.ts';
import { verifyLog, type LogVerification } from '../verify-log.ts';
import { logFolderReader } from './folder-reader.ts';
import { verifyLogInWorkers } from './verify-workers.ts';

const KEY = generateNoteKey('test.tai.dev/log', new Uint8Array(32).fill(7));
const SIZE = 600; // bundles 0 and 1 full, 2 partial: one bundle per range puts bundle 1 in the second worker

type Files = Map<string, Uint8Array>;

/** A published log in memory: path → bytes. */
function publish(size = SIZE): Files {
  const chain = new ReceiptChain();
  const tiles = new TileBuilder();
  const files: Files = new Map();
  for (let i = 0; i < size; i++) {
    tiles.add(chain.append('decision', { tenant: `t${i % 7}`, op: 'consume', subject: 'calls', amount: i, allowed: true, reason: 'Allowed' }, 1_800_000_000_000_000 + i));
    if (i % TILE_WIDTH === TILE_WIDTH - 1) keepFull(files, tiles);
  }
  for (const f of tiles.drain()) files.set(f.path, f.bytes);
  files.set('checkpoint', new TextEncoder().encode(signCheckpoint({ origin: 'test.tai.dev/log', size, root: chain.root() }, KEY.signerKey)));
  return files;
}

/** Full tiles drained so far; the partial ones drained with them are superseded, as the publisher deletes them. */
function keepFull(files: Files, tiles: TileBuilder): void {
  for (const f of tiles.drain()) if (f.full) files.set(f.path, f.bytes);
}

const reader = (files: Files) => async (p: string) => files.get(p);
// The reference: the entry-by-entry path (full decode and ReceiptChain.replay of each entry), which onEntry takes.
const single = (files: Files): Promise<LogVerification> => verifyLog({ read: reader(files), verifierKey: KEY.verifierKey, onEntry: () => undefined });
// Every range to a worker (none checked in this thread while the workers load), so the worker path is what is tested.
const workers = (files: Files): Promise<LogVerification> =>
  verifyLogInWorkers({ read: reader(files), verifierKey: KEY.verifierKey, workers: 2, rangeBundles: 1, minBundles: 1, startInThisThread: false });

function flip(files: Files, path: string, at: number, xor = 1): Files {
  const copy = new Map(files);
  const bytes = Uint8Array.from(copy.get(path)!);
  bytes[at % bytes.length]! ^= xor;
  copy.set(path, bytes);
  return copy;
}

const LOG = publish();

test('a published log verifies in workers with verifyLog\'s result', async (t) => {
  const r = await workers(LOG);
  t.true(r.ok, JSON.stringify(r.defects));
  t.deepEqual(r, await single(LOG));
});

test('a flipped byte in the second worker\'s bundle is reported as verifyLog reports it', async (t) => {
  const bad = flip(LOG, 'tile/entries/001', 700, 0x40);
  const r = await workers(bad);
  t.false(r.ok);
  t.is(r.defects[0]!.path, 'tile/entries/001');
  t.true(r.defects[0]!.index! >= 256 && r.defects[0]!.index! < 512, r.defects[0]!.message);
  t.deepEqual(r, await single(bad));
});

test('a prev link broken across the boundary of two workers\' ranges is reported at its entry, as verifyLog does', async (t) => {
  // Entry 255 rewritten (valid, its leaf hash put in tile/0/000 too): only entry 256's prev, in the next range, shows it.
  const bad = new Map(LOG);
  const entries = decodeEntryBundle(LOG.get('tile/entries/000')!, TILE_WIDTH);
  const receipt = decodeReceipt(entries[255]!);
  entries[255] = encodeReceipt({ ...receipt, body: { ...receipt.body, amount: 9999 } });
  bad.set('tile/entries/000', encodeEntryBundle(entries));
  const tile = Uint8Array.from(LOG.get('tile/0/000')!);
  tile.set(hashLeaf(entries[255]!), 255 * 32);
  bad.set('tile/0/000', tile);
  const r = await workers(bad);
  t.like(r, { ok: false, entries: 256 });
  t.like(r.defects[0], { index: 256, path: 'tile/entries/001' });
  t.regex(r.defects[0]!.message, /^entry 256: prev is [0-9a-f]{64}, want the leaf hash of entry 255, [0-9a-f]{64}: entry 255 or 256 was altered$/);
  t.deepEqual(r, await single(bad));
});

test('a damaged hash tile in the second worker\'s range is named as verifyLog names it', async (t) => {
  const bad = flip(LOG, 'tile/0/001', 32 * 17 + 3);
  const r = await workers(bad);
  t.like(r, { ok: false, entries: 512 });
  t.deepEqual(r.defects, [{ path: 'tile/0/001', message: 'hash tile differs from the hashes of the entries at hash 17 of the tile' }]);
  t.deepEqual(r, await single(bad));
});

test('defects in several ranges: the lowest is reported, as verifyLog reports it', async (t) => {
  const bad = flip(flip(LOG, 'tile/entries/002.p/88', 500), 'tile/entries/001', 9000);
  t.deepEqual(await workers(bad), await single(bad));
  const missing = new Map(LOG);
  missing.delete('tile/0/000');
  missing.delete('tile/entries/001');
  t.deepEqual(await workers(missing), await single(missing));
});

test('property: any flipped byte in any file gives verifyLog\'s result', async (t) => {
  const paths = [...LOG.keys()];
  await fc.assert(
    fc.asyncProperty(fc.nat({ max: paths.length - 1 }), fc.nat(), fc.integer({ min: 1, max: 255 }), async (p, at, xor) => {
      const bad = flip(LOG, paths[p]!, at, xor);
      t.deepEqual(await workers(bad), await single(bad));
    }),
    { numRuns: 25 },
  );
});

test('the root, a stale checkpoint and partial tiles are checked as verifyLog checks them', async (t) => {
  const stale = new Map(LOG);
  stale.set('tile/entries/002.p/89', LOG.get('tile/entries/002.p/88')!);
  t.deepEqual(await workers(stale), await single(stale));
  const partial = flip(LOG, 'tile/1/000.p/2', 5);
  const r = await workers(partial);
  t.like(r.defects[0], { path: 'tile/1/000.p/2' });
  t.deepEqual(r, await single(partial));
});

test('a read that throws past the first defect is never reached; one before it throws', async (t) => {
  const bad = flip(LOG, 'tile/entries/000', 40);
  const throwing = (files: Files) => async (p: string) => {
    if (p === 'tile/entries/001') throw new Error('network down');
    return files.get(p);
  };
  const opts = { verifierKey: KEY.verifierKey, workers: 2, rangeBundles: 1, minBundles: 1 };
  t.deepEqual(await verifyLogInWorkers({ ...opts, read: throwing(bad) }), await single(bad));
  await t.throwsAsync(verifyLogInWorkers({ ...opts, read: throwing(LOG) }), { message: 'network down' });
});

test('with onEntry, every entry is seen in order (verified in this thread)', async (t) => {
  const seen: number[] = [];
  const r = await verifyLogInWorkers({ read: reader(LOG), verifierKey: KEY.verifierKey, workers: 2, minBundles: 1, onEntry: (e: ChainedEntry) => seen.push(e.index) });
  t.true(r.ok);
  t.deepEqual(seen, Array.from({ length: SIZE }, (_, i) => i));
});

test('past 256 bundles (a full level-1 tile), the tiles and root stitched from the ranges match', async (t) => {
  const big = publish(TILE_WIDTH * TILE_WIDTH + 300);
  const opts = { read: reader(big), verifierKey: KEY.verifierKey, workers: 2 };
  const r = await verifyLogInWorkers(opts);
  t.true(r.ok, JSON.stringify(r.defects));
  t.deepEqual(r, await verifyLog(opts));
  const bad = flip(big, 'tile/1/000', 32 * 200);
  const badOpts = { ...opts, read: reader(bad) };
  t.like((await verifyLogInWorkers(badOpts)).defects[0], { path: 'tile/1/000' });
  t.deepEqual(await verifyLogInWorkers(badOpts), await verifyLog(badOpts));
});

test('a log folder read from disk: the same result, and a bundle deleted from the second range named the same', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'tai-verify-workers-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  for (const [path, bytes] of LOG) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), bytes);
  }
  const opts = { read: logFolderReader(dir), verifierKey: KEY.verifierKey, workers: 2, rangeBundles: 1, minBundles: 1 };
  t.deepEqual(await verifyLogInWorkers(opts), await verifyLog(opts));
  await rm(join(dir, 'tile/entries/001'));
  const r = await verifyLogInWorkers(opts);
  t.like(r.defects[0], { index: 256, path: 'tile/entries/001', message: 'entry bundle missing (entries 256–511)' });
  t.deepEqual(r, await verifyLog(opts));
});

test('ranges checked in this thread while the workers load give the same result, for any flipped byte', async (t) => {
  const paths = [...LOG.keys()];
  const started = (files: Files): Promise<LogVerification> =>
    verifyLogInWorkers({ read: reader(files), verifierKey: KEY.verifierKey, workers: 2, rangeBundles: 1, minBundles: 1, startInThisThread: true });
  t.deepEqual(await started(LOG), await single(LOG));
  await fc.assert(
    fc.asyncProperty(fc.nat({ max: paths.length - 1 }), fc.nat(), fc.integer({ min: 1, max: 255 }), async (p, at, xor) => {
      const bad = flip(LOG, paths[p]!, at, xor);
      t.deepEqual(await started(bad), await single(bad));
    }),
    { numRuns: 10 },
  );
});
