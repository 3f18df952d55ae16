// An append-only RFC 9162 Merkle tree kept as a compact range [0, size): the roots of the perfect
// subtrees that the binary decomposition of `size` gives, largest (leftmost) first. At most
// log2(size) + 1 hashes, so the receipt log rebuilds its tree at start from a small saved state.
import { HASH_SIZE, emptyRoot, fromHex, hashChildren, toHex } from './merkle-hash.ts';

/** A perfect subtree root: `level` 0 is a leaf; the subtree covers leaves [index·2^level, (index+1)·2^level). */
export interface TreeNode {
  level: number;
  index: number;
  hash: Uint8Array;
}

/** JSON-ready state of a {@link CompactRange}: the tree size and the frontier hashes in hex, leftmost first. */
export interface CompactRangeState {
  size: number;
  hashes: string[];
}

const popCount = (n: number): number => {
  let count = 0;
  for (let rest = n; rest > 0; rest = Math.floor(rest / 2)) count += rest % 2;
  return count;
};

/**
 * Incremental Merkle tree over leaf hashes (the "frontier" of a log).
 *
 * @example
 * const tree = new CompactRange();
 * tree.append(hashLeaf(entryBytes));
 * const checkpointRoot = tree.root();
 * save(tree.toState()); // later: CompactRange.fromState(saved)
 */
export class CompactRange {
  #size = 0;
  #hashes: Uint8Array[] = [];

  /** Number of leaves appended so far. */
  get size(): number {
    return this.#size;
  }

  /**
   * Rebuilds a range from {@link CompactRange.toState}. Preconditions, checked: `size` is a safe
   * non-negative integer, there is one hash per set bit of `size`, and each is 32 bytes of hex.
   */
  static fromState(state: CompactRangeState): CompactRange {
    const { size, hashes } = state;
    if (!Number.isSafeInteger(size) || size < 0) {
      throw new RangeError(`compact range state: size must be a non-negative safe integer, got ${size}`);
    }
    const want = popCount(size);
    if (hashes.length !== want) {
      throw new RangeError(`compact range state: size ${size} needs ${want} hashes, got ${hashes.length}`);
    }
    const range = new CompactRange();
    range.#hashes = hashes.map((hex, i) => {
      const bytes = fromHex(hex);
      if (bytes.length !== HASH_SIZE) {
        throw new RangeError(`compact range state: hashes[${i}] has ${bytes.length} bytes, want ${HASH_SIZE}`);
      }
      return bytes;
    });
    range.#size = size;
    return range;
  }

  /**
   * Appends one leaf hash in amortised O(1) hashing (O(log n) worst case). Returns every perfect
   * subtree the append completed, the leaf itself first, so a tile writer can store them.
   */
  append(leafHash: Uint8Array): TreeNode[] {
    if (leafHash.length !== HASH_SIZE) {
      throw new RangeError(`leaf hash has ${leafHash.length} bytes, want ${HASH_SIZE}`);
    }
    if (this.#size >= Number.MAX_SAFE_INTEGER) throw new RangeError('compact range is full');
    let index = this.#size;
    let node = leafHash;
    const completed: TreeNode[] = [{ level: 0, index, hash: node }];
    // Each trailing 1 bit of the old size is a left sibling waiting for this right subtree.
    for (let level = 0; index % 2 === 1; level++) {
      const left = this.#hashes.pop() as Uint8Array;
      node = hashChildren(left, node);
      index = (index - 1) / 2;
      completed.push({ level: level + 1, index, hash: node });
    }
    this.#hashes.push(node);
    this.#size += 1;
    return completed;
  }

  /** The RFC 9162 root of the leaves appended so far: the frontier folded right to left. */
  root(): Uint8Array {
    const last = this.#hashes.length - 1;
    let root = this.#hashes[last];
    if (root === undefined) return emptyRoot();
    for (let i = last - 1; i >= 0; i--) root = hashChildren(this.#hashes[i] as Uint8Array, root);
    return root;
  }

  /** The frontier as perfect subtree nodes, leftmost (largest) first. */
  frontier(): TreeNode[] {
    const nodes: TreeNode[] = [];
    let start = 0;
    for (let level = 53; level >= 0; level--) {
      const width = 2 ** level;
      if (this.#size - start < width) continue;
      nodes.push({ level, index: start / width, hash: this.#hashes[nodes.length] as Uint8Array });
      start += width;
    }
    return nodes;
  }

  /** JSON-ready copy of the state; see {@link CompactRange.fromState}. */
  toState(): CompactRangeState {
    return { size: this.#size, hashes: this.#hashes.map(toHex) };
  }
}

/** Largest power of two strictly below `n` (n ≥ 2): the RFC 9162 split point k. */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/**
 * Reference root straight from RFC 9162 §2.1.1 (recursive, O(n) hashes): MTH({}) = SHA-256(),
 * MTH({d}) = leaf hash, MTH(D[n]) = SHA-256(0x01 ‖ MTH(D[0:k]) ‖ MTH(D[k:n])) with k the largest
 * power of two below n. Takes leaf hashes, not entries. For tests and cross-checks.
 */
export function rootFromLeafHashes(leafHashes: readonly Uint8Array[]): Uint8Array {
  return leafHashes.length === 0 ? emptyRoot() : mth(leafHashes, 0, leafHashes.length);
}

/** MTH(D[start:end]) for end > start, without copying the array. */
function mth(leafHashes: readonly Uint8Array[], start: number, end: number): Uint8Array {
  const n = end - start;
  if (n === 1) return leafHashes[start] as Uint8Array;
  const k = splitPoint(n);
  return hashChildren(mth(leafHashes, start, start + k), mth(leafHashes, start + k, end));
}
