// C2SP tlog-tiles: paths, entry bundles, hash tiles, tilesChanged and proofs served from tiles.
// Published vectors: the tlog-tiles spec (github.com/C2SP/C2SP, tlog-tiles.md: 1234067 → x001/x234/067,
// the 70,000- and 256-leaf tile sets); github.com/transparency-dev/trillian-tessera
// (api/layout/paths_test.go, api/layout/example_test.go); github.com/golang/mod
// (sumdb/tlog/tlog_test.go tilePaths, whose paths carry a tile-height element C2SP drops: only their
// <N> encodings and invalid elements are used). Leaf hashes: testdata/merkle-vectors.json
// (transparency-dev/merkle), each with its reproducing command there.
import test from 'ava';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { bytesEqual, fromHex, hashLeaf, toHex } from './merkle-hash.ts';
import { consistencyProof, inclusionProof, nodeAtFromLeaves, treeRoot } from './proofs.ts';
import {
  MAX_ENTRY_SIZE,
  TILE_WIDTH,
  TileError,
  decodeEntryBundle,
  encodeEntryBundle,
  entryBundlePath,
  hashTile,
  nodeAtFromTiles,
  parseTilePath,
  tilePath,
  tileRefPath,
  tilesChanged,
  type HashTile,
  type TileErrorCode,
  type TileRef,
} from './tlog-tiles.ts';

const codeOf = (fn: () => unknown): string => {
  try {
    fn();
  } catch (err) {
    if (err instanceof TileError) return err.code;
    throw err;
  }
  return 'ok';
};

// ---- paths: positive vectors ----

const tilePaths: { desc: string; level: number; index: number; width?: number; path: string }[] = [
  { desc: 'tessera TilePath(0, 0, 256)', level: 0, index: 0, path: 'tile/0/000' },
  { desc: 'tessera TilePath(0, 0, 255)', level: 0, index: 0, width: 255, path: 'tile/0/000.p/255' },
  { desc: 'tessera TilePath(1, 0, max)', level: 1, index: 0, path: 'tile/1/000' },
  { desc: 'tessera TilePath(1, 0, 256): tree of 256 has a level-1 tile of width 1', level: 1, index: 0, width: 1, path: 'tile/1/000.p/1' },
  { desc: 'tessera TilePath(1, 0, 1024)', level: 1, index: 0, width: 4, path: 'tile/1/000.p/4' },
  { desc: 'tessera TilePath(15, 455667)', level: 15, index: 455667, path: 'tile/15/x455/667' },
  { desc: 'tessera TilePath(3, 1234567)', level: 3, index: 1234567, path: 'tile/3/x001/x234/567' },
  { desc: 'tessera TilePath(15, 123456789)', level: 15, index: 123456789, path: 'tile/15/x123/x456/789' },
  { desc: 'tessera ExampleTilePath(0, 1234067, size 315921160)', level: 0, index: 1234067, width: 8, path: 'tile/0/x001/x234/067.p/8' },
  { desc: 'C2SP spec: index 1234067', level: 0, index: 1234067, path: 'tile/0/x001/x234/067' },
  { desc: 'golang/mod: N 123456078, partial 2', level: 5, index: 123456078, width: 2, path: 'tile/5/x123/x456/078.p/2' },
  { desc: 'golang/mod: N 3057500', level: 0, index: 3057500, path: 'tile/0/x003/x057/500' },
  { desc: 'golang/mod: N 1, partial 5', level: 0, index: 1, width: 5, path: 'tile/0/001.p/5' },
  { desc: 'tessera ParseTileLevelIndexWidth 0 x001/x234/067.p/89', level: 0, index: 1234067, width: 89, path: 'tile/0/x001/x234/067.p/89' },
  { desc: 'exactly 1000', level: 2, index: 1000, path: 'tile/2/x001/000' },
  { desc: 'largest index: 2^53 − 1', level: 63, index: Number.MAX_SAFE_INTEGER, path: 'tile/63/x009/x007/x199/x254/x740/991' },
];

