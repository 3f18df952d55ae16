// Golden-vector tests for the Merkle layer. The vectors (testdata/merkle-vectors.json) come from
// github.com/transparency-dev/merkle; each hash there carries the xxd/sha256sum command that
// reproduces it.
import test from 'ava';
import { readFileSync } from 'node:fs';
import { CompactRange, rootFromLeafHashes } from './compact-range.ts';
import { HASH_SIZE, LEAF_PREFIX, NODE_PREFIX, emptyRoot, fromHex, hashChildren, hashLeaf, toHex } from './merkle-hash.ts';
import {
  ProofError,
  consistencyProof,
  consistencyProofFromLeaves,
  consistencyProofSize,
  inclusionProof,
  inclusionProofFromLeaves,
  inclusionProofSize,
  nodeAtFromLeaves,
  treeRoot,
  verifyConsistency,
  verifyInclusion,
  type NodeAt,
} from './proofs.ts';

interface Expectation {
  desc: string;
  proof: string[];
  source: string;
  wantErr: boolean;
  wantCode: string | null;
}
interface InclusionVector extends Expectation {
  index: number;
  size: number;
  leafHash: string;
  root: string;
}
interface ConsistencyVector extends Expectation {
  size1: number;
  size2: number;
  root1: string;
  root2: string;
}
interface Vectors {
  leaves: { input: string; leafHash: string; cmd: string }[];
  nodes: { level: number; index: number; hash: string; cmd: string }[][];
  roots: { size: number; root: string; cmd: string }[];
  inclusion: InclusionVector[];
  consistency: ConsistencyVector[];
}

const vectors = JSON.parse(readFileSync(new URL('testdata/merkle-vectors.json', import.meta.url), 'utf8')) as Vectors;
const leafHashes = vectors.leaves.map((l) => fromHex(l.leafHash));
const nodeAt8 = nodeAtFromLeaves(leafHashes);
const hexes = (nodes: readonly Uint8Array[]): string[] => nodes.map(toHex);
const goldenRoot = (size: number): string => vectors.roots[size]?.root ?? '';

const errorCode = (fn: () => unknown): string => {
  try {
    fn();
  } catch (err) {
    return err instanceof ProofError ? err.code : `not a ProofError: ${String(err)}`;
  }
  return 'no error';
};

const inclusionCheck = (v: InclusionVector) => ({
  index: v.index,
  size: v.size,
  leafHash: fromHex(v.leafHash),
  proof: v.proof.map(fromHex),
  root: fromHex(v.root),
});
const consistencyCheck = (v: ConsistencyVector) => ({
  size1: v.size1,
  size2: v.size2,
  root1: fromHex(v.root1),
  root2: fromHex(v.root2),
  proof: v.proof.map(fromHex),
});

