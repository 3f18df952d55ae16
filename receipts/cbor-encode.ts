/**
 * Receipt bytes: RFC 8949 §4.2.1 core deterministic CBOR, written and read by hand.
 *
 * Why not cbor-x: it has no deterministic mode, and its output is not deterministic CBOR for values receipts
 * carry (checked in cbor.test.ts, "cbor-x diverges"): a number ≥ 2^32 becomes a float64 (0xfb…), a bigint
 * always takes 9 bytes (1n → 0x1b0000000000000001), a Map gets tag 259 unless told otherwise, and plain
 * objects keep JS property order (integer-like keys first), not CBOR key order. Working around each of
 * these would tie the log format to cbor-x internals. The subset receipts need (ints, text, bstr, bool,
 * null, arrays, text-keyed maps) is ~100 lines to write exactly, and the decoder must be hand-written anyway
 * to reject floats, tags and non-shortest forms before any coercion. cbor2's strict CDE decoder checks our
 * bytes independently in the tests; where cbor-x is deterministic the tests check we agree with it byte for byte.
 *
 * Heads, key order and text are written by cbor-core.ts, which the COSE subset (cose-cbor.ts) shares; this file
 * holds what is particular to receipts: the value subset, its errors with paths, and the receipt's fixed layout.
 *
 * Pure: no fs, network or clock.
 */

import {
  PREV_LENGTH,
  RECEIPT_FIELDS,
  RECEIPT_KEY,
  RECEIPT_VERSION,
  RECEIPT_KINDS,
  ReceiptEncodeError,
  isReceiptKind,
} from './receipt.ts';
import type { CborMap, CborValue, Receipt, ReceiptField } from './receipt.ts';
import { MT, canonicalOrder, written, writtenKey, type ByteWriter } from './cbor-core.ts';

/** The integer range a receipt may hold: [-2^63, 2^64-1] (int64 ∪ uint64). */
export const INT_MIN = -(2n ** 63n);
export const UINT_MAX = 2n ** 64n - 1n;

/** Deepest nesting of arrays and maps accepted on decode (a body is a few levels deep). */
export const MAX_CBOR_DEPTH = 64;

/**
 * Errors carry the path of the offending value. Paths are built only when something fails: each container
 * re-throws its child's error with its own segment in front, so a successful encode builds no strings.
 */
function within(e: unknown, segment: string): unknown {
  return e instanceof ReceiptEncodeError ? new ReceiptEncodeError(segment + e.path, e.detail) : e;
}

function encodeNumber(w: ByteWriter, n: number): void {
  if (!Number.isInteger(n)) {
    throw new ReceiptEncodeError('', `${n} is not an integer: floats are not allowed in receipts (use an integer or text)`);
  }
  if (!Number.isSafeInteger(n)) {
    throw new ReceiptEncodeError('', `${n} is beyond ±(2^53-1): pass integers that large as a BigInt`);
  }
  w.int(n);
}

function encodeBigInt(w: ByteWriter, n: bigint): void {
  if (n < INT_MIN || n > UINT_MAX) {
    throw new ReceiptEncodeError('', `${n} is outside [-2^63, 2^64-1], the integer range receipts hold`);
  }
  w.int(n);
}

const refuseLoneSurrogate = (): never => {
  throw new ReceiptEncodeError('', 'text has a lone UTF-16 surrogate: it cannot be written as UTF-8');
};