const bundlePaths: { desc: string; index: number; width?: number; path: string }[] = [
  { desc: 'tessera EntriesPath(0, 289)', index: 0, path: 'tile/entries/000' },
  { desc: 'tessera EntriesPath(0, 8)', index: 0, width: 8, path: 'tile/entries/000.p/8' },
  { desc: 'tessera EntriesPath(255, 65536)', index: 255, path: 'tile/entries/255' },
  { desc: 'tessera EntriesPath(255, 255·256 − 3)', index: 255, width: 253, path: 'tile/entries/255.p/253' },
  { desc: 'tessera EntriesPath(256)', index: 256, path: 'tile/entries/256' },
  { desc: 'tessera EntriesPath(123456789000)', index: 123456789000, path: 'tile/entries/x123/x456/x789/000' },
  { desc: 'tessera EntriesPathForLogIndex(256, 257)', index: 1, width: 1, path: 'tile/entries/001.p/1' },
  { desc: 'tessera EntriesPathForLogIndex(123456789·256)', index: 123456789, path: 'tile/entries/x123/x456/789' },
  { desc: 'tessera ExampleEntriesPath(1234067, 315921160)', index: 1234067, width: 8, path: 'tile/entries/x001/x234/067.p/8' },
];

for (const v of tilePaths) {
  test(`tile path: ${v.desc} → ${v.path}, and back`, (t) => {
    t.is(tilePath(v), v.path);
    t.deepEqual(parseTilePath(v.path), { kind: 'hash', level: v.level, index: v.index, width: v.width ?? TILE_WIDTH });
  });
}

for (const v of bundlePaths) {
  test(`bundle path: ${v.desc} → ${v.path}, and back`, (t) => {
    t.is(entryBundlePath(v), v.path);
    t.deepEqual(parseTilePath(v.path), { kind: 'entries', index: v.index, width: v.width ?? TILE_WIDTH });
  });
}

// ---- paths: negative vectors ----

const badPaths: { desc: string; path: string; wantErr: TileErrorCode }[] = [
  { desc: 'tessera: empty width', path: 'tile/0/x001/x234/067.p/', wantErr: 'BadWidth' },
  { desc: 'tessera: ".p" without width', path: 'tile/0/x001/x234/067.p', wantErr: 'BadWidth' },
  { desc: 'tessera: trailing slash', path: 'tile/0/x001/x234/', wantErr: 'BadIndex' },
  { desc: 'tessera: last element with x', path: 'tile/0/x001/x234', wantErr: 'BadIndex' },
  { desc: 'tessera: x001/', path: 'tile/0/x001/', wantErr: 'BadIndex' },
  { desc: 'tessera: only x001', path: 'tile/0/x001', wantErr: 'BadIndex' },
  { desc: 'tessera: width abc', path: 'tile/1/x001/.p/abc', wantErr: 'BadWidth' },
  { desc: 'tessera: level 64', path: 'tile/64/x001/002', wantErr: 'BadLevel' },
  { desc: 'tessera: level -1', path: 'tile/-1/x001/002', wantErr: 'BadLevel' },
  { desc: 'tessera: level abc', path: 'tile/abc/x001/002', wantErr: 'BadLevel' },
  { desc: 'tessera: non-final element without x', path: 'tile/8/001/002', wantErr: 'BadIndex' },
  { desc: 'tessera: 4-digit element', path: 'tile/8/x001/0002', wantErr: 'BadIndex' },
  { desc: 'tessera: negative element', path: 'tile/8/x001/-002', wantErr: 'BadIndex' },
  { desc: 'tessera: width 256', path: 'tile/8/x001/002.p/256', wantErr: 'BadWidth' },
  { desc: 'tessera: index past 2^53 (valid in C2SP, beyond our trees)', path: 'tile/63/x999/x999/x999/x999/x999/999.p/255', wantErr: 'IndexTooLarge' },
  { desc: 'golang/mod: tile/3/5/123/456/078 (no x)', path: 'tile/3/5/123/456/078', wantErr: 'BadIndex' },
  { desc: 'golang/mod: tile/3/-1/123/456/078', path: 'tile/3/-1/123/456/078', wantErr: 'BadIndex' },
  { desc: 'golang/mod: tile/1/data/x003/x057/500', path: 'tile/1/data/x003/x057/500', wantErr: 'BadIndex' },
  { desc: 'level with a leading zero', path: 'tile/00/000', wantErr: 'BadLevel' },
  { desc: 'width 0', path: 'tile/0/000.p/0', wantErr: 'BadWidth' },
  { desc: 'width with a leading zero', path: 'tile/0/000.p/08', wantErr: 'BadWidth' },
  { desc: 'entries width 256', path: 'tile/entries/000.p/256', wantErr: 'BadWidth' },
  { desc: 'element after the width', path: 'tile/entries/x001/x234/067.p/8/9', wantErr: 'BadWidth' },
  { desc: '.p on a non-final element', path: 'tile/0/x001.p/5/234', wantErr: 'BadWidth' },
  { desc: 'leading slash', path: '/tile/0/000', wantErr: 'BadTilePath' },
  { desc: 'no index', path: 'tile/0', wantErr: 'BadTilePath' },
  { desc: 'wrong first element', path: 'tiles/0/000', wantErr: 'BadTilePath' },
  { desc: 'checkpoint is not a tile', path: 'checkpoint', wantErr: 'BadTilePath' },
  { desc: 'two-digit element', path: 'tile/0/01', wantErr: 'BadIndex' },
  { desc: 'leading zero group: a second path for tile 1', path: 'tile/0/x000/001', wantErr: 'BadIndex' },
  { desc: 'upper-case X', path: 'tile/0/X001/000', wantErr: 'BadIndex' },
  { desc: 'one past 2^53 − 1', path: 'tile/0/x009/x007/x199/x254/x740/992', wantErr: 'IndexTooLarge' },
];

