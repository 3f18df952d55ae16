// C2SP tlog-tiles (https://c2sp.org/tlog-tiles): tile and entry-bundle paths, entry-bundle bytes,
// hash-tile bytes, the tiles a tree growth must (re)write, and a NodeAt that serves proofs from
// stored tiles. Pure: every input is a parameter; no I/O, no clock.
//
// A hash tile at level L, index N holds up to 256 consecutive Merkle tree hashes of tree level 8·L:
// hash i is MTH(D[(N·256 + i)·256^L : (N·256 + i + 1)·256^L]). Level 0 holds leaf hashes.
import { HASH_SIZE, hashChildren } from './merkle-hash.ts';
import type { NodeAt } from './proofs.ts';

/** Hashes in a full tile and entries in a full bundle: 2^8. */
export const TILE_WIDTH = 256;
/** Tree levels spanned by one tile level: log2(TILE_WIDTH). */
export const TILE_HEIGHT = 8;
/** Highest tile level a path may name (tlog-tiles: 0 to 63). */
export const MAX_TILE_LEVEL = 63;
/** Largest entry an entry bundle can hold: its length is a big-endian uint16. */
export const MAX_ENTRY_SIZE = 0xffff;

/** Why a tile path, bundle or tile was refused. */
export type TileErrorCode =
  /** The path does not start with "tile/", or has no index after the level. */
  | 'BadTilePath'
  /** The level is not a decimal 0–63 without leading zeros. */
  | 'BadLevel'
  /** An index path element is not x<3 digits> (non-final) or <3 digits> (final). */
  | 'BadIndex'
  /** The index is past Number.MAX_SAFE_INTEGER (trees here have at most 2^53 − 1 leaves). */
  | 'IndexTooLarge'
  /** The width is not a decimal 1–255 without leading zeros, or a ".p/" suffix is malformed. */
  | 'BadWidth'
  /** An entry bundle ends inside a length prefix or inside an entry. */
  | 'TruncatedBundle'
  /** An entry bundle holds more entries than 256 or than its width. */
  | 'TooManyEntries'
  /** An entry bundle holds fewer entries than its width, or none. */
  | 'TooFewEntries'
  /** An entry is longer than 65535 bytes. */
  | 'EntryTooLarge'
  /** A hash tile's bytes are not width × 32. */
  | 'BadTileSize'
  /** Tree sizes are not safe integers or shrink. */
  | 'BadTreeSize';

/** A refused tile path, bundle or tile: `code` says why; the message names the path element or byte offset. */
export class TileError extends Error {
  readonly code: TileErrorCode;

  constructor(code: TileErrorCode, detail: string) {
    super(`${code}: ${detail}`);
    this.name = 'TileError';
    this.code = code;
  }
}

/** A hash tile: `width` hashes (1–256; 256 = full) of tree level 8·level, tile index `index`. */
export interface HashTile {
  kind: 'hash';
  level: number;
  index: number;
  width: number;
}

/** An entry bundle: `width` entries (1–256; 256 = full) starting at entry index·256. */
export interface EntryBundle {
  kind: 'entries';
  index: number;
  width: number;
}

/** A resource of the tiled log. */
export type TileRef = HashTile | EntryBundle;

// ---- paths ----

function checkWidth(width: number): void {
  if (!Number.isInteger(width) || width < 1 || width > TILE_WIDTH) throw new TileError('BadWidth', `width: got ${width}, want 1–${TILE_WIDTH}`);
}

function checkTileIndex(index: number): void {
  if (!Number.isSafeInteger(index) || index < 0) throw new TileError('BadIndex', `index: got ${index}, want a safe integer ≥ 0`);
}

/** `<N>[.p/<W>]`: N in 3-digit groups, every group but the last prefixed with "x"; `.p/<W>` when W < 256. */
function indexPath(index: number, width: number): string {
  checkTileIndex(index);
  checkWidth(width);
  let path = String(index % 1000).padStart(3, '0');
  for (let rest = Math.floor(index / 1000); rest > 0; rest = Math.floor(rest / 1000)) {
    path = `x${String(rest % 1000).padStart(3, '0')}/${path}`;
  }
  return width === TILE_WIDTH ? path : `${path}.p/${width}`;
}

