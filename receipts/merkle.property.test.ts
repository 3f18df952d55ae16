// Property tests for the Merkle layer: the incremental tree, proof building and verification agree
// with the RFC 9162 §2.1 definitions for every tree size up to MAX_SIZE, and any change is caught.
import test from 'ava';
import fc from 'fast-check';
import { CompactRange, rootFromLeafHashes, splitPoint } from './compact-range.ts';
import { bytesEqual, hashChildren, hashLeaf } from './merkle-hash.ts';
import {
  ProofError,
  consistencyProof,
  inclusionProof,
  nodeAtFromLeaves,
  treeRoot,
  verifyConsistency,
  verifyInclusion,
} from './proofs.ts';

const RUNS = { numRuns: 200 };
const MAX_SIZE = 300;

const encoder = new TextEncoder();
/** Distinct leaf hashes for a tree: leaf i of tree `seed` hashes the text `seed:i`. */
const leavesFor = (seed: number, n: number): Uint8Array[] => Array.from({ length: n }, (_, i) => hashLeaf(encoder.encode(`${seed}:${i}`)));

const flipBit = (bytes: Uint8Array, bit: number): Uint8Array => {
  const copy = Uint8Array.from(bytes);
  const at = Math.floor(bit / 8) % copy.length;
  copy[at] = (copy[at] as number) ^ (1 << bit % 8);
  return copy;
};

const codeOf = (fn: () => void): string => {
  try {
    fn();
  } catch (err) {
    if (err instanceof ProofError) return err.code;
    throw err;
  }
  return 'verified';
};

// ---- RFC 9162 §2.1.3.1 PATH and §2.1.4.1 SUBPROOF, written straight from the definitions ----

function refPath(m: number, leaves: readonly Uint8Array[]): Uint8Array[] {
  if (leaves.length <= 1) return [];
  const k = splitPoint(leaves.length);
  if (m < k) return [...refPath(m, leaves.slice(0, k)), rootFromLeafHashes(leaves.slice(k))];
  return [...refPath(m - k, leaves.slice(k)), rootFromLeafHashes(leaves.slice(0, k))];
}

function refSubproof(m: number, leaves: readonly Uint8Array[], complete: boolean): Uint8Array[] {
  const n = leaves.length;
  if (m === n) return complete ? [] : [rootFromLeafHashes(leaves)];
  const k = splitPoint(n);
  if (m <= k) return [...refSubproof(m, leaves.slice(0, k), complete), rootFromLeafHashes(leaves.slice(k))];
  return [...refSubproof(m - k, leaves.slice(k), false), rootFromLeafHashes(leaves.slice(0, k))];
}

/**
 * MTH(D[start:end]) by the same RFC 9162 §2.1.1 recursion as rootFromLeafHashes, memoised per
 * (start, end) so that checking every prefix of an n-leaf tree costs O(n log n) hashes, not O(n²).
 */
function memoisedMth(leaves: readonly Uint8Array[]): (start: number, end: number) => Uint8Array {
  const memo = new Map<string, Uint8Array>();
  const mth = (start: number, end: number): Uint8Array => {
    if (end - start === 1) return leaves[start] as Uint8Array;
    const key = `${start}:${end}`;
    let hash = memo.get(key);
    if (hash === undefined) {
      const k = start + splitPoint(end - start);
      hash = hashChildren(mth(start, k), mth(k, end));
      memo.set(key, hash);
    }
    return hash;
  };
  return mth;
}

// ---- trees that differ from the original by one edit ----

type Edit = 'change' | 'drop' | 'swap';

/** The leaves with one edit at position `at` (and `other` for a swap); the length never shrinks. */
function edited(leaves: readonly Uint8Array[], edit: Edit, at: number, other: number): Uint8Array[] {
  const copy = [...leaves];
  switch (edit) {
    case 'change':
      copy[at] = hashLeaf(encoder.encode(`changed:${at}`));
      break;
    case 'drop':
      copy.splice(at, 1);
      copy.push(hashLeaf(encoder.encode('appended')));
      break;
    case 'swap':
      [copy[at], copy[other]] = [copy[other] as Uint8Array, copy[at] as Uint8Array];
  }
  return copy;
}

test('property: the compact range root equals the RFC reference root for every prefix, across a state round trip', (t) => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: MAX_SIZE }), fc.nat(), fc.nat(), (n, seed, cutAt) => {
      const leaves = leavesFor(seed, n);
      const nodeAt = nodeAtFromLeaves(leaves);
      const cut = n === 0 ? 0 : cutAt % (n + 1);
      const reference = memoisedMth(leaves);
      let range = new CompactRange();
      const wrong: string[] = [];
      for (let k = 1; k <= n; k++) {
        if (k - 1 === cut) range = CompactRange.fromState(JSON.parse(JSON.stringify(range.toState())));
        range.append(leaves[k - 1] as Uint8Array);
        const want = reference(0, k);
        if (!bytesEqual(range.root(), want)) wrong.push(`compact range at size ${k}`);
        if (!bytesEqual(treeRoot(k, nodeAt), want)) wrong.push(`treeRoot at size ${k}`);
      }
      t.deepEqual(wrong, []);
      t.is(range.size, n);
      t.deepEqual(range.root(), rootFromLeafHashes(leaves));
    }),
    RUNS,
  );
});