for (const v of badPaths) {
  test(`bad tile path: ${v.desc}: ${JSON.stringify(v.path)} → ${v.wantErr}`, (t) => {
    const err = t.throws(() => parseTilePath(v.path), { instanceOf: TileError });
    t.is(err.code, v.wantErr);
    if (v.wantErr !== 'BadLevel' && v.path.length > 0) t.true(err.message.includes(JSON.stringify(v.path)), err.message);
  });
}

test('tilePath and entryBundlePath refuse out-of-range levels, indexes and widths', (t) => {
  t.is(codeOf(() => tilePath({ level: 64, index: 0 })), 'BadLevel');
  t.is(codeOf(() => tilePath({ level: -1, index: 0 })), 'BadLevel');
  t.is(codeOf(() => tilePath({ level: 0, index: -1 })), 'BadIndex');
  t.is(codeOf(() => tilePath({ level: 0, index: 1.5 })), 'BadIndex');
  t.is(codeOf(() => tilePath({ level: 0, index: 2 ** 53 })), 'BadIndex');
  t.is(codeOf(() => tilePath({ level: 0, index: 0, width: 0 })), 'BadWidth');
  t.is(codeOf(() => entryBundlePath({ index: 0, width: 257 })), 'BadWidth');
  t.is(codeOf(() => entryBundlePath({ index: 0, width: 2.5 })), 'BadWidth');
});

// ---- entry bundles ----

const enc = new TextEncoder();

test('entry bundle bytes: big-endian uint16 length, then the entry', (t) => {
  t.is(toHex(encodeEntryBundle([enc.encode('hello')])), '000568656c6c6f');
  t.is(toHex(encodeEntryBundle([new Uint8Array(0), enc.encode('a'), new Uint8Array(256)])), `00000001610100${'00'.repeat(256)}`);
  const big = new Uint8Array(MAX_ENTRY_SIZE).fill(7);
  t.deepEqual(decodeEntryBundle(encodeEntryBundle([big])), [big]);
  t.is(decodeEntryBundle(encodeEntryBundle(Array.from({ length: 256 }, () => new Uint8Array(0))), 256).length, 256);
});

const badBundles: { desc: string; hex: string; width?: number; wantErr: TileErrorCode; offset?: string }[] = [
  { desc: 'empty bundle', hex: '', wantErr: 'TooFewEntries' },
  { desc: 'one byte of a length prefix', hex: '00', wantErr: 'TruncatedBundle', offset: 'offset 0' },
  { desc: 'entry shorter than its length', hex: '000561', wantErr: 'TruncatedBundle', offset: 'offset 0' },
  { desc: 'trailing byte after a valid entry', hex: '00016100', wantErr: 'TruncatedBundle', offset: 'offset 3' },
  { desc: 'second entry truncated', hex: '0001610002ff', wantErr: 'TruncatedBundle', offset: 'offset 3' },
  { desc: 'more entries than the width', hex: '000161000162', width: 1, wantErr: 'TooManyEntries', offset: 'offset 3' },
  { desc: 'fewer entries than the width', hex: '000161000162', width: 3, wantErr: 'TooFewEntries' },
  { desc: '257 empty entries', hex: '0000'.repeat(257), wantErr: 'TooManyEntries', offset: 'offset 512' },
];