/** Path of a hash tile, `tile/<L>/<N>[.p/<W>]`; width defaults to 256 (full). */
export function tilePath(tile: { level: number; index: number; width?: number }): string {
  const { level } = tile;
  if (!Number.isInteger(level) || level < 0 || level > MAX_TILE_LEVEL) throw new TileError('BadLevel', `level: got ${level}, want 0–${MAX_TILE_LEVEL}`);
  return `tile/${level}/${indexPath(tile.index, tile.width ?? TILE_WIDTH)}`;
}

/** Path of an entry bundle, `tile/entries/<N>[.p/<W>]`; width defaults to 256 (full). */
export function entryBundlePath(bundle: { index: number; width?: number }): string {
  return `tile/entries/${indexPath(bundle.index, bundle.width ?? TILE_WIDTH)}`;
}

/** Path of any {@link TileRef}. */
export function tileRefPath(ref: TileRef): string {
  return ref.kind === 'entries' ? entryBundlePath(ref) : tilePath(ref);
}

function parseLevel(path: string, text: string): number {
  if (!/^(0|[1-9][0-9]?)$/.test(text) || Number(text) > MAX_TILE_LEVEL) {
    throw new TileError('BadLevel', `${JSON.stringify(path)}: level ${JSON.stringify(text)}: want a decimal 0–${MAX_TILE_LEVEL} without leading zeros`);
  }
  return Number(text);
}

/** Splits off a `.p/<W>` suffix: the index elements and the width (256 when absent). */
function splitWidth(path: string, elements: string[]): { groups: string[]; width: number } {
  const at = elements.findIndex((e) => e.endsWith('.p'));
  if (at < 0) return { groups: elements, width: TILE_WIDTH };
  const widthText = elements[at + 1];
  if (at !== elements.length - 2 || widthText === undefined || !/^[1-9][0-9]{0,2}$/.test(widthText) || Number(widthText) >= TILE_WIDTH) {
    throw new TileError('BadWidth', `${JSON.stringify(path)}: want the index's last element followed by ".p/<W>" with W a decimal 1–255 without leading zeros`);
  }
  const groups = elements.slice(0, at + 1);
  groups[at] = (groups[at] as string).slice(0, -2);
  return { groups, width: Number(widthText) };
}

function parseIndex(path: string, groups: readonly string[]): number {
  if (groups.length > 1 && groups[0] === 'x000') {
    throw new TileError('BadIndex', `${JSON.stringify(path)}: index element 1 "x000": a leading zero group gives a second path for the same tile`);
  }
  let index = 0;
  groups.forEach((group, i) => {
    const final = i === groups.length - 1;
    const pattern = final ? /^[0-9]{3}$/ : /^x[0-9]{3}$/;
    if (!pattern.test(group)) {
      const want = final ? 'the last element: 3 digits without "x"' : 'non-final elements: "x" and 3 digits';
      throw new TileError('BadIndex', `${JSON.stringify(path)}: index element ${i + 1} ${JSON.stringify(group)}: want ${want}`);
    }
    index = index * 1000 + Number(final ? group : group.slice(1));
  });
  if (!Number.isSafeInteger(index)) throw new TileError('IndexTooLarge', `${JSON.stringify(path)}: index ${groups.join('/')} is past 2^53 − 1`);
  return index;
}

/**
 * Parses `tile/<L>/<N>[.p/<W>]` or `tile/entries/<N>[.p/<W>]` (relative, no leading "/"), strictly:
 * L is 0–63 without leading zeros; N is 3-digit groups, all but the last prefixed with "x", no
 * leading "x000" group (one path per tile), at most 2^53 − 1; W is 1–255 without leading zeros. Throws {@link TileError} naming the bad element.
 */
export function parseTilePath(path: string): TileRef {
  const elements = path.split('/');
  if (elements[0] !== 'tile' || elements.length < 3) {
    throw new TileError('BadTilePath', `${JSON.stringify(path)}: want tile/<L>/<N>[.p/<W>] or tile/entries/<N>[.p/<W>]`);
  }
  const second = elements[1] as string;
  const { groups, width } = splitWidth(path, elements.slice(2));
  const index = parseIndex(path, groups);
  if (second === 'entries') return { kind: 'entries', index, width };
  return { kind: 'hash', level: parseLevel(path, second), index, width };
}

// ---- entry bundles ----

/**
 * Entry bundle bytes: each entry as a big-endian uint16 length and its bytes, in order.
 * Preconditions, checked: 1–256 entries, each at most 65535 bytes.
 */
