/**
 * RFC 9942 COSE Receipts of inclusion for the receipt log (design §5, "Proofs"): a COSE_Sign1 (RFC 9052 §4.2)
 * tagged 18, signed with the log's Ed25519 checkpoint key, whose detached payload is the RFC 9162 Merkle root
 * and whose unprotected header carries the inclusion proof. A verifier needs the receipt, the entry bytes and
 * the log's verifier key; it recomputes the root from the entry and the proof and checks the signature over it.
 *
 *   18([ << {1: -8, 4: kid, 395: 1} >>, {396: {-1: [<< [tree-size, leaf-index, [+ hash]] >>]}}, nil, sig ])
 *
 * Pure: no fs, network or clock.
 */
import { createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { CoseDecodeError, decodeCose, encodeCose, type CoseMap, type CoseValue } from './cose-cbor.ts';
import { HASH_SIZE, bytesEqual, hashLeaf, toHex } from './merkle-hash.ts';
import { ProofError, rootFromInclusionProof } from './proofs.ts';

/** CBOR tag of COSE_Sign1 (RFC 9052 §2); its head is the single byte 0xd2 (major type 6, value 18). */
export const COSE_SIGN1_TAG = 18;
const COSE_SIGN1_TAG_BYTE = 0xc0 | COSE_SIGN1_TAG;

/** COSE header labels: alg and kid (RFC 9052 §3.1), crit (§3.1), vds and vdp (RFC 9942 §2). */
export const COSE_HEADER = { alg: 1, crit: 2, kid: 4, vds: 395, vdp: 396 } as const;

/** COSE algorithm EdDSA (RFC 9053 §2.2), here always Ed25519: the signed-note checkpoint key. */
export const COSE_ALG_EDDSA = -8;

/** RFC 9942 §4.1 verifiable data structure RFC9162_SHA256, and its §4.2 proof label for inclusion proofs. */
export const VDS_RFC9162_SHA256 = 1;
export const VDP_INCLUSION_PROOFS = -1;

/** Ed25519 signature length (RFC 8032 §5.1.6). */
const ED25519_SIGNATURE_SIZE = 64;

/** Why a receipt was refused. */
export type CoseReceiptErrorCode =
  /** Not CBOR tag 18 around a 4-element COSE_Sign1, or not deterministic CBOR. */
  | 'Malformed'
  /** The protected header's alg is not EdDSA (-8), or a critical header is present. */
  | 'UnsupportedAlg'
  /** The protected header's vds is not RFC9162_SHA256 (1). */
  | 'UnsupportedVds'
  /** The inclusion proof is not [tree-size, leaf-index, [+ 32-byte hash]], or does not fit its sizes. */
  | 'BadProof'
  /** The receipt's kid names another key than the pinned one. */
  | 'KeyMismatch'
  /** The signature does not verify over the root recomputed from the entry and the proof. */
  | 'BadSignature'
  /** The receipt's claimed tree size is not the trusted checkpoint's size. */
  | 'SizeMismatch'
  /** The root the receipt proves is not the trusted checkpoint's root. */
  | 'RootMismatch';

/** A refused receipt: `code` says why; the message says what was expected. */
export class CoseReceiptError extends Error {
  readonly code: CoseReceiptErrorCode;

  constructor(code: CoseReceiptErrorCode, detail: string) {
    super(`${code}: ${detail}`);
    this.name = 'CoseReceiptError';
    this.code = code;
  }
}

/** What a receipt of inclusion says: leaf `leafIndex` is in the tree of `treeSize` leaves, by this path. */
export interface InclusionClaim {
  treeSize: number;
  leafIndex: number;
  /** RFC 9162 §2.1.3.1 audit path, lowest node first; at least one hash (RFC 9942's `[+ bstr]`). */
  path: readonly Uint8Array[];
}

/** A receipt taken apart (not yet verified). */
export interface DecodedInclusionReceipt extends InclusionClaim {
  /** The serialized protected header, as signed. */
  protectedBytes: Uint8Array;
  alg: number;
  vds: number;
  kid: Uint8Array | undefined;
  signature: Uint8Array;
}

/**
 * RFC 9052 §4.4 ToBeSigned for a COSE_Sign1: the CBOR array ["Signature1", protected, external_aad, payload],
 * with external_aad empty and the payload the detached Merkle root.
 */
export function sigStructure(protectedBytes: Uint8Array, payload: Uint8Array): Uint8Array {
  return encodeCose(['Signature1', protectedBytes, new Uint8Array(0), payload]);
}

/** `bstr .cbor [tree-size, leaf-index, inclusion-path]` (RFC 9942 §5.2). */
export function encodeInclusionProof(claim: InclusionClaim): Uint8Array {
  return encodeCose([claim.treeSize, claim.leafIndex, [...claim.path]]);
}

/**
 * Issues an RFC 9942 receipt of inclusion: signs `root` (detached) with the Ed25519 `privateKey`.
 * Preconditions, checked: 0 ≤ leafIndex < treeSize, a non-empty path of 32-byte hashes (a one-leaf tree has
 * no audit path, and RFC 9942's CDDL requires one), a 32-byte root. The caller should have checked the proof
 * against the root (verifyInclusion) — this signs what it is given. `kid` names the key (e.g. the 4-byte
 * signed-note key ID).
 *
 * @example issueInclusionReceipt({ treeSize: 600, leafIndex: 5, path, root, privateKey, kid }) // d2 84 …
 */
export function issueInclusionReceipt(input: InclusionClaim & { root: Uint8Array; privateKey: KeyObject; kid?: Uint8Array }): Uint8Array {
  const { treeSize, leafIndex, path, root } = input;
  if (!Number.isSafeInteger(leafIndex) || leafIndex < 0 || leafIndex >= treeSize) throw new RangeError(`leaf-index ${leafIndex}: want 0 ≤ leaf-index < tree-size ${treeSize}`);
  if (path.length === 0) throw new RangeError(`tree of size ${treeSize} gives an empty inclusion path: RFC 9942 needs [+ bstr], so a one-entry log has no receipt`);
  if (root.length !== HASH_SIZE || path.some((h) => h.length !== HASH_SIZE)) throw new RangeError(`root and path hashes must be ${HASH_SIZE} bytes`);
  const header = new Map<number, CoseValue>([
    [COSE_HEADER.alg, COSE_ALG_EDDSA],
    [COSE_HEADER.vds, VDS_RFC9162_SHA256],
  ]);
  if (input.kid !== undefined) header.set(COSE_HEADER.kid, input.kid);
  const protectedBytes = encodeCose(header);
  const signature = new Uint8Array(sign(null, sigStructure(protectedBytes, root), input.privateKey));
  const unprotected = new Map([[COSE_HEADER.vdp, new Map([[VDP_INCLUSION_PROOFS, [encodeInclusionProof(input)]]])]]);
  const sign1 = encodeCose([protectedBytes, unprotected, null, signature]);
  const out = new Uint8Array(1 + sign1.length);
  out[0] = COSE_SIGN1_TAG_BYTE;
  out.set(sign1, 1);
  return out;
}

function strict(bytes: Uint8Array, what: string): CoseValue {
  try {
    return decodeCose(bytes);
  } catch (e) {
    if (e instanceof CoseDecodeError) throw new CoseReceiptError('Malformed', `${what}: ${e.message}`);
    throw e;
  }
}

const isMap = (v: CoseValue | undefined): v is CoseMap => v instanceof Map;
const isBytes = (v: CoseValue | undefined): v is Uint8Array => v instanceof Uint8Array;
const isUint = (v: CoseValue | undefined): v is number => typeof v === 'number' && v >= 0;

/** [protected bstr, unprotected map, nil, signature bstr] inside tag 18. */
function sign1Parts(bytes: Uint8Array): { protectedBytes: Uint8Array; unprotected: CoseMap; signature: Uint8Array } {
  if (bytes[0] !== COSE_SIGN1_TAG_BYTE) {
    throw new CoseReceiptError('Malformed', `not a tagged COSE_Sign1: want first byte 0xd2 (tag 18), got ${bytes.length ? `0x${bytes[0]!.toString(16).padStart(2, '0')}` : 'no bytes'}`);
  }
  const sign1 = strict(bytes.subarray(1), 'COSE_Sign1');
  if (!Array.isArray(sign1) || sign1.length !== 4) throw new CoseReceiptError('Malformed', 'COSE_Sign1 must be a 4-element array [protected, unprotected, payload, signature]');
  const [protectedBytes, unprotected, payload, signature] = sign1 as CoseValue[];
  if (!isBytes(protectedBytes) || !isMap(unprotected) || !isBytes(signature)) throw new CoseReceiptError('Malformed', 'COSE_Sign1 must be [bstr, map, nil, bstr]');
  if (payload !== null) throw new CoseReceiptError('Malformed', 'payload must be detached (nil): the verifier recomputes the Merkle root from the inclusion proof');
  return { protectedBytes, unprotected, signature };
}

function protectedHeader(protectedBytes: Uint8Array): { alg: number; vds: number; kid: Uint8Array | undefined } {
  const header = strict(protectedBytes, 'protected header');
  if (!isMap(header)) throw new CoseReceiptError('Malformed', 'protected header must be a map');
  const alg = header.get(COSE_HEADER.alg);
  const vds = header.get(COSE_HEADER.vds);
  const kid = header.get(COSE_HEADER.kid);
  if (header.has(COSE_HEADER.crit)) throw new CoseReceiptError('UnsupportedAlg', 'protected header has crit (2): no critical extensions are understood');
  if (alg !== COSE_ALG_EDDSA) throw new CoseReceiptError('UnsupportedAlg', `alg (1): got ${String(alg)}, want ${COSE_ALG_EDDSA} (EdDSA)`);
  if (vds !== VDS_RFC9162_SHA256) throw new CoseReceiptError('UnsupportedVds', `vds (395): got ${String(vds)}, want ${VDS_RFC9162_SHA256} (RFC9162_SHA256)`);
  if (kid !== undefined && !isBytes(kid)) throw new CoseReceiptError('Malformed', 'kid (4) must be a byte string');
  return { alg, vds, kid };
}

function inclusionProofBytes(unprotected: CoseMap): Uint8Array {
  const vdp = unprotected.get(COSE_HEADER.vdp);
  const proofs = isMap(vdp) ? vdp.get(VDP_INCLUSION_PROOFS) : undefined;
  if (!Array.isArray(proofs) || proofs.length !== 1 || !isBytes(proofs[0])) {
    throw new CoseReceiptError('BadProof', 'unprotected header must hold vdp (396) {-1: [one inclusion proof bstr]}');
  }
  return proofs[0] as Uint8Array;
}

const isPath = (v: CoseValue | undefined): v is Uint8Array[] =>
  Array.isArray(v) && v.length > 0 && (v as CoseValue[]).every((h) => isBytes(h) && h.length === HASH_SIZE);

/** vdp {-1: [bstr .cbor [tree-size, leaf-index, [+ bstr]]]} (RFC 9942 §5.2). */
function inclusionClaim(unprotected: CoseMap): InclusionClaim {
  const proof = strict(inclusionProofBytes(unprotected), 'inclusion proof');
  const [treeSize, leafIndex, path] = Array.isArray(proof) && proof.length === 3 ? (proof as CoseValue[]) : [];
  if (!isUint(treeSize) || !isUint(leafIndex) || !isPath(path)) {
    throw new CoseReceiptError('BadProof', `inclusion proof must be [tree-size uint, leaf-index uint, [+ ${HASH_SIZE}-byte bstr]]`);
  }
  return { treeSize, leafIndex, path };
}

/** Takes a receipt apart and checks its structure and headers (not the proof or the signature). */
export function decodeInclusionReceipt(bytes: Uint8Array): DecodedInclusionReceipt {
  const { protectedBytes, unprotected, signature } = sign1Parts(bytes);
  const header = protectedHeader(protectedBytes);
  return { protectedBytes, ...header, ...inclusionClaim(unprotected), signature };
}

/** The raw 32-byte Ed25519 public key as a node:crypto KeyObject. */
export function ed25519PublicKey(raw: Uint8Array): KeyObject {
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(raw).toString('base64url') }, format: 'jwk' });
}