for (const v of badBundles) {
  test(`bad entry bundle: ${v.desc} → ${v.wantErr}`, (t) => {
    const err = t.throws(() => decodeEntryBundle(fromHex(v.hex), v.width), { instanceOf: TileError });
    t.is(err.code, v.wantErr);
    if (v.offset !== undefined) t.true(err.message.includes(v.offset), err.message);
  });
}

test('encodeEntryBundle refuses no entries, 257 entries and a 65536-byte entry', (t) => {
  t.is(codeOf(() => encodeEntryBundle([])), 'TooFewEntries');
  t.is(codeOf(() => encodeEntryBundle(Array.from({ length: 257 }, () => new Uint8Array(1)))), 'TooManyEntries');
  t.is(codeOf(() => encodeEntryBundle([new Uint8Array(1), new Uint8Array(MAX_ENTRY_SIZE + 1)])), 'EntryTooLarge');
  t.is(codeOf(() => decodeEntryBundle(fromHex('0000'), 0)), 'BadWidth');
});

test('property: entry bundles round-trip, and every truncation is refused', (t) => {
  t.notThrows(() =>
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 40 }), { minLength: 1, maxLength: TILE_WIDTH }), fc.nat(), (entries, cut) => {
        const bytes = encodeEntryBundle(entries);
        const back = decodeEntryBundle(bytes, entries.length);
        const at = cut % bytes.length;
        return (
          back.length === entries.length &&
          back.every((e, i) => bytesEqual(e, entries[i] as Uint8Array)) &&
          codeOf(() => decodeEntryBundle(bytes.subarray(0, at), entries.length)) !== 'ok'
        );
      }),
      { numRuns: 200 },
    ),
  );
});

// ---- tilesChanged ----

const summary = (refs: readonly TileRef[]): string[] => {
  const groups = new Map<string, number>();
  for (const ref of refs) {
    const key = ref.kind === 'entries' ? `entries w${ref.width}` : `L${ref.level} w${ref.width}`;
    groups.set(key, (groups.get(key) ?? 0) + 1);
  }
  return [...groups].map(([k, n]) => `${n}×${k}`);
};

test('tilesChanged(0, 70000): the C2SP example — 273 full + 112-wide level 0, 1 full + 17-wide level 1, 1-wide level 2', (t) => {
  t.deepEqual(summary(tilesChanged(0, 70000)), ['273×entries w256', '1×entries w112', '273×L0 w256', '1×L0 w112', '1×L1 w256', '1×L1 w17', '1×L2 w1']);
});

test('tilesChanged(0, 256): the C2SP example — one full level-0 tile and a level-1 tile of width 1', (t) => {
  t.deepEqual(tilesChanged(0, 256).map(tileRefPath), ['tile/entries/000', 'tile/0/000', 'tile/1/000.p/1']);
});

test('tilesChanged(0, 1024): tessera TilePath(1, 0, 1024) is tile/1/000.p/4', (t) => {
  t.deepEqual(tilesChanged(0, 1024).filter((r) => r.kind === 'hash' && r.level === 1).map(tileRefPath), ['tile/1/000.p/4']);
});

test('tilesChanged over small growths: only the tiles that change', (t) => {
  t.deepEqual(tilesChanged(1, 1), []);
  t.deepEqual(tilesChanged(0, 0), []);
  t.deepEqual(tilesChanged(100, 101).map(tileRefPath), ['tile/entries/000.p/101', 'tile/0/000.p/101']);
  t.deepEqual(tilesChanged(1023, 1025).map(tileRefPath), ['tile/entries/003', 'tile/entries/004.p/1', 'tile/0/003', 'tile/0/004.p/1', 'tile/1/000.p/4']);
  t.deepEqual(tilesChanged(1024, 1030).map(tileRefPath), ['tile/entries/004.p/6', 'tile/0/004.p/6']);
  t.deepEqual(tilesChanged(65535, 65536).map(tileRefPath), ['tile/entries/255', 'tile/0/255', 'tile/1/000', 'tile/2/000.p/1']);
});

