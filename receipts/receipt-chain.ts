import { decodeReceipt, encodeReceiptAfter } from './cbor.ts';
import { CompactRange, type CompactRangeState, type TreeNode } from './compact-range.ts';
import { bytesEqual, fromHex, hashLeaf, hashPrefixedLeaf, LEAF_PREFIX, toHex } from './merkle-hash.ts';
import { RECEIPT_VERSION, ReceiptTooLargeError, zeroPrev, type Receipt, type ReceiptBody, type ReceiptKind } from './receipt.ts';
import { MAX_ENTRY_SIZE } from './tlog-tiles.ts';

/** One entry as appended: its bytes, where it sits, and what it completed in the tree. */
export interface ChainedEntry {
  receipt: Receipt;
  bytes: Uint8Array;
  index: number;
  leafHash: Uint8Array;
  /** Perfect subtrees this append completed (the leaf first): what a tile writer stores. */
  nodes: TreeNode[];
}

/** The chain at some size: its tree frontier and the last leaf hash. */
export interface ChainState {
  tree: CompactRangeState;
  head: string;
}

/** Why a stored entry does not continue the chain: names the index and what was expected. */
export class ChainError extends Error {
  readonly index: number;

  constructor(index: number, detail: string) {
    super(`entry ${index}: ${detail}`);
    this.name = 'ChainError';
    this.index = index;
  }
}

/**
 * The hash chain and Merkle tree of the log, in memory (design §5): each receipt's `prev` is the leaf hash of
 * the one before; the tree is RFC 6962 over all entries in order. Pure: time comes in as microseconds.
 */
export class ReceiptChain {
  readonly #tree: CompactRange;
  #prev: Uint8Array;

  constructor(resume?: ChainState) {
    this.#tree = resume ? CompactRange.fromState(resume.tree) : new CompactRange();
    this.#prev = resume ? fromHex(resume.head) : zeroPrev();
    if (this.#prev.length !== 32) throw new RangeError(`chain state: head must be 32 bytes, got ${this.#prev.length}`);
  }

  /** What resuming the chain at this size needs (JSON-ready). */
  state(): ChainState {
    return { tree: this.#tree.toState(), head: toHex(this.#prev) };
  }

  get size(): number {
    return this.#tree.size;
  }

  /** Leaf hash of the last entry (32 zero bytes for an empty log). */
  get head(): Uint8Array {
    return this.#prev;
  }

  root(): Uint8Array {
    return this.#tree.root();
  }

  /**
   * Encodes, hashes, chains and adds the next receipt. A receipt longer than `MAX_ENTRY_SIZE` (what an entry
   * bundle, and so the entry file's reader, holds) throws ReceiptTooLargeError and changes nothing.
   */
  append(kind: ReceiptKind, body: ReceiptBody, timeMicros: number): ChainedEntry {
    const receipt: Receipt = { v: RECEIPT_VERSION, kind, index: this.size, time: timeMicros, prev: this.#prev, body };
    let leafHash: Uint8Array | undefined;
    // The leaf hash is taken where the encoder wrote LEAF_PREFIX ‖ bytes, without building that input again.
    const bytes = encodeReceiptAfter(LEAF_PREFIX, receipt, (span) => (leafHash = hashPrefixedLeaf(span)));
    if (bytes.length > MAX_ENTRY_SIZE) throw new ReceiptTooLargeError({ kind, bytes: bytes.length, limit: MAX_ENTRY_SIZE });
    return this.#add(receipt, bytes, leafHash);
  }

  /**
   * Adds an entry read back from storage, checking that it is the next one: strict decoding, its index, and
   * its `prev`. Throws ChainError naming the index otherwise.
   */
  replay(bytes: Uint8Array): ChainedEntry {
    return this.#add(replayedReceipt(bytes, this.size, this.#prev), bytes);
  }

  #add(receipt: Receipt, bytes: Uint8Array, leafHash = hashLeaf(bytes)): ChainedEntry {
    const index = this.size;
    const nodes = this.#tree.append(leafHash);
    this.#prev = leafHash;
    return { receipt, bytes, index, leafHash, nodes };
  }
}

/**
 * The receipt in `bytes` if it is the entry at `index` after the one whose leaf hash is `prev`: strict
 * decoding, its index, its `prev`. Throws ChainError naming the index otherwise (ReceiptChain.replay, and a
 * verifier checking a range of the log on its own).
 */
export function replayedReceipt(bytes: Uint8Array, index: number, prev: Uint8Array): Receipt {
  let receipt: Receipt;
  try {
    receipt = decodeReceipt(bytes);
  } catch (e) {
    throw new ChainError(index, `not a valid receipt: ${(e as Error).message}`);
  }
  if (receipt.index !== index) throw new ChainError(index, `holds index ${receipt.index}, want ${index}`);
  if (!bytesEqual(receipt.prev, prev)) {
    throw new ChainError(index, `prev is ${toHex(receipt.prev)}, want the leaf hash of entry ${index - 1}, ${toHex(prev)}: entry ${index - 1} or ${index} was altered`);
  }
  return receipt;
}