export function encodeEntryBundle(entries: readonly Uint8Array[]): Uint8Array {
  if (entries.length === 0) throw new TileError('TooFewEntries', 'an entry bundle holds at least 1 entry (empty tiles are never served)');
  if (entries.length > TILE_WIDTH) throw new TileError('TooManyEntries', `entries: got ${entries.length}, want at most ${TILE_WIDTH}`);
  let size = 0;
  entries.forEach((entry, i) => {
    if (entry.length > MAX_ENTRY_SIZE) throw new TileError('EntryTooLarge', `entry ${i}: got ${entry.length} bytes, want at most ${MAX_ENTRY_SIZE}`);
    size += 2 + entry.length;
  });
  const out = new Uint8Array(size);
  let at = 0;
  for (const entry of entries) {
    out[at] = entry.length >> 8;
    out[at + 1] = entry.length & 0xff;
    out.set(entry, at + 2);
    at += 2 + entry.length;
  }
  return out;
}

function readEntry(bytes: Uint8Array, at: number, count: number): Uint8Array {
  if (at + 2 > bytes.length) throw new TileError('TruncatedBundle', `entry ${count}: length prefix at offset ${at} runs past the end (${bytes.length} bytes)`);
  const length = ((bytes[at] as number) << 8) | (bytes[at + 1] as number);
  const end = at + 2 + length;
  if (end > bytes.length) throw new TileError('TruncatedBundle', `entry ${count} at offset ${at}: ${length} bytes run past the end (${bytes.length} bytes)`);
  return bytes.slice(at + 2, end);
}

/**
 * Entries of an entry bundle. With `width`, exactly that many entries are required (the bundle path's
 * width); without it, 1–256. Throws {@link TileError} naming the byte offset: TruncatedBundle,
 * TooManyEntries (also bytes left after the width-th entry), TooFewEntries.
 */
export function decodeEntryBundle(bytes: Uint8Array, width?: number): Uint8Array[] {
  if (width !== undefined) checkWidth(width);
  const max = width ?? TILE_WIDTH;
  const entries: Uint8Array[] = [];
  for (let at = 0; at < bytes.length; ) {
    if (entries.length === max) throw new TileError('TooManyEntries', `${bytes.length - at} bytes left at offset ${at} after entry ${max - 1}, want at most ${max} entries`);
    const entry = readEntry(bytes, at, entries.length);
    entries.push(entry);
    at += 2 + entry.length;
  }
  const min = width ?? 1;
  if (entries.length < min) throw new TileError('TooFewEntries', `entries: got ${entries.length}, want ${width === undefined ? 'at least 1' : width}`);
  return entries;
}

// ---- hash tiles ----

/**
 * Bytes of hash tile (level, index, width): `width` × 32 bytes, hash i being the tree node at level
 * 8·level, index index·256 + i, taken from `nodeAt` (see proofs.ts; nodeAtFromLeaves over stored
 * leaf hashes works). Preconditions, checked: level 0–63, index a safe integer ≥ 0, width 1–256;
 * `nodeAt` must know those nodes and return 32-byte hashes (BadTileSize otherwise).
 */
export function hashTile(level: number, index: number, width: number, nodeAt: NodeAt): Uint8Array {
  tilePath({ level, index, width });
  const out = new Uint8Array(width * HASH_SIZE);
  for (let i = 0; i < width; i++) {
    const node = nodeAt(level * TILE_HEIGHT, index * TILE_WIDTH + i);
    if (node.length !== HASH_SIZE) throw new TileError('BadTileSize', `node ${i} of ${tilePath({ level, index, width })}: got ${node.length} bytes, want ${HASH_SIZE}`);
    out.set(node, i * HASH_SIZE);
  }
  return out;
}

function checkTreeSize(field: string, size: number): void {
  if (!Number.isSafeInteger(size) || size < 0) throw new TileError('BadTreeSize', `${field}: got ${size}, want a safe integer ≥ 0`);
}

/** Tiles of one level (hashes of tree level 8·level) that change when that level grows from oldCount to newCount hashes. */
function levelTiles(oldCount: number, newCount: number): { index: number; width: number }[] {
  const tiles: { index: number; width: number }[] = [];
  if (oldCount === newCount) return tiles;
  for (let index = Math.floor(oldCount / TILE_WIDTH); index * TILE_WIDTH < newCount; index++) {
    tiles.push({ index, width: Math.min(TILE_WIDTH, newCount - index * TILE_WIDTH) });
  }
  return tiles;
}

