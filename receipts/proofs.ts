// RFC 9162 §2.1.3–2.1.4 inclusion and consistency proofs: building them from perfect subtree hashes
// (so tiles can serve them) and verifying them. Pure functions: every input is a parameter,
// preconditions are checked first, and every failure is a ProofError with a code and got/want.
import { HASH_SIZE, bytesEqual, emptyRoot, hashChildren, toHex } from './merkle-hash.ts';

/** Why a proof was refused. */
export type ProofErrorCode =
  /** A leaf index is not below the tree size (or is not a safe integer). */
  | 'IndexOutOfRange'
  /** Tree sizes are not safe integers, or size1 > size2. */
  | 'SizeOutOfRange'
  /** A consistency proof from the empty tree (size1 = 0): refused, as transparency-dev/merkle does. */
  | 'EmptyTree'
  /** A leaf hash, root or proof node is not 32 bytes. */
  | 'BadHashSize'
  /** The proof has the wrong number of nodes for its index and sizes. */
  | 'BadProofSize'
  /** The proof is well formed but the root it yields is not the one given. */
  | 'RootMismatch';

/** A refused proof: `code` says why, `field` names the input, `got`/`want` are hex or decimal. */
export class ProofError extends Error {
  readonly code: ProofErrorCode;
  readonly field: string;
  readonly got: string;
  readonly want: string;

  constructor(code: ProofErrorCode, field: string, mismatch: { got: string | number; want: string | number }) {
    super(`${code}: ${field}: got ${mismatch.got}, want ${mismatch.want}`);
    this.name = 'ProofError';
    this.code = code;
    this.field = field;
    this.got = String(mismatch.got);
    this.want = String(mismatch.want);
  }
}

/**
 * Hash of the perfect subtree at `level` (0 = leaf) and `index` on that level, covering leaves
 * [index·2^level, (index+1)·2^level). Proof builders only ask for subtrees inside the tree.
 */
export type NodeAt = (level: number, index: number) => Uint8Array;

// ---- integer helpers: sizes go up to 2^53 - 1, past JavaScript's 32-bit bitwise operators ----

const half = (n: number): number => Math.floor(n / 2);
const isOdd = (n: number): boolean => n % 2 === 1;

/** Levels below the point where the paths to leaves `a` and `b` meet (bit length of a XOR b). */
function levelsApart(a: number, b: number): number {
  let levels = 0;
  for (let x = a, y = b; x !== y; x = half(x), y = half(y)) levels++;
  return levels;
}

function onesCount(n: number): number {
  let count = 0;
  for (let rest = n; rest > 0; rest = half(rest)) count += rest % 2;
  return count;
}

function trailingZeros(n: number): number {
  let zeros = 0;
  for (let rest = n; rest > 0 && !isOdd(rest); rest = half(rest)) zeros++;
  return zeros;
}

// ---- preconditions ----

function checkSize(field: string, size: number): void {
  if (!Number.isSafeInteger(size) || size < 0) {
    throw new ProofError('SizeOutOfRange', field, { got: size, want: 'a safe integer ≥ 0' });
  }
}

function checkIndex(index: number, size: number): void {
  checkSize('size', size);
  if (!Number.isSafeInteger(index) || index < 0 || index >= size) {
    throw new ProofError('IndexOutOfRange', 'index', { got: index, want: `0 ≤ index < size ${size}` });
  }
}

function checkHash(field: string, hash: Uint8Array): void {
  if (hash.length !== HASH_SIZE) throw new ProofError('BadHashSize', field, { got: hash.length, want: HASH_SIZE });
}

function checkProofNodes(proof: readonly Uint8Array[], want: number): void {
  if (proof.length !== want) throw new ProofError('BadProofSize', 'proof', { got: proof.length, want });
  proof.forEach((node, i) => checkHash(`proof[${i}]`, node));
}

function sizesOrdered(size1: number, size2: number): void {
  checkSize('size1', size1);
  checkSize('size2', size2);
  if (size1 > size2) throw new ProofError('SizeOutOfRange', 'size1', { got: size1, want: `≤ size2 ${size2}` });
}

// ---- tree shape ----

/** Nodes in the inclusion proof of leaf `index` in a tree of `size`; requires 0 ≤ index < size. */
export function inclusionProofSize(index: number, size: number): number {
  checkIndex(index, size);
  const inner = levelsApart(index, size - 1);
  return inner + onesCount(Math.floor(index / 2 ** inner));
}

/** Nodes in the consistency proof from size1 to size2; requires 0 < size1 ≤ size2. */
export function consistencyProofSize(size1: number, size2: number): number {
  sizesOrdered(size1, size2);
  if (size1 === 0) throw new ProofError('EmptyTree', 'size1', { got: 0, want: '> 0' });
  if (size1 === size2) return 0;
  const shift = trailingZeros(size1);
  const seed = size1 === 2 ** shift ? 0 : 1;
  return seed + inclusionProofSize(size1 - 1, size2) - shift;
}

function fetchNode(nodeAt: NodeAt, level: number, index: number): Uint8Array {
  const node = nodeAt(level, index);
  checkHash(`node(${level}, ${index})`, node);
  return node;
}

