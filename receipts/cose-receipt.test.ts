// RFC 9942 receipts of inclusion: structure checked by cbor2 (an independent decoder, strict deterministic mode),
// the signature checked over a Sig_structure that cbor2 builds, and every tampering refused with its reason.
import test from 'ava';
import { verify } from 'node:crypto';
import fc from 'fast-check';
import { Tag, decode as cbor2Decode, encode as cbor2Encode } from 'cbor2';
import { sortCoreDeterministic } from 'cbor2/sorts';
import type { DecodeOptions } from 'cbor2';
import { CoseDecodeError, decodeCose, encodeCose } from './cose-cbor.ts';
import {
  CoseReceiptError,
  decodeInclusionReceipt,
  ed25519PublicKey,
  issueInclusionReceipt,
  matchCheckpoint,
  sigStructure,
  verifyInclusionReceipt,
  type CoseReceiptErrorCode,
} from './cose-receipt.ts';
import { hashLeaf, toHex } from './merkle-hash.ts';
import { inclusionProofFromLeaves, nodeAtFromLeaves, treeRoot } from './proofs.ts';
import { generateNoteKey, parseSignerKey, parseVerifierKey } from './signed-note.ts';

const KEY = generateNoteKey('test.tai.dev/log', new Uint8Array(32).fill(7));
const SIGNER = parseSignerKey(KEY.signerKey);
const VERIFIER = parseVerifierKey(KEY.verifierKey);
const OTHER = parseVerifierKey(generateNoteKey('test.tai.dev/log', new Uint8Array(32).fill(8)).verifierKey);
const KID = Uint8Array.of(...Buffer.from(SIGNER.keyId.toString(16).padStart(8, '0'), 'hex'));

const CBOR2_STRICT: DecodeOptions = { cde: true, rejectStreaming: true, requirePreferred: true, sortKeys: sortCoreDeterministic, rejectDuplicateKeys: true, rejectFloats: true, rejectUndefined: true };

const entriesOf = (n: number): Uint8Array[] => Array.from({ length: n }, (_, i) => new TextEncoder().encode(`entry ${i}`));

function receiptFor(index: number, entries: Uint8Array[], privateKey = SIGNER.privateKey): Uint8Array {
  const leaves = entries.map(hashLeaf);
  const root = treeRoot(leaves.length, nodeAtFromLeaves(leaves));
  return issueInclusionReceipt({ treeSize: leaves.length, leafIndex: index, path: inclusionProofFromLeaves(index, leaves), root, privateKey, kid: KID });
}

function codeOf(f: () => unknown): CoseReceiptErrorCode | undefined {
  try {
    f();
  } catch (e) {
    if (e instanceof CoseReceiptError) return e.code;
    throw e;
  }
  return undefined;
}

const ENTRIES = entriesOf(20);

test('the receipt is RFC 9942: tag 18, protected {1: -8, 4: kid, 395: 1}, unprotected {396: {-1: [bstr]}}, nil payload', (t) => {
  const bytes = receiptFor(17, ENTRIES);
  t.is(bytes[0], 0xd2, 'tag 18 head');
  const tag = cbor2Decode(bytes, { ...CBOR2_STRICT, ignoreGlobalTags: true }) as Tag;
  t.true(tag instanceof Tag);
  t.is(tag.tag, 18);
  const [protectedBytes, unprotected, payload, signature] = tag.contents as [Uint8Array, Map<number, unknown>, null, Uint8Array];
  t.deepEqual(cbor2Decode(protectedBytes, CBOR2_STRICT), new Map<number, unknown>([[1, -8], [4, KID], [395, 1]]));
  t.is(toHex(protectedBytes), `a301270444${toHex(KID)}19018b01`); // a3 | 01 27 | 04 44 kid | 19018b 01
  t.true(unprotected instanceof Map);
  t.deepEqual([...unprotected.keys()], [396]);
  const vdp = unprotected.get(396) as Map<number, Uint8Array[]>;
  t.deepEqual([...vdp.keys()], [-1]);
  t.is(vdp.get(-1)!.length, 1);
  const [size, index, path] = cbor2Decode(vdp.get(-1)![0]!, CBOR2_STRICT) as [number, number, Uint8Array[]];
  t.deepEqual([size, index], [20, 17]);
  t.deepEqual(path, inclusionProofFromLeaves(17, ENTRIES.map(hashLeaf)));
  t.is(payload, null);
  t.is(signature.length, 64);
});