test('property: proofs built from nodeAt equal RFC 9162 PATH and SUBPROOF', (t) => {
  const sizes = fc.integer({ min: 1, max: MAX_SIZE }).chain((n) => fc.tuple(fc.constant(n), fc.integer({ min: 0, max: n - 1 }), fc.integer({ min: 1, max: n })));
  fc.assert(
    fc.property(sizes, fc.nat(), ([n, index, size1], seed) => {
      const leaves = leavesFor(seed, n);
      const nodeAt = nodeAtFromLeaves(leaves);
      t.deepEqual(inclusionProof(index, n, nodeAt), refPath(index, leaves));
      t.deepEqual(consistencyProof(size1, n, nodeAt), refSubproof(size1, leaves, true));
    }),
    RUNS,
  );
});

test('property: an inclusion proof verifies for every index, and fails for another index or any flipped bit', (t) => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: MAX_SIZE }), fc.nat(), fc.nat(), (n, seed, pick) => {
      const leaves = leavesFor(seed, n);
      const nodeAt = nodeAtFromLeaves(leaves);
      const root = rootFromLeafHashes(leaves);
      for (let index = 0; index < n; index++) {
        const leafHash = leaves[index] as Uint8Array;
        const proof = inclusionProof(index, n, nodeAt);
        const check = { index, size: n, leafHash, proof, root };
        t.is(codeOf(() => verifyInclusion(check)), 'verified', `index ${index} of ${n}`);
        const r = pick + index * 7919;
        if (n > 1) t.not(codeOf(() => verifyInclusion({ ...check, index: (index + 1 + (r % (n - 1))) % n })), 'verified');
        t.is(codeOf(() => verifyInclusion({ ...check, leafHash: flipBit(leafHash, r % 256) })), 'RootMismatch');
        t.is(codeOf(() => verifyInclusion({ ...check, root: flipBit(root, r % 256) })), 'RootMismatch');
        if (proof.length === 0) continue;
        const node = r % proof.length;
        const bad = proof.map((h, i) => (i === node ? flipBit(h, Math.floor(r / proof.length) % 256) : h));
        t.is(codeOf(() => verifyInclusion({ ...check, proof: bad })), 'RootMismatch', `flipped node ${node}`);
      }
    }),
    RUNS,
  );
});

test('property: a consistency proof verifies between any two sizes and fails when either root is of an edited tree', (t) => {
  const sizes = fc.integer({ min: 1, max: MAX_SIZE }).chain((n2) => fc.tuple(fc.integer({ min: 1, max: n2 }), fc.constant(n2)));
  const edit = fc.record({ kind: fc.constantFrom<Edit>('change', 'drop', 'swap'), at: fc.nat(), other: fc.nat() });
  fc.assert(
    fc.property(sizes, fc.nat(), edit, ([size1, size2], seed, { kind, at, other }) => {
      const leaves = leavesFor(seed, size2);
      const proof = consistencyProof(size1, size2, nodeAtFromLeaves(leaves));
      const check = { size1, size2, root1: rootFromLeafHashes(leaves.slice(0, size1)), root2: rootFromLeafHashes(leaves), proof };
      t.is(codeOf(() => verifyConsistency(check)), 'verified');
      for (const [which, size] of [['root1', size1], ['root2', size2]] as const) {
        if (kind === 'swap' && size < 2) continue;
        const i = at % size;
        const j = kind === 'swap' ? (i + 1 + (other % (size - 1))) % size : i;
        const fork = edited(leaves, kind, i, j);
        t.is(codeOf(() => verifyConsistency({ ...check, [which]: rootFromLeafHashes(fork.slice(0, size)) })), 'RootMismatch', `${kind} ${i}/${j} in ${which}`);
        // The same edit on both sides is a consistent pair of its own: the proof for the fork verifies.
        if (which === 'root1') {
          const forkProof = consistencyProof(size1, size2, nodeAtFromLeaves(fork.slice(0, size2)));
          const forkRoots = { root1: rootFromLeafHashes(fork.slice(0, size1)), root2: rootFromLeafHashes(fork.slice(0, size2)) };
          t.is(codeOf(() => verifyConsistency({ ...check, ...forkRoots, proof: forkProof })), 'verified');
        }
      }
    }),
    RUNS,
  );
});
