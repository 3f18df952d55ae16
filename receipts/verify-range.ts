// verifyLog's work split by entry bundle ranges, so that ranges can be checked apart (in workers) and stitched
// back in order with the same result: checkBundleRange does the per-entry work of consecutive bundles (strict
// decode, index, prev, leaf hashes, each full bundle's subtree root); RangeStitcher takes the bundles' results
// in log order and yields the hash tiles they complete, as TileBuilder would, and the tree root. Pure.
import { CompactRange } from './compact-range.ts';
import { emptyRoot, hashChildren, hashLeaf } from './merkle-hash.ts';
import { zeroPrev } from './receipt.ts';
import { replayedReceipt } from './receipt-chain.ts';
import { isReceiptAt } from './receipt-check.ts';
import type { TileFile } from './tile-builder.ts';
import { decodeEntryBundle, entryBundlePath, TILE_HEIGHT, TILE_WIDTH, tilePath } from './tlog-tiles.ts';

/** A defect: where (entry index and/or file) and what. The first one is the one to fix. */
export interface LogDefect {
  index?: number;
  path?: string;
  message: string;
}

/** Consecutive entry bundles of a log of `size` entries, from bundle `first`. */
export interface BundleRange {
  size: number;
  first: number;
  /** Each bundle's bytes as read; undefined when it is missing. */
  bundles: (Uint8Array | undefined)[];
  /** Bundle `first - 1` as read (its last entry's leaf hash is the range's first `prev`); unused at bundle 0. */
  before?: Uint8Array | undefined;
  /** The leaf hash of entry `first · 256 - 1` when the caller has it already (then `before` is not read). */
  prev?: Uint8Array | undefined;
}

/** One good bundle: its entries' leaf hashes (its level-0 hash tile) and, when full, its subtree root. */
export interface BundleOutcome {
  leaves: Uint8Array;
  root?: Uint8Array | undefined;
}

/** The range's good bundles in order, then its first defect (in the next bundle) if any. */
export interface RangeCheck {
  bundles: BundleOutcome[];
  defect?: LogDefect | undefined;
}

const widthOf = (size: number, bundle: number): number => Math.min(TILE_WIDTH, size - bundle * TILE_WIDTH);

/**
 * Checks the bundles' entries as verifyLog does, with the same defects, stopping at the first. The range's
 * first `prev` comes from the last entry of `before`: when that bundle is missing or unreadable, the range
 * before this one reports it first, so the placeholder used then never decides the result.
 */
export function checkBundleRange(r: BundleRange): RangeCheck {
  let prev = r.first === 0 ? zeroPrev() : (r.prev ?? lastLeafHash(r.before));
  const bundles: BundleOutcome[] = [];
  for (let i = 0; i < r.bundles.length; i++) {
    const checked = checkOne({ bytes: r.bundles[i], bundle: r.first + i, width: widthOf(r.size, r.first + i), prev });
    if ('message' in checked) return { bundles, defect: checked };
    bundles.push(checked.outcome);
    prev = checked.last;
  }
  return { bundles };
}

function lastLeafHash(before: Uint8Array | undefined): Uint8Array {
  try {
    const entries = before && decodeEntryBundle(before, TILE_WIDTH);
    return entries ? hashLeaf(entries[TILE_WIDTH - 1]!) : zeroPrev();
  } catch {
    return zeroPrev();
  }
}

function checkOne(c: { bytes: Uint8Array | undefined; bundle: number; width: number; prev: Uint8Array }): LogDefect | { outcome: BundleOutcome; last: Uint8Array } {
  const path = entryBundlePath({ index: c.bundle, width: c.width });
  const first = c.bundle * TILE_WIDTH;
  if (c.bytes === undefined) return { index: first, path, message: `entry bundle missing (entries ${first}–${first + c.width - 1})` };
  let entries: Uint8Array[];
  try {
    entries = decodeEntryBundle(c.bytes, c.width);
  } catch (e) {
    return { index: first, path, message: `entry bundle unreadable: ${(e as Error).message}` };
  }
  const leaves = new Uint8Array(c.width * 32);
  let prev = c.prev;
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i]!;
    // The fast check decides; only a refused entry is decoded, for replayedReceipt's account of what is wrong.
    if (!isReceiptAt(entry, first + i, prev)) {
      try {
        replayedReceipt(entry, first + i, prev);
      } catch (e) {
        return { index: first + i, path, message: (e as Error).message };
      }
    }
    prev = hashLeaf(entry);
    leaves.set(prev, i * 32);
  }
  // A copy: a hash may be a view of a larger pooled buffer, which a worker's message would copy whole.
  return { outcome: { leaves, root: c.width === TILE_WIDTH ? perfectRoot(leaves).slice() : undefined }, last: prev };
}

