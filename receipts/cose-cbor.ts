/**
 * The CBOR that COSE structures need and receipt bodies do not: maps with integer labels (COSE header maps,
 * RFC 9052 §3) and `null`. Written in RFC 8949 §4.2.1 core deterministic encoding — shortest heads, definite
 * lengths, map keys sorted by their encoded bytes — and read back strictly, with the head writer and strict
 * reader of cbor-core.ts that the receipt codec shares; receipts' text-keyed maps cannot carry COSE labels.
 * Tags are not values here: the one tag a COSE Receipt has (18, COSE_Sign1) is written by cose-receipt.ts.
 *
 * Pure: no fs, network or clock.
 */
import { CborDecodeError, MT, StrictReader, canonicalOrder, written, writtenKey, type ByteWriter } from './cbor-core.ts';

/** A value of the COSE subset: integers (safe), byte strings, text, null, arrays, integer-keyed maps. */
export type CoseValue = number | Uint8Array | string | null | readonly CoseValue[] | CoseMap;

/** A COSE header map or proof map: integer labels (RFC 9052 §3 `label = int / tstr`; we use ints only). */
export type CoseMap = ReadonlyMap<number, CoseValue>;

/** Bytes that are not a COSE value in deterministic CBOR; `offset` is where the offending item starts. */
export class CoseDecodeError extends CborDecodeError {}

function writeInt(w: ByteWriter, n: number): void {
  if (!Number.isSafeInteger(n)) throw new RangeError(`COSE value ${n}: only safe integers are supported`);
  w.int(n);
}

function writeMap(w: ByteWriter, map: CoseMap): void {
  const entries = [...map];
  const keys = entries.map(([label]) => writtenKey((kw) => writeInt(kw, label)));
  w.head(MT.map, entries.length);
  for (const i of canonicalOrder(keys)) {
    w.bytes(keys[i]!);
    writeValue(w, entries[i]![1]);
  }
}

function writeValue(w: ByteWriter, value: CoseValue): void {
  if (value === null) return w.byte(0xf6);
  if (typeof value === 'number') return writeInt(w, value);
  if (typeof value === 'string') return w.text(value); // a lone surrogate becomes U+FFFD, as it always has here: COSE text is only 'Signature1'
  if (value instanceof Uint8Array) return w.byteString(value);
  if (value instanceof Map) return writeMap(w, value);
  if (!Array.isArray(value)) throw new TypeError(`not a COSE value: ${typeof value}`);
  w.head(MT.array, value.length);
  for (const item of value as readonly CoseValue[]) writeValue(w, item);
}

/**
 * Encodes a COSE value in RFC 8949 §4.2.1 core deterministic CBOR: integer map keys sorted by their encoded
 * bytes (so 1, 4, 395, -1 come out as 01, 04, 19018b, 20).
 *
 * @example encodeCose(new Map([[395, 1], [1, -8]])) // a2 01 27 19018b 01
 */
export function encodeCose(value: CoseValue): Uint8Array {
  return written((w) => writeValue(w, value));
}

/** Deepest nesting read (a COSE Receipt is four levels deep). */
const MAX_DEPTH = 16;

/** Reads one item at a time; anything outside the subset, or not in deterministic form, is an error. */
class CoseReader extends StrictReader {
  constructor(bytes: Uint8Array) {
    super(bytes, CoseDecodeError);
  }

  value(depth: number): CoseValue {
    const offset = this.pos;
    if (depth > MAX_DEPTH) throw new CoseDecodeError(`nesting deeper than ${MAX_DEPTH} levels`, offset);
    const initial = this.initial(offset);
    const major = initial >> 5;
    if (initial === 0xf6) return null;
    if (major === MT.tag || major === MT.simple) throw new CoseDecodeError(`unsupported item 0x${initial.toString(16)} (tags, floats and simple values other than null)`, offset);
    const arg = this.argument(initial & 0x1f, offset);
    // -1 - (2^53 - 1) is not safe either: a COSE value is a safe integer.
    if (typeof arg === 'bigint' || (major === MT.negint && arg === Number.MAX_SAFE_INTEGER)) throw new CoseDecodeError('integer or length past 2^53 - 1', offset);
    return this.item(major, arg, offset, depth);
  }

  private item(major: number, arg: number, offset: number, depth: number): CoseValue {
    if (major === MT.uint) return arg;
    if (major === MT.negint) return -1 - arg;
    if (major === MT.bytes) return this.byteString(arg, offset);
    if (major === MT.text) return this.text(arg, offset);
    if (major === MT.array) return Array.from({ length: this.arrayLength(arg, offset) }, () => this.value(depth + 1));
    return this.map(this.mapSize(arg, offset), depth);
  }

  private map(size: number, depth: number): CoseMap {
    const map = new Map<number, CoseValue>();
    let previous: Uint8Array | undefined;
    for (let i = 0; i < size; i++) {
      const keyAt = this.pos;
      const key = this.value(depth + 1);
      if (typeof key !== 'number') throw new CoseDecodeError('map key is not an integer label', keyAt);
      previous = this.keyAfter(previous, key, keyAt);
      map.set(key, this.value(depth + 1));
    }
    return map;
  }
}

/**
 * Decodes one COSE value, strictly: the bytes must be exactly what {@link encodeCose} writes for it (shortest
 * forms, sorted unique integer keys, definite lengths, no trailing bytes).
 *
 * @throws CoseDecodeError naming the problem and, where there is one, the byte offset.
 */
export function decodeCose(bytes: Uint8Array): CoseValue {
  const r = new CoseReader(bytes);
  const value = r.value(0);
  r.end('data item');
  r.sameAs(encodeCose(value));
  return value;
}
