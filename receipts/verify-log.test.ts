import test from 'ava';
import fc from 'fast-check';
import { signCheckpoint } from './checkpoint.ts';
import { ReceiptChain } from './receipt-chain.ts';
import { generateNoteKey } from './signed-note.ts';
import { TileBuilder } from './tile-builder.ts';
import { encodeEntryBundle, entryBundlePath, TILE_WIDTH } from './tlog-tiles.ts';
import { verifyLog, type LogVerification } from './verify-log.ts';

const KEY = generateNoteKey('test.tai.dev/log', new Uint8Array(32).fill(7));
const OTHER = generateNoteKey('test.tai.dev/log', new Uint8Array(32).fill(8));
const SIZE = 600; // two full bundles and a partial one

/** A published log in memory: path → bytes, and its entries. */
function publish(entries?: Uint8Array[]): { files: Map<string, Uint8Array>; entries: Uint8Array[] } {
  const chain = new ReceiptChain();
  const tiles = new TileBuilder();
  const out: Uint8Array[] = [];
  const files = new Map<string, Uint8Array>();
  for (let i = 0; i < SIZE; i++) {
    const e = chain.append('decision', { tenant: `t${i % 7}`, op: 'consume', subject: 'calls', amount: i, allowed: true, reason: 'Allowed' }, 1_800_000_000_000_000 + i);
    tiles.add(e);
    out.push(e.bytes);
  }
  for (const f of tiles.drain()) files.set(f.path, f.bytes);
  files.set('checkpoint', new TextEncoder().encode(signCheckpoint({ origin: 'test.tai.dev/log', size: SIZE, root: chain.root() }, KEY.signerKey)));
  if (entries) rewriteBundles(files, entries);
  return { files, entries: out };
}

/** Replaces the entry bundles with these entries (tiles and checkpoint untouched). */
function rewriteBundles(files: Map<string, Uint8Array>, entries: Uint8Array[]): void {
  for (let b = 0; b * TILE_WIDTH < SIZE; b++) {
    const width = Math.min(TILE_WIDTH, SIZE - b * TILE_WIDTH);
    files.set(entryBundlePath({ index: b, width }), encodeEntryBundle(entries.slice(b * TILE_WIDTH, b * TILE_WIDTH + width)));
  }
}

const verify = (files: Map<string, Uint8Array>, verifierKey = KEY.verifierKey): Promise<LogVerification> =>
  verifyLog({ read: async (p) => files.get(p), verifierKey });

test('a published log verifies', async (t) => {
  const { files } = publish();
  const r = await verify(files);
  t.true(r.ok, JSON.stringify(r.defects));
  t.is(r.entries, SIZE);
});

test('property: any flipped byte in any entry bundle is caught at that entry or the next', async (t) => {
  const { files } = publish();
  const bundles = [...files.keys()].filter((p) => p.startsWith('tile/entries/'));
  await fc.assert(
    fc.asyncProperty(fc.nat({ max: bundles.length - 1 }), fc.nat(), fc.integer({ min: 1, max: 255 }), async (b, at, xor) => {
      const copy = new Map(files);
      const path = bundles[b]!;
      const bytes = Uint8Array.from(copy.get(path)!);
      const pos = at % bytes.length;
      bytes[pos]! ^= xor;
      copy.set(path, bytes);
      const r = await verify(copy);
      if (r.ok) return false;
      const d = r.defects[0]!;
      return d.path === path || d.path?.startsWith('tile/0/') === true;
    }),
    { numRuns: 300 },
  );
  t.pass();
});

const edits: [string, (e: Uint8Array[]) => Uint8Array[], number][] = [
  ['a dropped entry', (e) => [...e.slice(0, 300), ...e.slice(301), e[0]!], 300],
  ['a duplicated entry', (e) => [...e.slice(0, 301), e[300]!, ...e.slice(301, -1)], 301],
  ['two entries swapped', (e) => [...e.slice(0, 300), e[301]!, e[300]!, ...e.slice(302)], 300],
  ['an inserted entry from another log', (e) => [...e.slice(0, 10), publish().entries[5]!, ...e.slice(10, -1)], 10],
];
for (const [what, edit, index] of edits) {
  test(`${what} is caught and named at entry ${index}`, async (t) => {
    const { files, entries } = publish();
    rewriteBundles(files, edit(entries));
    const r = await verify(files);
    t.false(r.ok);
    t.is(r.defects[0]!.index, index, r.defects[0]!.message);
  });
}

