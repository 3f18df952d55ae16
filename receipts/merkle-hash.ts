// RFC 6962 / RFC 9162 §2.1 Merkle tree hashing with SHA-256 and domain separation.
// Pure: no I/O, no clock. Every hash is 32 bytes.
import { hash } from 'node:crypto';

/** Bytes in a SHA-256 digest; every leaf hash, node hash and root is this long. */
export const HASH_SIZE = 32;

/** Leaf domain prefix: leaf hash = SHA-256(0x00 ‖ entry bytes). Reproduce: `echo 00<entry hex> | xxd -r -p | sha256sum`. */
export const LEAF_PREFIX = 0x00;

/** Interior-node domain prefix: node hash = SHA-256(0x01 ‖ left ‖ right). Reproduce: `echo 01<left><right> | xxd -r -p | sha256sum`. */
export const NODE_PREFIX = 0x01;

const sha256 = (bytes: Uint8Array): Uint8Array => {
  const digest = hash('sha256', bytes, 'buffer');
  return new Uint8Array(digest.buffer, digest.byteOffset, digest.byteLength);
};

// The hash inputs are built in scratch buffers reused across calls (hash() reads its input before it returns):
// a fresh buffer per hash cost about as much as the hash of a short input.
let leafInput = new Uint8Array(1024);
const nodeInput = new Uint8Array(1 + 2 * HASH_SIZE);
nodeInput[0] = NODE_PREFIX;

/**
 * Hash of one log entry: SHA-256(0x00 ‖ data).
 * @example hashLeaf(new Uint8Array()) // 6e340b9c… (`echo 00 | xxd -r -p | sha256sum`)
 */
export function hashLeaf(data: Uint8Array): Uint8Array {
  if (leafInput.length < 1 + data.length) leafInput = new Uint8Array(Math.max(2 * leafInput.length, 1 + data.length));
  leafInput[0] = LEAF_PREFIX;
  leafInput.set(data, 1);
  return sha256(leafInput.subarray(0, 1 + data.length));
}

/** SHA-256 of bytes that already start with {@link LEAF_PREFIX}: the leaf hash of the rest. */
export function hashPrefixedLeaf(prefixed: Uint8Array): Uint8Array {
  if (prefixed[0] !== LEAF_PREFIX) throw new RangeError('hashPrefixedLeaf: the bytes must start with the leaf prefix 0x00');
  return sha256(prefixed);
}

/** Hash of an interior node: SHA-256(0x01 ‖ left ‖ right). Both children must be {@link HASH_SIZE} bytes. */
export function hashChildren(left: Uint8Array, right: Uint8Array): Uint8Array {
  if (left.length !== HASH_SIZE || right.length !== HASH_SIZE) {
    const buf = new Uint8Array(1 + left.length + right.length);
    buf[0] = NODE_PREFIX;
    buf.set(left, 1);
    buf.set(right, 1 + left.length);
    return sha256(buf);
  }
  nodeInput.set(left, 1);
  nodeInput.set(right, 1 + HASH_SIZE);
  return sha256(nodeInput);
}

/** Root of the empty tree (RFC 9162 §2.1.1: MTH({}) = SHA-256()), e3b0c442… (`printf '' | sha256sum`). */
export function emptyRoot(): Uint8Array {
  return sha256(new Uint8Array(0));
}

/** True when the two byte strings are identical (not constant-time: hashes here are public). */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) return false;
  }
  return true;
}

/** Lower-case hex of bytes, the form used in vectors, errors and serialised state. */
export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** Bytes of a lower-case or upper-case hex string; throws on odd length or a non-hex digit. */
export function fromHex(hex: string): Uint8Array {
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) {
    throw new TypeError(`not a hex string: ${JSON.stringify(hex.slice(0, 80))}`);
  }
  return new Uint8Array(Buffer.from(hex, 'hex'));
}