/** A verified receipt: what it proved. */
export interface VerifiedInclusion extends InclusionClaim {
  leafHash: Uint8Array;
  root: Uint8Array;
  kid: Uint8Array | undefined;
}

function recomputeRoot(claim: InclusionClaim, leafHash: Uint8Array): Uint8Array {
  try {
    return rootFromInclusionProof({ index: claim.leafIndex, size: claim.treeSize, leafHash, proof: claim.path });
  } catch (e) {
    if (e instanceof ProofError) throw new CoseReceiptError('BadProof', e.message);
    throw e;
  }
}

/**
 * Verifies a receipt of inclusion for `entry` (RFC 9942 §5.2.1, in its order): the structure and headers
 * (alg EdDSA, vds RFC9162_SHA256), the kid against `keyId` when both are present, then the root recomputed
 * from SHA-256(0x00 ‖ entry) and the audit path, then the Ed25519 signature over the Sig_structure with that
 * root as the detached payload. One result: it returns what was proved or throws {@link CoseReceiptError}.
 * A flipped proof hash, another entry of the same index, and a flipped signature all end as BadSignature:
 * without the log, the recomputed root is only checked by the signature.
 *
 * What is proved: `entry` is a leaf of the Merkle tree whose root the key signed. The signature covers the root,
 * not the unprotected header, so tree-size and leaf-index are bound only as far as they change the recomputed
 * root: for a leaf in a left subtree, a nearby tree-size with the same audit path shape gives the same root and
 * verifies. Bind the index through the entry itself (a TAI entry holds its index), and the size by matching the
 * root with a signed checkpoint of that size ({@link matchCheckpoint}).
 */
