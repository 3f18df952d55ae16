/**
 * The CBOR that COSE structures need and receipt bodies do not: maps with integer labels (COSE header maps,
 * RFC 9052 §3) and `null`. Written in RFC 8949 §4.2.1 core deterministic encoding — shortest heads, definite
 * lengths, map keys sorted by their encoded bytes — and read back strictly (a re-encode must give the same
 * bytes), like cbor-encode.ts / cbor-decode.ts do for receipts, whose text-keyed maps cannot carry COSE labels.
 * Tags are not values here: the one tag a COSE Receipt has (18, COSE_Sign1) is written by cose-receipt.ts.
 *
 * Pure: no fs, network or clock.
 */
import { MT, compareBytes } from './cbor-encode.ts';

/** A value of the COSE subset: integers (safe), byte strings, text, null, arrays, integer-keyed maps. */
export type CoseValue = number | Uint8Array | string | null | readonly CoseValue[] | CoseMap;

/** A COSE header map or proof map: integer labels (RFC 9052 §3 `label = int / tstr`; we use ints only). */
export type CoseMap = ReadonlyMap<number, CoseValue>;

/** Bytes that are not a COSE value in deterministic CBOR; `offset` is where the offending item starts. */
export class CoseDecodeError extends Error {
  readonly offset: number | undefined;

  constructor(detail: string, offset?: number) {
    super(offset === undefined ? detail : `${detail} (at byte offset ${offset})`);
    this.name = 'CoseDecodeError';
    this.offset = offset;
  }
}

const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** A head: major type and argument in the shortest form. Arguments are safe integers (< 2^53). */
function head(major: number, arg: number): Uint8Array {
  const m = major << 5;
  if (arg < 24) return Uint8Array.of(m | arg);
  if (arg < 0x100) return Uint8Array.of(m | 24, arg);
  if (arg < 0x10000) return Uint8Array.of(m | 25, arg >> 8, arg & 0xff);
  const out = new Uint8Array(arg < 2 ** 32 ? 5 : 9);
  const view = new DataView(out.buffer);
  if (out.length === 5) view.setUint32(1, arg);
  else view.setBigUint64(1, BigInt(arg));
  out[0] = m | (out.length === 5 ? 26 : 27);
  return out;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function encodeInt(n: number): Uint8Array {
  if (!Number.isSafeInteger(n)) throw new RangeError(`COSE value ${n}: only safe integers are supported`);
  return n >= 0 ? head(MT.uint, n) : head(MT.negint, -1 - n);
}

function encodeMap(map: CoseMap): Uint8Array {
  const entries = [...map].map(([k, v]) => ({ key: encodeInt(k), value: encodeCose(v) }));
  entries.sort((a, b) => compareBytes(a.key, b.key));
  return concat([head(MT.map, entries.length), ...entries.flatMap((e) => [e.key, e.value])]);
}

/**
 * Encodes a COSE value in RFC 8949 §4.2.1 core deterministic CBOR: integer map keys sorted by their encoded
 * bytes (so 1, 4, 395, -1 come out as 01, 04, 19018b, 20).
 *
 * @example encodeCose(new Map([[395, 1], [1, -8]])) // a2 01 27 19018b 01
 */
export function encodeCose(value: CoseValue): Uint8Array {
  if (value === null) return Uint8Array.of(0xf6);
  if (typeof value === 'number') return encodeInt(value);
  if (typeof value === 'string') {
    const bytes = utf8.encode(value);
    return concat([head(MT.text, bytes.length), bytes]);
  }
  if (value instanceof Uint8Array) return concat([head(MT.bytes, value.length), value]);
  if (value instanceof Map) return encodeMap(value);
  const items = value as readonly CoseValue[];
  return concat([head(MT.array, items.length), ...items.map(encodeCose)]);
}

/** Deepest nesting read (a COSE Receipt is four levels deep). */
const MAX_DEPTH = 16;

/** Reads one item at a time; anything outside the subset, or not in shortest form, is an error. */
class CoseReader {
  pos = 0;
  readonly bytes: Uint8Array;

  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
  }

  value(depth: number): CoseValue {
    const offset = this.pos;
    if (depth > MAX_DEPTH) throw new CoseDecodeError(`nesting deeper than ${MAX_DEPTH} levels`, offset);
    const initial = this.byte(offset);
    const major = initial >> 5;
    if (initial === 0xf6) return null;
    if (major === MT.tag || major === MT.simple) throw new CoseDecodeError(`unsupported item 0x${initial.toString(16)} (tags, floats and simple values other than null)`, offset);
    const arg = this.argument(initial & 0x1f, offset);
    return this.item(major, arg, { offset, depth });
  }

  private item(major: number, arg: number, at: { offset: number; depth: number }): CoseValue {
    if (major === MT.uint) return arg;
    if (major === MT.negint) return -1 - arg;
    if (major === MT.bytes) return this.take(arg, at.offset).slice();
    if (major === MT.text) return this.text(arg, at.offset);
    if (major === MT.array) return Array.from({ length: arg }, () => this.value(at.depth + 1));
    return this.map(arg, at);
  }

  private map(count: number, at: { offset: number; depth: number }): CoseMap {
    const map = new Map<number, CoseValue>();
    for (let i = 0; i < count; i++) {
      const keyAt = this.pos;
      const key = this.value(at.depth + 1);
      if (typeof key !== 'number') throw new CoseDecodeError('map key is not an integer label', keyAt);
      if (map.has(key)) throw new CoseDecodeError(`duplicate map key ${key}`, keyAt);
      map.set(key, this.value(at.depth + 1));
    }
    return map;
  }

  private text(length: number, offset: number): string {
    try {
      return strictUtf8.decode(this.take(length, offset));
    } catch {
      throw new CoseDecodeError('text string is not valid UTF-8', offset);
    }
  }

  private byte(offset: number): number {
    if (this.pos >= this.bytes.length) throw new CoseDecodeError('truncated: a data item is missing', offset);
    return this.bytes[this.pos++] as number;
  }

  private argument(info: number, offset: number): number {
    if (info < 24) return info;
    if (info > 27) throw new CoseDecodeError(`indefinite length or reserved additional information ${info}`, offset);
    const size = 1 << (info - 24);
    const raw = this.take(size, offset);
    let arg = 0;
    for (const b of raw) arg = arg * 256 + b;
    if (!Number.isSafeInteger(arg)) throw new CoseDecodeError('integer or length past 2^53 - 1', offset);
    return arg;
  }

  take(length: number, offset: number): Uint8Array {
    if (length > this.bytes.length - this.pos) throw new CoseDecodeError(`truncated: ${length} byte(s) needed, ${this.bytes.length - this.pos} left`, offset);
    this.pos += length;
    return this.bytes.subarray(this.pos - length, this.pos);
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
  if (r.pos !== bytes.length) throw new CoseDecodeError(`trailing bytes: ${bytes.length - r.pos} byte(s) after the data item`, r.pos);
  if (compareBytes(encodeCose(value), bytes) !== 0) throw new CoseDecodeError('not in core deterministic encoding (re-encoding differs)');
  return value;
}