/** The root of the perfect subtree over `leaves` (2^k hashes end to end), folded level by level in place. */
export function perfectRoot(leaves: Uint8Array): Uint8Array {
  const width = leaves.length / 32;
  if (!Number.isInteger(Math.log2(width))) throw new RangeError(`perfectRoot: ${width} leaves is not a power of two`);
  const level = leaves.slice();
  for (let count = level.length / 32; count > 1; count /= 2) {
    for (let i = 0; i < count / 2; i++) level.set(hashChildren(level.subarray(64 * i, 64 * i + 32), level.subarray(64 * i + 32, 64 * i + 64)), 32 * i);
  }
  return level.subarray(0, 32);
}

/**
 * Stitches bundle outcomes, given in log order from bundle 0, into the tree: `add` returns the hash tiles the
 * bundle completes in the order TileBuilder completes them (level 0, then up), and at the last bundle the
 * partial tiles after them, level by level; `root` is the tree root once every bundle is in.
 */
export class RangeStitcher {
  readonly #size: number;
  /** The tree over the full bundles' subtree roots: tree level 8 and up. */
  readonly #upper = new CompactRange();
  /** Per tile level from 1, the hashes of its rightmost incomplete tile. */
  readonly #levels: Uint8Array[][] = [];
  #bundles = 0;
  #entries = 0;
  #tail: Uint8Array | undefined;

  constructor(size: number) {
    this.#size = size;
  }

  /** Entries in the bundles added. */
  get entries(): number {
    return this.#entries;
  }

  add(o: BundleOutcome): TileFile[] {
    const bundle = this.#bundles++;
    const width = o.leaves.length / 32;
    this.#entries += width;
    const files: TileFile[] = [];
    if (o.root === undefined) this.#tail = o.leaves;
    else {
      files.push({ path: tilePath({ level: 0, index: bundle }), bytes: o.leaves, full: true });
      for (const node of this.#upper.append(o.root)) {
        if (node.level % TILE_HEIGHT === 0) this.#addHash({ level: node.level / TILE_HEIGHT + 1, index: node.index, hash: node.hash }, files);
      }
    }
    if (this.#entries >= this.#size) files.push(...this.#partials());
    return files;
  }

  root(): Uint8Array {
    const upper = this.#upper.frontier().map((n) => n.hash);
    let root = this.#tail && tailRoot(this.#tail);
    for (let i = upper.length - 1; i >= 0; i--) root = root === undefined ? upper[i]! : hashChildren(upper[i]!, root);
    return root ?? emptyRoot();
  }

  #addHash(n: { level: number; index: number; hash: Uint8Array }, files: TileFile[]): void {
    const hashes = (this.#levels[n.level] ??= []);
    hashes.push(n.hash);
    if (hashes.length < TILE_WIDTH) return;
    files.push({ path: tilePath({ level: n.level, index: Math.floor(n.index / TILE_WIDTH) }), bytes: concat(hashes), full: true });
    this.#levels[n.level] = [];
  }

  #partials(): TileFile[] {
    const out: TileFile[] = [];
    if (this.#tail) out.push({ path: tilePath({ level: 0, index: this.#bundles - 1, width: this.#tail.length / 32 }), bytes: this.#tail, full: false });
    this.#levels.forEach((hashes, level) => {
      if (hashes.length === 0) return;
      out.push({ path: tilePath({ level, index: Math.floor(this.#size / TILE_WIDTH ** (level + 1)), width: hashes.length }), bytes: concat(hashes), full: false });
    });
    return out;
  }
}

function tailRoot(leaves: Uint8Array): Uint8Array {
  const tree = new CompactRange();
  for (let at = 0; at < leaves.length; at += 32) tree.append(leaves.subarray(at, at + 32));
  return tree.root();
}

function concat(hashes: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(hashes.length * 32);
  hashes.forEach((h, i) => out.set(h, i * 32));
  return out;
}