export function verifyInclusionReceipt(input: { receipt: Uint8Array; entry: Uint8Array; publicKey: Uint8Array; keyId?: Uint8Array }): VerifiedInclusion {
  const r = decodeInclusionReceipt(input.receipt);
  if (r.kid !== undefined && input.keyId !== undefined && !bytesEqual(r.kid, input.keyId)) {
    throw new CoseReceiptError('KeyMismatch', `kid ${toHex(r.kid)} is not the pinned key's ID ${toHex(input.keyId)}`);
  }
  const leafHash = hashLeaf(input.entry);
  const root = recomputeRoot(r, leafHash);
  const good = r.signature.length === ED25519_SIGNATURE_SIZE && verify(null, sigStructure(r.protectedBytes, root), ed25519PublicKey(input.publicKey), r.signature);
  if (!good) {
    throw new CoseReceiptError(
      'BadSignature',
      `the Ed25519 signature does not verify over root ${toHex(root)}, recomputed from leaf ${toHex(leafHash)} at index ${r.leafIndex} of ${r.treeSize}: the entry, the proof or the signature was altered, or another key signed it`,
    );
  }
  return { treeSize: r.treeSize, leafIndex: r.leafIndex, path: r.path, leafHash, root, kid: r.kid };
}

/**
 * Binds a verified receipt to a trusted checkpoint (one verified with the same log's key): RFC 9942 signs only
 * the root, so the receipt's tree size is a claim until a checkpoint of that size has the recomputed root.
 * Precondition: `verified` came from {@link verifyInclusionReceipt}. Checks the size first, then the root.
 *
 * @throws CoseReceiptError SizeMismatch (got the receipt's size, want the checkpoint's) or RootMismatch.
 */
export function matchCheckpoint(verified: VerifiedInclusion, checkpoint: { size: number; root: Uint8Array }, where = 'the checkpoint'): void {
  if (verified.treeSize !== checkpoint.size) {
    throw new CoseReceiptError('SizeMismatch', `the receipt claims tree size ${verified.treeSize}, ${where} has size ${checkpoint.size}: the receipt's size was altered, or it was issued against another checkpoint (ask for a receipt at ${checkpoint.size}, or pass that checkpoint)`);
  }
  if (!bytesEqual(verified.root, checkpoint.root)) {
    throw new CoseReceiptError('RootMismatch', `the root recomputed from the entry and the proof, ${toHex(verified.root)}, is not the root ${toHex(checkpoint.root)} of ${where} (size ${checkpoint.size}): the entry is not in the log that checkpoint describes (a fork, or another log)`);
  }
}
