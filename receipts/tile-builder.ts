import { fromHex, toHex } from './merkle-hash.ts';
import type { ChainedEntry } from './receipt-chain.ts';
import { encodeEntryBundle, entryBundlePath, TILE_HEIGHT, TILE_WIDTH, tilePath } from './tlog-tiles.ts';

/** JSON-ready state of a TileBuilder. */
export interface TileBuilderState {
  size: number;
  bundle: string[];
  levels: string[][];
  /** Full tiles completed but not yet drained (base64). */
  pending: { path: string; bytes: string }[];
}

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
  readonly #bundles: boolean;

  /** `bundles: false` builds only the hash tiles (a verifier has the bundles already). */
  constructor(opts: { bundles?: boolean } = {}) {
    this.#bundles = opts.bundles ?? true;
  }

  /** Resumes from `state()`; files not yet drained then come out of the next drain. */
  static fromState(s: TileBuilderState): TileBuilder {
    const b = new TileBuilder();
    b.#size = s.size;
    b.#completed = s.pending.map((f) => ({ path: f.path, bytes: Uint8Array.from(Buffer.from(f.bytes, 'base64')), full: true }));
    b.#bundle = s.bundle.map((e) => Uint8Array.from(Buffer.from(e, 'base64')));
    s.levels.forEach((hashes, level) => (b.#levels[level] = hashes.map((h) => fromHex(h))));
    return b;
  }

  /** The rightmost partial tiles and bundle, and full files not yet drained: all that resuming needs. */
  state(): TileBuilderState {
    return {
      size: this.#size,
      bundle: this.#bundle.map((e) => Buffer.from(e).toString('base64')),
      levels: this.#levels.map((l) => l.map(toHex)),
      pending: this.#completed.map((f) => ({ path: f.path, bytes: Buffer.from(f.bytes).toString('base64') })),
    };
  }

  get size(): number {
    return this.#size;
  }

  /** Adds the next entry (in log order). */
  add(entry: ChainedEntry): void {
    if (entry.index !== this.#size) throw new RangeError(`tile builder: entry ${entry.index} out of order, want ${this.#size}`);
    this.#size++;
    if (this.#bundles) this.#bundle.push(entry.bytes);
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

  /** Puts back the full files of a drain that could not be written, so the next drain returns them again. */
  undrain(files: readonly TileFile[]): void {
    this.#completed = [...files.filter((f) => f.full), ...this.#completed];
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