test('domain prefixes and the empty root are the RFC 9162 ones', (t) => {
  t.is(LEAF_PREFIX, 0x00);
  t.is(NODE_PREFIX, 0x01);
  t.is(HASH_SIZE, 32);
  // printf '' | sha256sum
  t.is(toHex(emptyRoot()), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  t.is(toHex(emptyRoot()), goldenRoot(0));
});

test('leaf hashes of the RFC 6962 test inputs match the golden values', (t) => {
  t.is(vectors.leaves.length, 8);
  for (const leaf of vectors.leaves) t.is(toHex(hashLeaf(fromHex(leaf.input))), leaf.leafHash, leaf.cmd);
});

test('every golden perfect subtree is the hash of its children and is served by nodeAtFromLeaves', (t) => {
  for (const node of vectors.nodes.flat()) {
    t.is(toHex(nodeAt8(node.level, node.index)), node.hash, `node(${node.level}, ${node.index})`);
    if (node.level === 0) continue;
    const below = vectors.nodes[node.level - 1] ?? [];
    const [left, right] = [below[2 * node.index]?.hash ?? '', below[2 * node.index + 1]?.hash ?? ''];
    t.is(toHex(hashChildren(fromHex(left), fromHex(right))), node.hash, node.cmd);
  }
});

test('golden roots for sizes 0..8: compact range, RFC reference recursion and treeRoot agree', (t) => {
  t.is(vectors.roots.length, 9);
  const range = new CompactRange();
  for (const { size, root, cmd } of vectors.roots) {
    if (size > 0) range.append(leafHashes[size - 1] as Uint8Array);
    t.is(range.size, size);
    t.is(toHex(range.root()), root, `compact range, size ${size}: ${cmd}`);
    t.is(toHex(rootFromLeafHashes(leafHashes.slice(0, size))), root, `reference, size ${size}`);
    t.is(toHex(treeRoot(size, nodeAt8)), root, `treeRoot, size ${size}`);
  }
});

test('the compact range frontier matches transparency-dev CompactTrees and append reports completed nodes', (t) => {
  const range = new CompactRange();
  const completed: string[][] = [];
  for (const leaf of leafHashes) completed.push(range.append(leaf).map((n) => `${n.level}/${n.index}`));
  t.deepEqual(completed, [['0/0'], ['0/1', '1/0'], ['0/2'], ['0/3', '1/1', '2/0'], ['0/4'], ['0/5', '1/2'], ['0/6'], ['0/7', '1/3', '2/1', '3/0']]);
  const seven = new CompactRange();
  leafHashes.slice(0, 7).forEach((leaf) => seven.append(leaf));
  const want = [[2, 0], [1, 2], [0, 6]].map(([level, index]) => vectors.nodes[level as number]?.[index as number]?.hash);
  t.deepEqual(hexes(seven.frontier().map((n) => n.hash)), want);
  t.deepEqual(seven.frontier().map((n) => [n.level, n.index]), [[2, 0], [1, 2], [0, 6]]);
});

test('compact range state round-trips through JSON and keeps appending identically', (t) => {
  const range = new CompactRange();
  leafHashes.slice(0, 5).forEach((leaf) => range.append(leaf));
  const restored = CompactRange.fromState(JSON.parse(JSON.stringify(range.toState())));
  t.is(restored.size, 5);
  t.is(toHex(restored.root()), goldenRoot(5));
  leafHashes.slice(5).forEach((leaf) => restored.append(leaf));
  t.is(toHex(restored.root()), goldenRoot(8));
});

test('compact range refuses bad state and bad leaf hashes', (t) => {
  const hash = vectors.leaves[0]?.leafHash ?? '';
  t.throws(() => CompactRange.fromState({ size: 3, hashes: [hash] }), { message: /size 3 needs 2 hashes, got 1/ });
  t.throws(() => CompactRange.fromState({ size: 1, hashes: ['abcd'] }), { message: /hashes\[0\] has 2 bytes, want 32/ });
  t.throws(() => CompactRange.fromState({ size: -1, hashes: [] }), { message: /non-negative safe integer/ });
  t.throws(() => CompactRange.fromState({ size: 1, hashes: ['zz'.repeat(32)] }), { message: /not a hex string/ });
  t.throws(() => new CompactRange().append(new Uint8Array(31)), { message: /31 bytes, want 32/ });
  t.is(toHex(CompactRange.fromState({ size: 0, hashes: [] }).root()), goldenRoot(0));
});

const published = <T extends Expectation>(vs: T[]): T[] => vs.filter((v) => !v.wantErr && v.source.includes('_test.go'));

test('every published inclusion proof is generated identically, from leaves and from a larger tree', (t) => {
  const vs = published(vectors.inclusion);
  t.is(vs.length, 7);
  for (const v of vs) {
    t.deepEqual(hexes(inclusionProofFromLeaves(v.index, leafHashes.slice(0, v.size))), v.proof, v.desc);
    // nodeAt over all 8 leaves: the builder must only ask for subtrees inside [0, size).
    t.deepEqual(hexes(inclusionProof(v.index, v.size, nodeAt8)), v.proof, v.desc);
    t.is(v.leafHash, vectors.leaves[v.index]?.leafHash ?? 'no such leaf');
    t.is(v.root, goldenRoot(v.size));
  }
});

test('every published consistency proof is generated identically', (t) => {
  const vs = published(vectors.consistency);
  t.is(vs.length, 5);
  for (const v of vs) {
    t.deepEqual(hexes(consistencyProofFromLeaves(v.size1, v.size2, leafHashes)), v.proof, v.desc);
    t.deepEqual(hexes(consistencyProof(v.size1, v.size2, nodeAt8)), v.proof, v.desc);
  }
});

test('negative vectors are at least as many as positive ones, and every code is covered', (t) => {
  for (const vs of [vectors.inclusion, vectors.consistency] as Expectation[][]) {
    const positive = vs.filter((v) => !v.wantErr).length;
    t.true(vs.length - positive >= positive, `${vs.length - positive} negative vs ${positive} positive`);
    t.true(vs.every((v) => v.wantErr === (v.wantCode !== null)));
  }
  const codes = new Set([...vectors.inclusion, ...vectors.consistency].map((v) => v.wantCode));
  t.deepEqual([...codes].sort(), ['BadHashSize', 'BadProofSize', 'EmptyTree', 'IndexOutOfRange', 'RootMismatch', 'SizeOutOfRange', null]);
});

for (const v of vectors.inclusion) {
  test(`inclusion vector: ${v.desc}`, (t) => {
    const code = errorCode(() => verifyInclusion(inclusionCheck(v)));
    t.is(code, v.wantErr ? (v.wantCode ?? 'wantCode missing') : 'no error');
  });
}

for (const v of vectors.consistency) {
  test(`consistency vector: ${v.desc}`, (t) => {
    const code = errorCode(() => verifyConsistency(consistencyCheck(v)));
    t.is(code, v.wantErr ? (v.wantCode ?? 'wantCode missing') : 'no error');
  });
}

test('ProofError reports got and want', (t) => {
  const v = published(vectors.inclusion).find((x) => x.size === 8) as InclusionVector;
  const wrongRoot = fromHex(goldenRoot(7));
  const mismatch = t.throws(() => verifyInclusion({ ...inclusionCheck(v), root: wrongRoot }), { instanceOf: ProofError });
  t.like(mismatch, { code: 'RootMismatch', field: 'root', got: goldenRoot(8), want: goldenRoot(7) });
  const long = t.throws(() => verifyInclusion({ ...inclusionCheck(v), proof: [...inclusionCheck(v).proof, wrongRoot] }), { instanceOf: ProofError });
  t.like(long, { code: 'BadProofSize', field: 'proof', got: '4', want: '3' });
  t.regex(long.message, /^BadProofSize: proof: got 4, want 3$/);
  const c = published(vectors.consistency).find((x) => x.size1 === 6 && x.size2 === 8) as ConsistencyVector;
  const swapped = t.throws(() => verifyConsistency({ ...consistencyCheck(c), root2: fromHex(goldenRoot(7)) }), { instanceOf: ProofError });
  t.like(swapped, { code: 'RootMismatch', field: 'root2', got: goldenRoot(8), want: goldenRoot(7) });
  const first = t.throws(() => verifyConsistency({ ...consistencyCheck(c), root1: fromHex(goldenRoot(5)) }), { instanceOf: ProofError });
  t.like(first, { code: 'RootMismatch', field: 'root1', got: goldenRoot(6), want: goldenRoot(5) });
});

test('proof builders check their preconditions first', (t) => {
  t.is(errorCode(() => inclusionProof(8, 8, nodeAt8)), 'IndexOutOfRange');
  t.is(errorCode(() => inclusionProof(0, 0, nodeAt8)), 'IndexOutOfRange');
  t.is(errorCode(() => inclusionProof(0.5, 8, nodeAt8)), 'IndexOutOfRange');
  t.is(errorCode(() => inclusionProof(0, 2 ** 53, nodeAt8)), 'SizeOutOfRange');
  t.is(errorCode(() => consistencyProof(0, 5, nodeAt8)), 'EmptyTree');
  t.is(errorCode(() => consistencyProof(5, 4, nodeAt8)), 'SizeOutOfRange');
  t.is(errorCode(() => consistencyProofFromLeaves(2, 9, leafHashes)), 'SizeOutOfRange');
  t.is(errorCode(() => treeRoot(-1, nodeAt8)), 'SizeOutOfRange');
  t.deepEqual(consistencyProof(5, 5, nodeAt8), []);
  const short: NodeAt = (level, index) => nodeAt8(level, index).subarray(1);
  t.is(errorCode(() => inclusionProof(0, 8, short)), 'BadHashSize');
  t.throws(() => nodeAt8(3, 1), { instanceOf: RangeError, message: /no perfect subtree at level 3 index 1 over 8 leaves/ });
});

// A tree whose leaves all hash to the same value has one node hash per level, so trees far past
// 2^32 leaves fit in memory: this checks the size arithmetic beyond 32-bit bitwise operators.
test('proofs in trees of more than 2^32 leaves build and verify', (t) => {
  const chain = [hashLeaf(new Uint8Array([7]))];
  for (let level = 1; level < 53; level++) chain.push(hashChildren(chain[level - 1] as Uint8Array, chain[level - 1] as Uint8Array));
  const sameLeaves: NodeAt = (level) => chain[level] as Uint8Array;
  const leafHash = chain[0] as Uint8Array;
  for (const [index, size] of [[2 ** 40 + 12_345, 2 ** 41 + 3], [2 ** 33 - 1, 2 ** 33], [2 ** 52 + 1, 2 ** 53 - 1]] as const) {
    const proof = inclusionProof(index, size, sameLeaves);
    t.is(proof.length, inclusionProofSize(index, size));
    const root = treeRoot(size, sameLeaves);
    t.notThrows(() => verifyInclusion({ index, size, leafHash, proof, root }));
    const flipped = Uint8Array.from(root, (byte, i) => (i === 0 ? byte ^ 0x80 : byte));
    t.is(errorCode(() => verifyInclusion({ index, size, leafHash, proof, root: flipped })), 'RootMismatch');
  }
  for (const [size1, size2] of [[2 ** 33 + 1, 2 ** 45 - 7], [2 ** 32, 2 ** 32 + 1], [3, 2 ** 50]] as const) {
    const proof = consistencyProof(size1, size2, sameLeaves);
    t.is(proof.length, consistencyProofSize(size1, size2));
    const check = { size1, size2, root1: treeRoot(size1, sameLeaves), root2: treeRoot(size2, sameLeaves), proof };
    t.notThrows(() => verifyConsistency(check));
    const flipped = Uint8Array.from(check.root2, (byte, i) => (i === 31 ? byte ^ 1 : byte));
    t.is(errorCode(() => verifyConsistency({ ...check, root2: flipped })), 'RootMismatch');
  }
});