test('a truncated hash tile is named', async (t) => {
  const { files } = publish();
  files.set('tile/0/001', files.get('tile/0/001')!.subarray(0, 255 * 32));
  const r = await verify(files);
  t.false(r.ok);
  t.is(r.defects[0]!.path, 'tile/0/001');
});

test('a truncated entry bundle is named', async (t) => {
  const { files } = publish();
  const path = entryBundlePath({ index: 2, width: SIZE - 512 });
  files.set(path, files.get(path)!.subarray(0, 100));
  const r = await verify(files);
  t.like(r.defects[0], { index: 512, path });
});

test('a checkpoint signed by another key, or with a rewritten root, is refused', async (t) => {
  const { files } = publish();
  t.like((await verify(files, OTHER.verifierKey)).defects[0], { path: 'checkpoint' });
  const forged = new Map(files);
  const text = new TextDecoder().decode(files.get('checkpoint')).replace(/^(.+\n\d+\n)(.)/, (_m, head: string, c: string) => head + (c === 'A' ? 'B' : 'A'));
  forged.set('checkpoint', new TextEncoder().encode(text));
  t.like((await verify(forged)).defects[0], { path: 'checkpoint' });
});

test('entries rewritten consistently (chain and tiles rebuilt) no longer match the signed root', async (t) => {
  const { files } = publish();
  // An attacker re-chains edited entries and rebuilds every tile, but cannot sign: the old checkpoint stays.
  const chain = new ReceiptChain();
  const tiles = new TileBuilder();
  for (let i = 0; i < SIZE; i++) tiles.add(chain.append('decision', { tenant: 'evil', op: 'consume', subject: 'calls', amount: i, allowed: true, reason: 'Allowed' }, 0));
  for (const f of tiles.drain()) files.set(f.path, f.bytes);
  const r = await verify(files);
  t.false(r.ok);
  t.like(r.defects[0], { path: 'checkpoint' });
  t.regex(r.defects[0]!.message, /is not the root/);
});

test('a stale checkpoint (an older signed one put back) is caught', async (t) => {
  const { files } = publish();
  // The same log signed at size 500: a valid signature over an older state.
  const chain = new ReceiptChain();
  for (let i = 0; i < 500; i++) chain.append('decision', { tenant: `t${i % 7}`, op: 'consume', subject: 'calls', amount: i, allowed: true, reason: 'Allowed' }, 1_800_000_000_000_000 + i);
  const stale = new Map(files);
  stale.set('checkpoint', new TextEncoder().encode(signCheckpoint({ origin: 'test.tai.dev/log', size: 500, root: chain.root() }, KEY.signerKey)));
  const tiles = new TileBuilder();
  const older = new ReceiptChain();
  for (let i = 0; i < 500; i++) tiles.add(older.append('decision', { tenant: `t${i % 7}`, op: 'consume', subject: 'calls', amount: i, allowed: true, reason: 'Allowed' }, 1_800_000_000_000_000 + i));
  for (const f of tiles.drain()) if (!f.full) stale.set(f.path, f.bytes); // the partial tiles of size 500 are there too
  const r = await verify(stale);
  t.false(r.ok);
  t.like(r.defects[0], { path: 'checkpoint', index: 500 });
  t.regex(r.defects[0]!.message, /^stale: tile\/entries\/001 holds entries up to 511, but the checkpoint covers only 500/);
});

/** The entry-by-entry path (a full decode and ReceiptChain.replay of each entry), which onEntry takes. */
const verifyEachEntry = (files: Map<string, Uint8Array>): Promise<LogVerification> =>
  verifyLog({ read: async (p) => files.get(p), verifierKey: KEY.verifierKey, onEntry: () => undefined });

test('property: without onEntry (the fast range checks) any flipped byte in any file gives the entry-by-entry result', async (t) => {
  const { files } = publish();
  const paths = [...files.keys()];
  await fc.assert(
    fc.asyncProperty(fc.nat({ max: paths.length - 1 }), fc.nat(), fc.integer({ min: 1, max: 255 }), async (p, at, xor) => {
      const copy = new Map(files);
      const bytes = Uint8Array.from(copy.get(paths[p]!)!);
      bytes[at % bytes.length]! ^= xor;
      copy.set(paths[p]!, bytes);
      t.deepEqual(await verify(copy), await verifyEachEntry(copy));
    }),
    { numRuns: 100 },
  );
  t.deepEqual(await verify(files), await verifyEachEntry(files));
});