test('tilesChanged refuses shrinking and unsafe sizes', (t) => {
  t.is(codeOf(() => tilesChanged(5, 4)), 'BadTreeSize');
  t.is(codeOf(() => tilesChanged(-1, 4)), 'BadTreeSize');
  t.is(codeOf(() => tilesChanged(0, 2 ** 53)), 'BadTreeSize');
  t.is(codeOf(() => tilesChanged(0.5, 4)), 'BadTreeSize');
});

// ---- hash tiles ----

interface Vectors {
  leaves: { input: string; leafHash: string }[];
  roots: { size: number; root: string }[];
}
const vectors = JSON.parse(readFileSync(new URL('testdata/merkle-vectors.json', import.meta.url), 'utf8')) as Vectors;
const goldenLeaves = vectors.leaves.map((l) => fromHex(l.leafHash));

test('hashTile at level 0 is the leaf hashes in order (transparency-dev/merkle leaf vectors)', (t) => {
  const n = goldenLeaves.length;
  t.is(toHex(hashTile(0, 0, n, nodeAtFromLeaves(goldenLeaves))), vectors.leaves.map((l) => l.leafHash).join(''));
});

test('nodeAtFromTiles over the golden leaves gives the golden roots for every size', (t) => {
  for (const { size, root } of vectors.roots.filter((r) => r.size > 0)) {
    const tile = hashTile(0, 0, size, nodeAtFromLeaves(goldenLeaves.slice(0, size)));
    t.is(toHex(treeRoot(size, nodeAtFromTiles(size, () => tile))), root, `size ${size}`);
  }
});

test('hashTile refuses bad coordinates and short hashes', (t) => {
  const nodeAt = nodeAtFromLeaves(goldenLeaves);
  t.is(codeOf(() => hashTile(0, 0, 0, nodeAt)), 'BadWidth');
  t.is(codeOf(() => hashTile(64, 0, 1, nodeAt)), 'BadLevel');
  t.is(codeOf(() => hashTile(0, 0, 1, () => new Uint8Array(31))), 'BadTileSize');
});

test('nodeAtFromTiles refuses a tile of the wrong size and nodes past the tree', (t) => {
  const tile = hashTile(0, 0, 5, nodeAtFromLeaves(goldenLeaves.slice(0, 5)));
  t.is(codeOf(() => treeRoot(6, nodeAtFromTiles(6, () => tile))), 'BadTileSize');
  t.is(codeOf(() => nodeAtFromTiles(5, () => tile)(3, 0)), 'BadTreeSize');
  t.is(codeOf(() => nodeAtFromTiles(5, () => tile)(0, 300)), 'BadTreeSize');
  t.is(codeOf(() => nodeAtFromTiles(-1, () => tile)), 'BadTreeSize');
});

// ---- a tiled log grown step by step serves the same roots and proofs as the leaves ----

const leafCache: Uint8Array[] = [];
const leavesUpTo = (n: number): Uint8Array[] => {
  for (let i = leafCache.length; i < n; i++) leafCache.push(hashLeaf(enc.encode(`leaf ${i}`)));
  return leafCache.slice(0, n);
};
const entryOf = (i: number): Uint8Array => enc.encode(`leaf ${i}`);

/** A tiled log in memory: writes what tilesChanged names; full tiles must be written once. */
class TileStore {
  readonly files = new Map<string, Uint8Array>();
  readonly problems: string[] = [];

  grow(oldSize: number, newSize: number): void {
    const nodeAt = nodeAtFromLeaves(leavesUpTo(newSize));
    for (const ref of tilesChanged(oldSize, newSize)) {
      const path = tileRefPath(ref);
      if (this.files.has(path)) this.problems.push(`${path} written twice`);
      const start = ref.index * TILE_WIDTH;
      const bytes =
        ref.kind === 'entries'
          ? encodeEntryBundle(Array.from({ length: ref.width }, (_, i) => entryOf(start + i)))
          : hashTile(ref.level, ref.index, ref.width, nodeAt);
      this.files.set(path, bytes);
    }
  }

  read(tile: HashTile): Uint8Array {
    const bytes = this.files.get(tilePath(tile));
    if (bytes === undefined) throw new Error(`missing ${tilePath(tile)}`);
    return bytes;
  }
}