function isPlainObject(value: object): value is CborMap {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Encoded map keys, by key: bodies reuse a handful of keys, so each is encoded once. */
const keyCache = new Map<string, Uint8Array>();
const KEY_CACHE_LIMIT = 4096;

function encodedKey(key: string): Uint8Array {
  let bytes = keyCache.get(key);
  if (bytes === undefined) {
    bytes = writtenKey((w) => w.text(key, refuseLoneSurrogate));
    if (keyCache.size < KEY_CACHE_LIMIT) keyCache.set(key, bytes);
  }
  return bytes;
}

/** A map's keys as listed, encoded, and their positions in key order. */
interface MapShape {
  keys: readonly string[];
  encoded: readonly Uint8Array[];
  order: readonly number[];
}

/**
 * Shapes met lately: the bodies of one kind are built with the same few key lists, so encoding and ordering the
 * keys is done once per shape rather than once per receipt (it cost a third of encoding a decision).
 */
const shapes: MapShape[] = [];
const SHAPE_LIMIT = 64;

function sameKeys(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function shapeOf(keys: string[]): MapShape {
  for (const shape of shapes) if (sameKeys(shape.keys, keys)) return shape;
  const encoded = keys.map((key) => {
    try {
      return encodedKey(key);
    } catch (e) {
      throw within(e, ` key ${JSON.stringify(key)}`);
    }
  });
  const shape = { keys, encoded, order: canonicalOrder(encoded) };
  if (shapes.length >= SHAPE_LIMIT) shapes.pop();
  shapes.unshift(shape);
  return shape;
}

/** Writes a text-keyed map, its entries sorted by the bytes of their encoded keys. */
function encodeMap(w: ByteWriter, map: CborMap, depth: number): void {
  checkEncodeDepth(depth);
  const keys = Object.keys(map);
  const { encoded, order } = shapeOf(keys);
  w.head(MT.map, keys.length);
  for (const i of order) {
    const key = keys[i]!;
    w.bytes(encoded[i]!);
    try {
      encodeValue(w, map[key], depth + 1);
    } catch (e) {
      throw within(e, `.${key}`);
    }
  }
}

function encodeArray(w: ByteWriter, array: unknown[], depth: number): void {
  checkEncodeDepth(depth);
  w.head(MT.array, array.length);
  // An index loop, not forEach: a hole in a sparse array is undefined (an error), not skipped.
  for (let i = 0; i < array.length; i++) {
    try {
      encodeValue(w, array[i], depth + 1);
    } catch (e) {
      throw within(e, `[${i}]`);
    }
  }
}

/** The decoder's nesting limit, so that everything written can be read back. */
function checkEncodeDepth(depth: number): void {
  if (depth >= MAX_CBOR_DEPTH) throw new ReceiptEncodeError('', `nesting deeper than ${MAX_CBOR_DEPTH} levels`);
}

function encodeObject(w: ByteWriter, value: object, depth: number): void {
  if (value instanceof Uint8Array) {
    w.byteString(value);
  } else if (Array.isArray(value)) {
    encodeArray(w, value, depth);
  } else if (isPlainObject(value)) {
    encodeMap(w, value, depth);
  } else {
    const name = (value as { constructor?: { name?: string } }).constructor?.name ?? 'object';
    throw new ReceiptEncodeError('', `a ${name} cannot be written: use integers, text, booleans, null, Uint8Array, arrays or plain objects`);
  }
}

function encodeValue(w: ByteWriter, value: unknown, depth: number): void {
  switch (typeof value) {
    case 'number': return encodeNumber(w, value);
    case 'bigint': return encodeBigInt(w, value);
    case 'string': return w.text(value, refuseLoneSurrogate);
    case 'boolean': return w.byte(value ? 0xf5 : 0xf4);
    case 'object': return value === null ? w.byte(0xf6) : encodeObject(w, value, depth);
    case 'undefined': throw new ReceiptEncodeError('', 'undefined cannot be written (omit the key, or use null)');
    default: throw new ReceiptEncodeError('', `a ${typeof value} cannot be written`);
  }
}

/**
 * Encodes a value in RFC 8949 §4.2.1 core deterministic CBOR: shortest integers and lengths, definite
 * lengths, map keys sorted by their encoded bytes, no floats, no tags. `path` names the value in errors.
 *
 * @throws ReceiptEncodeError naming the path of a float, an unsafe `number`, an out-of-range bigint, a lone
 * surrogate, `undefined` (also a hole in a sparse array), an unsupported object, or nesting deeper than
 * `MAX_CBOR_DEPTH`.
 * @example
 * encodeDeterministic({ b: 1, aa: 2, a: [] }) // a3 6161 80 6162 01 626161 02
 */
export function encodeDeterministic(value: CborValue, path = 'value'): Uint8Array {
  try {
    return written((w) => encodeValue(w, value, 0));
  } catch (e) {
    throw within(e, path);
  }
}

function checkUint(value: unknown, field: ReceiptField): void {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new ReceiptEncodeError(field, `must be an unsigned safe integer, got ${String(value)}`);
  }
}

/** Checks the header fields of a receipt; the body is checked as it is written. */
function checkReceipt(r: Receipt): void {
  if (r.v !== RECEIPT_VERSION) throw new ReceiptEncodeError('v', `must be ${RECEIPT_VERSION}, got ${String(r.v)}`);
  if (!isReceiptKind(r.kind)) throw new ReceiptEncodeError('kind', `unknown receipt kind ${JSON.stringify(r.kind)}`);
  checkUint(r.index, 'index');
  checkUint(r.time, 'time');
  if (!(r.prev instanceof Uint8Array) || r.prev.length !== PREV_LENGTH) {
    throw new ReceiptEncodeError('prev', `must be ${PREV_LENGTH} bytes, got ${describeJs(r.prev)}`);
  }
  if (r.index === 0 && r.prev.some((b) => b !== 0)) {
    throw new ReceiptEncodeError('prev', `must be ${PREV_LENGTH} zero bytes at index 0`);
  }
  if (!isMapValue(r.body)) {
    throw new ReceiptEncodeError('body', `must be a plain object (a text-keyed map), got ${describeJs(r.body)}`);
  }
}

/** A plain object, i.e. a text-keyed map (not null, an array or a byte string). */
export function isMapValue(value: unknown): value is CborMap {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && isPlainObject(value);
}

export function describeJs(value: unknown): string {
  if (value instanceof Uint8Array) return `${value.length} bytes`;
  if (Array.isArray(value)) return 'an array';
  return value === null ? 'null' : typeof value;
}

/**
 * The bytes of a receipt (design §5): a 6-entry map with keys 0-5 in order, body in deterministic CBOR.
 * These bytes are the log entry; `leafHash` of them is the next entry's `prev`.
 *
 * @throws ReceiptEncodeError naming the field (`prev`, `body.amount`, …) that cannot be written.
 */
export function encodeReceipt(r: Receipt): Uint8Array {
  checkReceipt(r);
  return written((w) => writeReceipt(w, r));
}

/**
 * {@link encodeReceipt}, with `onSpan` called on `prefix` ‖ the receipt's bytes, a scratch view valid only during
 * the call: the log hashes its leaf, SHA-256(0x00 ‖ entry), there without building that input apart.
 */
export function encodeReceiptAfter(prefix: number, r: Receipt, onSpan: (span: Uint8Array) => void): Uint8Array {
  checkReceipt(r);
  return written(
    (w) => {
      w.byte(prefix);
      writeReceipt(w, r);
    },
    1,
    onSpan,
  );
}

/**
 * The receipt's bytes up to its index, per kind: map(6), 0: 1, 1: kind, then key 2. Every receipt of a kind starts
 * with them (checkReceipt has checked v = 1 and the kind), so they are written as one copy.
 */
const HEADS = new Map(
  RECEIPT_KINDS.map((kind) => [
    kind,
    writtenKey((w) => {
      w.head(MT.map, RECEIPT_FIELDS.length);
      w.head(MT.uint, RECEIPT_KEY.v);
      w.head(MT.uint, RECEIPT_VERSION);
      w.head(MT.uint, RECEIPT_KEY.kind);
      w.text(kind);
      w.head(MT.uint, RECEIPT_KEY.index);
    }),
  ]),
);
/** Key 4 and the head of a 32-byte string: prev's prefix. */
const PREV_HEAD = Uint8Array.of(RECEIPT_KEY.prev, (MT.bytes << 5) | 24, PREV_LENGTH);

function writeReceipt(w: ByteWriter, r: Receipt): void {
  w.bytes(HEADS.get(r.kind)!);
  w.head(MT.uint, r.index);
  w.head(MT.uint, RECEIPT_KEY.time);
  w.head(MT.uint, r.time);
  w.bytes(PREV_HEAD);
  w.bytes(r.prev);
  w.head(MT.uint, RECEIPT_KEY.body);
  try {
    encodeMap(w, r.body, 1); // depth 1, as the decoder counts it
  } catch (e) {
    throw within(e, 'body');
  }
}