/** Root of leaves [start, end) from perfect subtrees, when start is a multiple of a power of two ≥ end − start. */
function rangeRoot(start: number, end: number, nodeAt: NodeAt): Uint8Array {
  const nodes: Uint8Array[] = [];
  let pos = start;
  for (let width = 2 ** 52, level = 52; pos < end; width /= 2, level--) {
    if (end - pos < width) continue;
    nodes.push(fetchNode(nodeAt, level, pos / width));
    pos += width;
  }
  let root = nodes.pop() as Uint8Array;
  while (nodes.length > 0) root = hashChildren(nodes.pop() as Uint8Array, root);
  return root;
}

/** Hash of the subtree at (level, index) cut off at `size`: a perfect node, or rebuilt on the right border. */
function subtreeHash(level: number, index: number, size: number, nodeAt: NodeAt): Uint8Array {
  const start = index * 2 ** level;
  const end = Math.min(start + 2 ** level, size);
  return end - start === 2 ** level ? fetchNode(nodeAt, level, index) : rangeRoot(start, end, nodeAt);
}

/** Proof nodes for leaf `index` in a tree of `size`, from `fromLevel` up: siblings below the fork with leaf size−1, then left border nodes. */
function pathNodes(index: number, size: number, fromLevel: number, nodeAt: NodeAt): Uint8Array[] {
  const inner = levelsApart(index, size - 1);
  const proof: Uint8Array[] = [];
  let at = Math.floor(index / 2 ** fromLevel);
  let level = fromLevel;
  for (; level < inner; level++, at = half(at)) {
    proof.push(subtreeHash(level, isOdd(at) ? at - 1 : at + 1, size, nodeAt));
  }
  for (; at > 0; level++, at = half(at)) {
    if (isOdd(at)) proof.push(fetchNode(nodeAt, level, at - 1));
  }
  return proof;
}

// ---- building proofs ----

/**
 * RFC 9162 §2.1.3.1 inclusion proof (audit path) for leaf `index` in the tree of the first `size`
 * leaves, lowest node first. Preconditions, checked: 0 ≤ index < size. `nodeAt` is only asked for
 * perfect subtrees inside [0, size); a partial right-border subtree is rebuilt from them.
 */
export function inclusionProof(index: number, size: number, nodeAt: NodeAt): Uint8Array[] {
  checkIndex(index, size);
  return pathNodes(index, size, 0, nodeAt);
}

/**
 * RFC 9162 §2.1.4.1 consistency proof between the trees of the first `size1` and `size2` leaves.
 * Preconditions, checked: 0 < size1 ≤ size2 (size1 = size2 gives the empty proof).
 */
export function consistencyProof(size1: number, size2: number, nodeAt: NodeAt): Uint8Array[] {
  if (consistencyProofSize(size1, size2) === 0) return [];
  const shift = trailingZeros(size1);
  const proof = pathNodes(size1 - 1, size2, shift, nodeAt);
  // When size1 is a power of two the verifier already holds this node: it is root1.
  if (size1 !== 2 ** shift) proof.unshift(fetchNode(nodeAt, shift, size1 / 2 ** shift - 1));
  return proof;
}

/** Root of the tree of the first `size` leaves from perfect subtree hashes; size 0 gives SHA-256(). */
export function treeRoot(size: number, nodeAt: NodeAt): Uint8Array {
  checkSize('size', size);
  return size === 0 ? emptyRoot() : rangeRoot(0, size, nodeAt);
}

/** A {@link NodeAt} over in-memory leaf hashes: builds every perfect subtree once, O(n) hashes. */
export function nodeAtFromLeaves(leafHashes: readonly Uint8Array[]): NodeAt {
  const levels: Uint8Array[][] = [[...leafHashes]];
  for (let below = levels[0] as Uint8Array[]; below.length > 1; ) {
    const above: Uint8Array[] = [];
    for (let i = 0; i + 1 < below.length; i += 2) above.push(hashChildren(below[i] as Uint8Array, below[i + 1] as Uint8Array));
    levels.push(above);
    below = above;
  }
  return (level, index) => {
    const node = levels[level]?.[index];
    if (node === undefined) throw new RangeError(`no perfect subtree at level ${level} index ${index} over ${leafHashes.length} leaves`);
    return node;
  };
}

/** {@link inclusionProof} in the tree of all of `leafHashes`. */
export function inclusionProofFromLeaves(index: number, leafHashes: readonly Uint8Array[]): Uint8Array[] {
  return inclusionProof(index, leafHashes.length, nodeAtFromLeaves(leafHashes));
}

/** {@link consistencyProof} from size1 to size2 over `leafHashes`; requires size2 ≤ leafHashes.length. */
export function consistencyProofFromLeaves(size1: number, size2: number, leafHashes: readonly Uint8Array[]): Uint8Array[] {
  if (size2 > leafHashes.length) throw new ProofError('SizeOutOfRange', 'size2', { got: size2, want: `≤ ${leafHashes.length} leaves` });
  return consistencyProof(size1, size2, nodeAtFromLeaves(leafHashes.slice(0, size2)));
}