/** Roots and proofs from the tiles equal those from the leaves; bundles hash to the level-0 tiles. */
function checkServedFromTiles(store: TileStore, size: number, picks: { index: number; size1: number }): string[] {
  const wrong: string[] = [];
  const fromLeaves = nodeAtFromLeaves(leavesUpTo(size));
  const fromTiles = nodeAtFromTiles(size, (tile) => store.read(tile));
  if (!bytesEqual(treeRoot(size, fromTiles), treeRoot(size, fromLeaves))) wrong.push(`root at ${size}`);
  if (size === 0) return wrong;
  const index = picks.index % size;
  const size1 = 1 + (picks.size1 % size);
  if (inclusionProof(index, size, fromTiles).map(toHex).join() !== inclusionProof(index, size, fromLeaves).map(toHex).join()) wrong.push(`inclusion ${index} in ${size}`);
  if (consistencyProof(size1, size, fromTiles).map(toHex).join() !== consistencyProof(size1, size, fromLeaves).map(toHex).join()) wrong.push(`consistency ${size1}→${size}`);
  const bundleIndex = Math.floor(index / TILE_WIDTH);
  const width = Math.min(TILE_WIDTH, size - bundleIndex * TILE_WIDTH);
  const bundle = store.files.get(entryBundlePath({ index: bundleIndex, width }));
  const level0 = store.read({ kind: 'hash', level: 0, index: bundleIndex, width });
  const rehashed = decodeEntryBundle(bundle ?? new Uint8Array(0), width).map(hashLeaf);
  if (!bytesEqual(Buffer.concat(rehashed), level0)) wrong.push(`bundle ${bundleIndex} vs level-0 tile at ${size}`);
  return wrong;
}

test('property: tiles written by tilesChanged over random growths serve the roots and proofs of proofs.ts (sizes ≤ 2000)', (t) => {
  t.notThrows(() =>
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 2000 }), { minLength: 1, maxLength: 6 }), fc.nat(), fc.nat(), (sizes, index, size1) => {
        const store = new TileStore();
        const wrong: string[] = [];
        let size = 0;
        for (const next of [...sizes].sort((a, b) => a - b)) {
          store.grow(size, next);
          size = next;
          wrong.push(...checkServedFromTiles(store, size, { index, size1 }));
        }
        wrong.push(...store.problems);
        if (wrong.length > 0) throw new Error(wrong.join('; '));
      }),
      { numRuns: 40 },
    ),
  );
});

test('a tiled log grown to 70,000 leaves (three tile levels) serves the same roots and proofs', (t) => {
  const store = new TileStore();
  let size = 0;
  const wrong: string[] = [];
  for (const next of [1, 255, 256, 300, 65535, 65536, 65537, 70000]) {
    store.grow(size, next);
    size = next;
    wrong.push(...checkServedFromTiles(store, size, { index: size * 7919, size1: size * 104729 }));
  }
  t.deepEqual([...wrong, ...store.problems], []);
  t.true(store.files.has('tile/2/000.p/1'));
  // Hash i of a level-L tile is MTH of 256^L leaves: level 1 → 256 leaves, level 2 → 65,536 leaves.
  const nodeAt = nodeAtFromLeaves(leavesUpTo(65536));
  t.is(toHex(hashTile(1, 0, 1, nodeAt)), toHex(treeRoot(256, nodeAt)));
  t.is(toHex(hashTile(2, 0, 1, nodeAt)), toHex(treeRoot(65536, nodeAt)));
});

test('property: a bit flip in any tile read for the root changes the root', (t) => {
  const size = 1300;
  const store = new TileStore();
  store.grow(0, size);
  const want = treeRoot(size, nodeAtFromLeaves(leavesUpTo(size)));
  const read: string[] = [];
  treeRoot(size, nodeAtFromTiles(size, (tile) => (read.push(tilePath(tile)), store.read(tile))));
  t.deepEqual(read, ['tile/1/000.p/5', 'tile/0/005.p/20']);
  t.notThrows(() =>
    fc.assert(
      fc.property(fc.constantFrom(...read), fc.nat(), (path, bit) => {
        const original = store.files.get(path) as Uint8Array;
        const flipped = Uint8Array.from(original);
        const at = Math.floor(bit / 8) % flipped.length;
        flipped[at] = (flipped[at] as number) ^ (1 << bit % 8);
        const got = treeRoot(size, nodeAtFromTiles(size, (tile) => (tilePath(tile) === path ? flipped : store.read(tile))));
        return !bytesEqual(got, want);
      }),
      { numRuns: 300 },
    ),
  );
});