/**
 * The entry bundles and hash tiles to write when the tree grows from `oldSize` to `newSize` leaves,
 * bundles first, then hash tiles by level: every tile that is new or wider at `newSize`. A full tile
 * appears once (when it fills); the rightmost tile of a level appears with its new partial width.
 * Level L holds floor(size / 256^L) hashes. Preconditions, checked: 0 ≤ oldSize ≤ newSize, safe integers.
 */
export function tilesChanged(oldSize: number, newSize: number): TileRef[] {
  checkTreeSize('oldSize', oldSize);
  checkTreeSize('newSize', newSize);
  if (oldSize > newSize) throw new TileError('BadTreeSize', `oldSize: got ${oldSize}, want ≤ newSize ${newSize}`);
  const refs: TileRef[] = levelTiles(oldSize, newSize).map(({ index, width }) => ({ kind: 'entries', index, width }));
  for (let level = 0, span = 1; Math.floor(newSize / span) > 0; level++, span *= TILE_WIDTH) {
    for (const { index, width } of levelTiles(Math.floor(oldSize / span), Math.floor(newSize / span))) {
      refs.push({ kind: 'hash', level, index, width });
    }
  }
  return refs;
}

/** Reads the stored bytes of a hash tile (full or partial, as `tile.width` says). */
export type ReadTile = (tile: HashTile) => Uint8Array;

/** Root of `count` consecutive hashes at `offset` in a tile, count a power of two ≤ 128. */
function subtreeOfTile(tile: Uint8Array, offset: number, count: number): Uint8Array {
  let row: Uint8Array[] = [];
  for (let i = 0; i < count; i++) row.push(tile.subarray((offset + i) * HASH_SIZE, (offset + i + 1) * HASH_SIZE));
  while (row.length > 1) {
    const next: Uint8Array[] = [];
    for (let i = 0; i < row.length; i += 2) next.push(hashChildren(row[i] as Uint8Array, row[i + 1] as Uint8Array));
    row = next;
  }
  return Uint8Array.from(row[0] as Uint8Array);
}

/**
 * A {@link NodeAt} for the tree of `size` leaves, served from stored hash tiles, so proofs.ts can
 * build roots and proofs from `tile/<L>/<N>[.p/<W>]` files. Node (level, index) comes from tile
 * level floor(level / 8): the root of 2^(level mod 8) of its hashes. Each tile is read once, with the
 * width a tree of `size` gives it, and must be width × 32 bytes (BadTileSize). The tiles are not
 * trusted by this: compare treeRoot(size, nodeAt) with a verified checkpoint's root.
 */
export function nodeAtFromTiles(size: number, readTile: ReadTile): NodeAt {
  checkTreeSize('size', size);
  const cache = new Map<string, Uint8Array>();
  const load = (level: number, index: number): Uint8Array => {
    const hashes = Math.floor(size / TILE_WIDTH ** level);
    const width = Math.min(TILE_WIDTH, hashes - index * TILE_WIDTH);
    if (width < 1) throw new TileError('BadTreeSize', `tile ${level}/${index} is past the tree of size ${size}`);
    const ref: HashTile = { kind: 'hash', level, index, width };
    const path = tilePath(ref);
    const cached = cache.get(path);
    if (cached !== undefined) return cached;
    const bytes = readTile(ref);
    if (bytes.length !== width * HASH_SIZE) throw new TileError('BadTileSize', `${path}: got ${bytes.length} bytes, want ${width * HASH_SIZE}`);
    cache.set(path, bytes);
    return bytes;
  };
  return (level, index) => {
    const tileLevel = Math.floor(level / TILE_HEIGHT);
    const count = 2 ** (level % TILE_HEIGHT);
    const first = index * count;
    const tileIndex = Math.floor(first / TILE_WIDTH);
    const offset = first - tileIndex * TILE_WIDTH;
    const tile = load(tileLevel, tileIndex);
    if ((offset + count) * HASH_SIZE > tile.length) {
      throw new TileError('BadTreeSize', `node (${level}, ${index}) is not a perfect subtree of the tree of size ${size}`);
    }
    return subtreeOfTile(tile, offset, count);
  };
}