// ---- verifying proofs ----

/** What {@link verifyInclusion} checks: leaf `leafHash` sits at `index` in the tree of `size` with `root`. */
export interface InclusionCheck {
  index: number;
  size: number;
  leafHash: Uint8Array;
  proof: readonly Uint8Array[];
  root: Uint8Array;
}

/** What {@link verifyConsistency} checks: the tree of size1 with root1 is a prefix of the tree of size2 with root2. */
export interface ConsistencyCheck {
  size1: number;
  size2: number;
  root1: Uint8Array;
  root2: Uint8Array;
  proof: readonly Uint8Array[];
}

/** RFC 9162 §2.1.3.2 step 3: right-shift fn and sn together until LSB(fn) is set or fn is 0. */
function skipRightBorder(fn: number, sn: number): [number, number] {
  let [f, s] = [fn, sn];
  while (f !== 0 && !isOdd(f)) [f, s] = [half(f), half(s)];
  return [f, s];
}

/**
 * Root that an inclusion proof yields (RFC 9162 §2.1.3.2 steps 1–4). Preconditions, checked in
 * order: 0 ≤ index < size (IndexOutOfRange); leafHash is 32 bytes (BadHashSize); the proof has
 * exactly {@link inclusionProofSize} nodes (BadProofSize) of 32 bytes each (BadHashSize).
 */
export function rootFromInclusionProof(check: Omit<InclusionCheck, 'root'>): Uint8Array {
  const { index, size, leafHash, proof } = check;
  checkIndex(index, size);
  checkHash('leafHash', leafHash);
  checkProofNodes(proof, inclusionProofSize(index, size));
  let [fn, sn, r] = [index, size - 1, leafHash];
  for (const p of proof) {
    if (isOdd(fn) || fn === sn) {
      r = hashChildren(p, r);
      [fn, sn] = skipRightBorder(fn, sn);
    } else {
      r = hashChildren(r, p);
    }
    [fn, sn] = [half(fn), half(sn)];
  }
  return r;
}

/**
 * Verifies an inclusion proof per RFC 9162 §2.1.3.2; throws {@link ProofError} on any defect.
 * Preconditions, checked in order: those of {@link rootFromInclusionProof}, then root is 32 bytes
 * (BadHashSize). A well-formed proof that yields another root is RootMismatch.
 */
export function verifyInclusion(check: InclusionCheck): void {
  const got = rootFromInclusionProof(check);
  const { root } = check;
  checkHash('root', root);
  if (!bytesEqual(got, root)) throw new ProofError('RootMismatch', 'root', { got: toHex(got), want: toHex(root) });
}

/** RFC 9162 §2.1.4.2 steps 3–6 over a proof whose first node is the seed; returns [root1, root2]. */
function chainConsistency(size1: number, size2: number, path: readonly Uint8Array[]): [Uint8Array, Uint8Array] {
  let [fn, sn] = [size1 - 1, size2 - 1];
  while (isOdd(fn)) [fn, sn] = [half(fn), half(sn)];
  let fr = path[0] as Uint8Array;
  let sr = fr;
  for (const c of path.slice(1)) {
    if (isOdd(fn) || fn === sn) {
      fr = hashChildren(c, fr);
      sr = hashChildren(c, sr);
      [fn, sn] = skipRightBorder(fn, sn);
    } else {
      sr = hashChildren(sr, c);
    }
    [fn, sn] = [half(fn), half(sn)];
  }
  return [fr, sr];
}

function rootsMatch(field: string, got: Uint8Array, want: Uint8Array): void {
  if (!bytesEqual(got, want)) throw new ProofError('RootMismatch', field, { got: toHex(got), want: toHex(want) });
}

/**
 * Verifies a consistency proof per RFC 9162 §2.1.4.2; throws {@link ProofError} on any defect.
 * Preconditions, checked in order: sizes are safe integers and size1 ≤ size2 (SizeOutOfRange);
 * size1 > 0 (EmptyTree — as transparency-dev/merkle: RFC 9162 defines proofs only for 0 < size1,
 * and an empty tree proves nothing); both roots are 32 bytes (BadHashSize); the proof has exactly
 * {@link consistencyProofSize} nodes (BadProofSize: so size1 = size2 needs the empty proof, and
 * then root1 must equal root2) of 32 bytes each (BadHashSize). Then root1 and root2 are rebuilt
 * and compared (RootMismatch, field 'root1' or 'root2').
 */
export function verifyConsistency(check: ConsistencyCheck): void {
  const { size1, size2, root1, root2, proof } = check;
  const want = consistencyProofSize(size1, size2);
  checkHash('root1', root1);
  checkHash('root2', root2);
  checkProofNodes(proof, want);
  if (size1 === size2) return rootsMatch('root2', root1, root2);
  // Step 2: when size1 is a power of two, root1 is the seed and is not sent in the proof.
  const path = size1 === 2 ** trailingZeros(size1) ? [root1, ...proof] : proof;
  const [fr, sr] = chainConsistency(size1, size2, path);
  rootsMatch('root1', fr, root1);
  rootsMatch('root2', sr, root2);
}