test('the signature verifies over a Sig_structure built by cbor2 with the Merkle root as payload (RFC 9052 §4.4)', (t) => {
  const bytes = receiptFor(5, ENTRIES);
  const r = decodeInclusionReceipt(bytes);
  const root = treeRoot(20, nodeAtFromLeaves(ENTRIES.map(hashLeaf)));
  const tbs = cbor2Encode(['Signature1', r.protectedBytes, new Uint8Array(0), root]);
  t.deepEqual(sigStructure(r.protectedBytes, root), tbs);
  t.true(verify(null, tbs, ed25519PublicKey(VERIFIER.publicKey), r.signature));
});

test('Sig_structure bytes: array(4), "Signature1", bstr protected, h\'\', bstr root', (t) => {
  // 84 | 6a 5369676e617475726531 | 43 a10127 | 40 | 5820 00…00
  t.is(toHex(sigStructure(Uint8Array.of(0xa1, 0x01, 0x27), new Uint8Array(32))), `846a5369676e61747572653143a101274058200${'0'.repeat(63)}`);
});

test('receipts are deterministic: Ed25519 and deterministic CBOR give the same bytes twice', (t) => {
  t.deepEqual(receiptFor(3, ENTRIES), receiptFor(3, ENTRIES));
});

test('property: every index of every tree size from 2 verifies, and gives back its claim', (t) => {
  fc.assert(
    fc.property(fc.integer({ min: 2, max: 70 }), fc.nat(), (size, at) => {
      const entries = entriesOf(size);
      const index = at % size;
      const v = verifyInclusionReceipt({ receipt: receiptFor(index, entries), entry: entries[index]!, publicKey: VERIFIER.publicKey, keyId: KID });
      return v.leafIndex === index && v.treeSize === size && toHex(v.root) === toHex(treeRoot(size, nodeAtFromLeaves(entries.map(hashLeaf))));
    }),
    { numRuns: 150 },
  );
  t.pass();
});

test('property: any flipped byte of a receipt is refused, except a tree-size that gives the same root', (t) => {
  // The signature covers the root only (RFC 9942 §5.2.1): tree-size, in the unprotected header, is bound only as
  // far as the audit path recomputes the same root. For leaf 9 of 20, size 21 gives the same path and root.
  const receipt = receiptFor(9, ENTRIES);
  const good = verifyInclusionReceipt({ receipt, entry: ENTRIES[9]!, publicKey: VERIFIER.publicKey, keyId: KID });
  fc.assert(
    fc.property(fc.nat({ max: receipt.length - 1 }), fc.integer({ min: 1, max: 255 }), (at, xor) => {
      const bad = Uint8Array.from(receipt);
      bad[at]! ^= xor;
      try {
        const v = verifyInclusionReceipt({ receipt: bad, entry: ENTRIES[9]!, publicKey: VERIFIER.publicKey, keyId: KID });
        return v.treeSize !== good.treeSize && v.leafIndex === 9 && toHex(v.root) === toHex(good.root);
      } catch (e) {
        return e instanceof CoseReceiptError;
      }
    }),
    { numRuns: 500 },
  );
  t.pass();
});

test('matchCheckpoint: an edited tree size that still verifies is caught by the checkpoint of the real size', (t) => {
  const leaves = ENTRIES.map(hashLeaf);
  const checkpoint = { size: 20, root: treeRoot(20, nodeAtFromLeaves(leaves)) };
  const edited = withProof([21, 9, path9]); // leaf 9: size 21 gives the same path shape and root as 20
  const v = verifyInclusionReceipt({ receipt: edited, entry: ENTRIES[9]!, publicKey: VERIFIER.publicKey, keyId: KID });
  t.is(v.treeSize, 21, 'the receipt alone accepts the claim');
  t.is(codeOf(() => matchCheckpoint(v, checkpoint)), 'SizeMismatch');
  t.throws(() => matchCheckpoint(v, checkpoint, 'cp'), { message: /the receipt claims tree size 21, cp has size 20/ });
  const real = verifyInclusionReceipt({ receipt: RECEIPT, entry: ENTRIES[9]!, publicKey: VERIFIER.publicKey, keyId: KID });
  t.notThrows(() => matchCheckpoint(real, checkpoint));
  const otherLog = { size: 20, root: treeRoot(20, nodeAtFromLeaves(entriesOf(21).slice(1).map(hashLeaf))) };
  t.is(codeOf(() => matchCheckpoint(real, otherLog)), 'RootMismatch');
});

