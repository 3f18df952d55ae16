import type { ChainedEntry } from './receipt-chain.ts';
import { encodeEntryBundle, entryBundlePath, TILE_HEIGHT, TILE_WIDTH, tilePath } from './tlog-tiles.ts';

/** A file of the published layout: full tiles never change; a partial tile is replaced as it grows. */
export interface TileFile {
  path: string;
  bytes: Uint8Array;
  /** True for a full tile or bundle (write once); false for the rightmost partial one. */
  full: boolean;
}

/**
 * Builds the C2SP tlog-tiles files of the log incrementally from its entries in order: the subtree hashes that
 * CompactRange.append completes at levels 0, 8, 16, … are exactly the hashes of tile levels 0, 1, 2, …, so no
 * hash is ever computed twice. Pure; the caller writes the files.
 */
export class TileBuilder {
  /** Per tile level, the hashes of its rightmost (incomplete) tile. */
  readonly #levels: Uint8Array[][] = [];
  #bundle: Uint8Array[] = [];
  #completed: TileFile[] = [];
  #size = 0;

  get size(): number {
    return this.#size;
  }

  /** Adds the next entry (in log order). */
  add(entry: ChainedEntry): void {
    if (entry.index !== this.#size) throw new RangeError(`tile builder: entry ${entry.index} out of order, want ${this.#size}`);
    this.#size++;
    this.#bundle.push(entry.bytes);
    if (this.#bundle.length === TILE_WIDTH) {
      this.#completed.push({ path: entryBundlePath({ index: Math.floor(entry.index / TILE_WIDTH) }), bytes: encodeEntryBundle(this.#bundle), full: true });
      this.#bundle = [];
    }
    for (const node of entry.nodes) {
      if (node.level % TILE_HEIGHT === 0) this.#addHash(node.level / TILE_HEIGHT, node.index, node.hash);
    }
  }

  /** Full tiles completed since the last call, then the current partial ones. */
  drain(): TileFile[] {
    const out = this.#completed;
    this.#completed = [];
    const bundleIndex = Math.floor(this.#size / TILE_WIDTH);
    if (this.#bundle.length > 0) out.push({ path: entryBundlePath({ index: bundleIndex, width: this.#bundle.length }), bytes: encodeEntryBundle(this.#bundle), full: false });
    this.#levels.forEach((hashes, level) => {
      if (hashes.length === 0) return;
      const index = Math.floor(this.#size / TILE_WIDTH ** (level + 1));
      out.push({ path: tilePath({ level, index, width: hashes.length }), bytes: concat(hashes), full: false });
    });
    return out;
  }

  #addHash(level: number, nodeIndex: number, hash: Uint8Array): void {
    const hashes = (this.#levels[level] ??= []);
    hashes.push(hash);
    if (hashes.length < TILE_WIDTH) return;
    this.#completed.push({ path: tilePath({ level, index: Math.floor(nodeIndex / TILE_WIDTH) }), bytes: concat(hashes), full: true });
    this.#levels[level] = [];
  }
}

function concat(hashes: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(hashes.length * 32);
  hashes.forEach((h, i) => out.set(h, i * 32));
  return out;
}