/** The receipt with one part replaced, re-encoded. */
function rebuilt(receipt: Uint8Array, edit: (parts: [Uint8Array, Map<number, unknown>, null, Uint8Array]) => unknown[]): Uint8Array {
  const parts = (decodeCose(receipt.subarray(1)) as unknown[]).slice() as [Uint8Array, Map<number, unknown>, null, Uint8Array];
  return Uint8Array.of(0xd2, ...encodeCose(edit(parts) as never));
}

const RECEIPT = receiptFor(9, ENTRIES);
const withProtected = (header: Map<number, unknown>): Uint8Array => rebuilt(RECEIPT, ([, u, p, s]) => [encodeCose(header as never), u, p, s]);
const withProof = (proof: unknown): Uint8Array => rebuilt(RECEIPT, ([h, , p, s]) => [h, new Map([[396, new Map([[-1, [encodeCose(proof as never)]]])]]), p, s]);
const path9 = inclusionProofFromLeaves(9, ENTRIES.map(hashLeaf));
const flipped = (bytes: Uint8Array, at: number): Uint8Array => Uint8Array.from(bytes, (b, i) => (i === at ? b ^ 1 : b));

const refusals: [string, () => unknown, CoseReceiptErrorCode, RegExp][] = [
  ['a flipped signature byte', () => verifyInclusionReceipt({ receipt: flipped(RECEIPT, RECEIPT.length - 1), entry: ENTRIES[9]!, publicKey: VERIFIER.publicKey }), 'BadSignature', /does not verify over root/],
  ['another entry', () => verifyInclusionReceipt({ receipt: RECEIPT, entry: ENTRIES[8]!, publicKey: VERIFIER.publicKey }), 'BadSignature', /recomputed from leaf/],
  ['a flipped proof hash', () => verifyInclusionReceipt({ receipt: withProof([20, 9, [flipped(path9[0]!, 0), ...path9.slice(1)]]), entry: ENTRIES[9]!, publicKey: VERIFIER.publicKey }), 'BadSignature', /altered/],
  ['another public key', () => verifyInclusionReceipt({ receipt: RECEIPT, entry: ENTRIES[9]!, publicKey: OTHER.publicKey }), 'BadSignature', /another key/],
  ['another key ID', () => verifyInclusionReceipt({ receipt: RECEIPT, entry: ENTRIES[9]!, publicKey: OTHER.publicKey, keyId: Uint8Array.of(0, 0, 0, 1) }), 'KeyMismatch', /kid [0-9a-f]{8} is not the pinned key's ID 00000001/],
  ['a proof one hash short', () => verifyInclusionReceipt({ receipt: withProof([20, 9, path9.slice(1)]), entry: ENTRIES[9]!, publicKey: VERIFIER.publicKey }), 'BadProof', /BadProofSize/],
  ['a leaf index past the tree size', () => verifyInclusionReceipt({ receipt: withProof([20, 20, path9]), entry: ENTRIES[9]!, publicKey: VERIFIER.publicKey }), 'BadProof', /IndexOutOfRange/],
  ['an empty inclusion path', () => decodeInclusionReceipt(withProof([1, 0, []])), 'BadProof', /\[\+ 32-byte bstr\]/],
  ['a 31-byte proof hash', () => decodeInclusionReceipt(withProof([20, 9, [path9[0]!.subarray(1)]])), 'BadProof', /tree-size uint/],
  ['alg ES256', () => decodeInclusionReceipt(withProtected(new Map<number, unknown>([[1, -7], [395, 1]]))), 'UnsupportedAlg', /alg \(1\): got -7, want -8/],
  ['no alg', () => decodeInclusionReceipt(withProtected(new Map([[395, 1]]))), 'UnsupportedAlg', /got undefined/],
  ['a crit header', () => decodeInclusionReceipt(withProtected(new Map<number, unknown>([[1, -8], [2, [395]], [395, 1]]))), 'UnsupportedAlg', /crit/],
  ['vds 2', () => decodeInclusionReceipt(withProtected(new Map<number, unknown>([[1, -8], [395, 2]]))), 'UnsupportedVds', /vds \(395\): got 2, want 1/],
  ['an attached payload', () => decodeInclusionReceipt(rebuilt(RECEIPT, ([h, u, , s]) => [h, u, new Uint8Array(32), s])), 'Malformed', /detached/],
  ['no tag 18', () => decodeInclusionReceipt(RECEIPT.subarray(1)), 'Malformed', /want first byte 0xd2/],
  ['a truncated receipt', () => decodeInclusionReceipt(RECEIPT.subarray(0, 40)), 'Malformed', /truncated/],
  ['trailing bytes', () => decodeInclusionReceipt(Uint8Array.of(...RECEIPT, 0)), 'Malformed', /trailing bytes/],
  ['no vdp', () => decodeInclusionReceipt(rebuilt(RECEIPT, ([h, , p, s]) => [h, new Map(), p, s])), 'BadProof', /vdp \(396\)/],
];
for (const [what, run, code, message] of refusals) {
  test(`refused: ${what} (${code})`, (t) => {
    t.is(codeOf(run), code);
    t.throws(run, { message });
  });
}

test('issuing refuses an empty path (a one-entry log) and an index past the tree', (t) => {
  const leaves = [hashLeaf(ENTRIES[0]!)];
  t.throws(() => issueInclusionReceipt({ treeSize: 1, leafIndex: 0, path: [], root: leaves[0]!, privateKey: SIGNER.privateKey }), { message: /RFC 9942 needs \[\+ bstr\]/ });
  t.throws(() => issueInclusionReceipt({ treeSize: 2, leafIndex: 2, path: [leaves[0]!], root: leaves[0]!, privateKey: SIGNER.privateKey }), { message: /want 0 ≤ leaf-index < tree-size 2/ });
});

// ---- the COSE CBOR subset ----

test('int-keyed maps are written in RFC 8949 §4.2.1 order, as cbor2 writes them', (t) => {
  const map = new Map<number, number>([[-1, 0], [396, 0], [4, 0], [1, 0], [-25, 0], [24, 0]]);
  // keys 01, 04, 1818, 19018c, 20, 38 18
  t.is(toHex(encodeCose(map)), 'a601000400181800' + '19018c00' + '2000' + '381800');
  t.deepEqual(encodeCose(map), cbor2Encode(map, { cde: true }));
  t.deepEqual([...(decodeCose(encodeCose(map)) as Map<number, unknown>).keys()], [1, 4, 24, 396, -1, -25]);
});

test('property: encodeCose agrees with cbor2 in deterministic mode, and decodes back', (t) => {
  const leaf = fc.oneof(fc.integer({ min: -(2 ** 40), max: 2 ** 40 }), fc.uint8Array({ maxLength: 40 }), fc.string(), fc.constant(null));
  const value = fc.letrec((tie) => ({
    v: fc.oneof({ depthSize: 'small' }, leaf, fc.array(tie('v'), { maxLength: 4 }), fc.array(fc.tuple(fc.integer({ min: -500, max: 500 }), tie('v')), { maxLength: 4 }).map((kv) => new Map(kv))),
  })).v;
  fc.assert(
    fc.property(value, (v) => {
      const ours = encodeCose(v as never);
      return toHex(ours) === toHex(cbor2Encode(v, { cde: true })) && toHex(encodeCose(decodeCose(ours))) === toHex(ours);
    }),
    { numRuns: 300 },
  );
  t.pass();
});

const notDeterministic: [string, string][] = [
  ['non-shortest integer', '1801'],
  ['non-shortest length', '5801ff'],
  ['unsorted keys', 'a204000100'],
  ['duplicate keys', 'a201000100'],
  ['indefinite array', '9f01ff'],
  ['text key', 'a1616101'],
  ['a float', 'f93c00'],
  ['a nested tag', '81d82000'],
  ['trailing bytes', '0000'],
  ['-2^53, past the safe integers', '3b001fffffffffffff'],
  ['an array longer than the input', '9b0000000100000000'],
];
for (const [what, hex] of notDeterministic) {
  test(`decodeCose rejects ${what}`, (t) => {
    t.throws(() => decodeCose(Uint8Array.from(Buffer.from(hex, 'hex'))), { instanceOf: CoseDecodeError });
  });
}
