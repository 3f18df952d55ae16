/**
 * The strict reader of receipt bytes: one pass that rejects anything but core deterministic CBOR (floats,
 * tags, indefinite lengths, non-shortest forms, unsorted or duplicate keys), then a re-encode that must give
 * the same bytes. Heads, strings and key order are read by cbor-core.ts's StrictReader, shared with the COSE
 * subset; this file holds the receipt value subset and the receipt's fixed layout. Pure: no fs, network or
 * clock. See cbor-encode.ts for why this is hand-written.
 */
import { MAJOR_NAMES, MT, StrictReader } from './cbor-core.ts';
import { INT_MIN, MAX_CBOR_DEPTH, encodeDeterministic, isMapValue } from './cbor-encode.ts';
import {
  PREV_LENGTH,
  RECEIPT_FIELDS,
  RECEIPT_KEY,
  RECEIPT_VERSION,
  ReceiptDecodeError,
  ReceiptEncodeError,
  isReceiptKind,
} from './receipt.ts';
import type { CborMap, CborValue, Receipt, ReceiptField } from './receipt.ts';

const FLOAT_NAMES: Record<number, string> = { 25: 'half', 26: 'single', 27: 'double' };

/** Reads one data item at a time, rejecting anything that is not core deterministic CBOR of our subset. */
class ReceiptReader extends StrictReader {
  constructor(bytes: Uint8Array) {
    super(bytes, ReceiptDecodeError);
  }

  /** Reads one data item (recursively for arrays and maps). */
  value(depth: number): CborValue {
    const offset = this.pos;
    const initial = this.initial(offset);
    const major = initial >> 5;
    if (major === MT.simple) return this.simple(initial & 0x1f, offset);
    const arg = this.argument(initial & 0x1f, offset);
    return (ITEM_READERS[major] as ItemReader)(this, arg, offset, depth);
  }

  private simple(info: number, offset: number): CborValue {
    if (info === 20) return false;
    if (info === 21) return true;
    if (info === 22) return null;
    if (info in FLOAT_NAMES) {
      throw new ReceiptDecodeError(`floating-point value not allowed (${FLOAT_NAMES[info]} precision, 0x${(0xe0 | info).toString(16)}): receipts hold integers only`, offset);
    }
    if (info === 23) throw new ReceiptDecodeError('undefined (0xf7) not allowed', offset);
    const value = info === 24 ? this.bytes[this.pos] : info;
    throw new ReceiptDecodeError(`simple value ${value ?? '(truncated)'} not allowed`, offset);
  }
}

type ItemReader = (r: ReceiptReader, arg: number | bigint, offset: number, depth: number) => CborValue;

function readNegative(_r: ReceiptReader, arg: number | bigint, offset: number): CborValue {
  if (typeof arg === 'number' && arg < Number.MAX_SAFE_INTEGER) return -1 - arg;
  const value = -1n - BigInt(arg);
  if (value < INT_MIN) throw new ReceiptDecodeError(`negative integer ${value} is below -2^63, outside the range receipts hold`, offset);
  return value;
}

function readArray(r: ReceiptReader, arg: number | bigint, offset: number, depth: number): CborValue {
  checkDepth(depth, offset);
  const length = r.arrayLength(arg, offset);
  const items: CborValue[] = [];
  for (let i = 0; i < length; i++) items.push(r.value(depth + 1));
  return items;
}

function readMap(r: ReceiptReader, arg: number | bigint, offset: number, depth: number): CborValue {
  checkDepth(depth, offset);
  const size = r.mapSize(arg, offset);
  const map: CborMap = {};
  let previous: Uint8Array | undefined;
  for (let i = 0; i < size; i++) {
    const keyOffset = r.pos;
    const key = r.value(depth + 1);
    if (typeof key !== 'string') throw new ReceiptDecodeError(`map key must be a text string, got ${describeCbor(key)}`, keyOffset);
    previous = r.keyAfter(previous, key, keyOffset);
    const value = r.value(depth + 1);
    // defineProperty: a "__proto__" key becomes an own property instead of replacing the prototype.
    if (key === '__proto__') Object.defineProperty(map, key, { value, enumerable: true, writable: true, configurable: true });
    else map[key] = value;
  }
  return map;
}

function checkDepth(depth: number, offset: number): void {
  if (depth >= MAX_CBOR_DEPTH) throw new ReceiptDecodeError(`nesting deeper than ${MAX_CBOR_DEPTH} levels`, offset);
}

const ITEM_READERS: Record<number, ItemReader> = {
  [MT.uint]: (_r, arg) => arg,
  [MT.negint]: readNegative,
  [MT.bytes]: (r, arg, offset) => r.byteString(arg, offset),
  [MT.text]: (r, arg, offset) => r.text(arg, offset),
  [MT.array]: readArray,
  [MT.map]: readMap,
  [MT.tag]: (_r, arg, offset) => {
    throw new ReceiptDecodeError(`tag ${arg} not allowed (receipts carry no tags)`, offset);
  },
};

/** What a decoded value is, in CBOR terms, for error messages. */
function describeCbor(value: CborValue | undefined): string {
  if (typeof value === 'number' || typeof value === 'bigint') return value < 0 ? 'a negative integer' : 'an unsigned integer';
  if (typeof value === 'string') return 'a text string';
  if (typeof value === 'boolean' || value === null || value === undefined) return String(value);
  if (value instanceof Uint8Array) return `a byte string of ${value.length} bytes`;
  return Array.isArray(value) ? 'an array' : 'a map';
}

/** The top-level map: unsigned keys 0-5, each once, in order. Values with the offset each starts at. */
function readReceiptEntries(r: ReceiptReader): { values: Map<number, CborValue>; offsets: Map<number, number> } {
  const offset = r.pos;
  r.need(1, 'a receipt', offset);
  if (r.bytes[offset]! >> 5 !== MT.map) {
    throw new ReceiptDecodeError(`a receipt must be a map, got ${MAJOR_NAMES[r.bytes[offset]! >> 5]}`, offset);
  }
  const values = new Map<number, CborValue>();
  const offsets = new Map<number, number>();
  const count = readMapHead(r);
  let previous = -1;
  for (let i = 0; i < count; i++) {
    const keyOffset = r.pos;
    const key = r.value(1);
    checkReceiptKey(key, previous, keyOffset);
    previous = key as number;
    offsets.set(previous, r.pos);
    values.set(previous, r.value(1));
  }
  return { values, offsets };
}

/** Reads the head of the top-level map and returns its entry count. */
function readMapHead(r: ReceiptReader): number {
  const offset = r.pos;
  const info = r.bytes[r.pos++]! & 0x1f;
  if (info === 31) r.rejectInfo(MT.map, info, offset);
  if (info >= 24) {
    throw new ReceiptDecodeError(`a receipt map has at most ${RECEIPT_FIELDS.length} entries (non-shortest or oversized head)`, offset);
  }
  return info;
}

function checkReceiptKey(key: CborValue, previous: number, offset: number): void {
  if (typeof key !== 'number' || key < 0) {
    throw new ReceiptDecodeError(`receipt keys must be unsigned integers, got ${describeCbor(key)}`, offset);
  }
  if (key >= RECEIPT_FIELDS.length) throw new ReceiptDecodeError(`unknown receipt key ${key}`, offset);
  if (key === previous) throw new ReceiptDecodeError(`duplicate receipt key ${key} (${RECEIPT_FIELDS[key]})`, offset);
  if (key < previous) throw new ReceiptDecodeError(`receipt keys out of order: ${key} after ${previous}`, offset);
}

type Entries = ReturnType<typeof readReceiptEntries>;

/** The value of a field, checked present; `offset` is where it starts. */
function field(entries: Entries, name: ReceiptField): { value: CborValue; offset: number | undefined } {
  const key = RECEIPT_KEY[name];
  if (!entries.values.has(key)) throw new ReceiptDecodeError(`missing receipt key ${key} (${name})`);
  return { value: entries.values.get(key) as CborValue, offset: entries.offsets.get(key) };
}

function uintField(entries: Entries, name: ReceiptField): number {
  const { value, offset } = field(entries, name);
  if (typeof value === 'bigint' && value > 0n) throw new ReceiptDecodeError(`${name} (key ${RECEIPT_KEY[name]}) exceeds 2^53-1`, offset);
  if (typeof value !== 'number' || value < 0) {
    throw new ReceiptDecodeError(`${name} (key ${RECEIPT_KEY[name]}) must be an unsigned integer, got ${describeCbor(value)}`, offset);
  }
  return value;
}

function prevField(entries: Entries, index: number): Uint8Array {
  const { value, offset } = field(entries, 'prev');
  if (!(value instanceof Uint8Array)) throw new ReceiptDecodeError(`prev (key 4) must be a byte string, got ${describeCbor(value)}`, offset);
  if (value.length !== PREV_LENGTH) throw new ReceiptDecodeError(`prev (key 4) must be ${PREV_LENGTH} bytes, got ${value.length}`, offset);
  if (index === 0 && value.some((b) => b !== 0)) throw new ReceiptDecodeError(`prev (key 4) must be ${PREV_LENGTH} zero bytes at index 0`, offset);
  return value;
}

function receiptFrom(entries: Entries): Receipt {
  const v = uintField(entries, 'v');
  if (v !== RECEIPT_VERSION) throw new ReceiptDecodeError(`unsupported receipt version ${v} (want ${RECEIPT_VERSION})`, field(entries, 'v').offset);
  const kind = field(entries, 'kind');
  if (typeof kind.value !== 'string') throw new ReceiptDecodeError(`kind (key 1) must be a text string, got ${describeCbor(kind.value)}`, kind.offset);
  if (!isReceiptKind(kind.value)) throw new ReceiptDecodeError(`unknown receipt kind ${JSON.stringify(kind.value)}`, kind.offset);
  const index = uintField(entries, 'index');
  const time = uintField(entries, 'time');
  const prev = prevField(entries, index);
  const body = field(entries, 'body');
  if (!isMapValue(body.value)) {
    throw new ReceiptDecodeError(`body (key 5) must be a map, got ${describeCbor(body.value)}`, body.offset);
  }
  return { v: RECEIPT_VERSION, kind: kind.value, index, time, prev, body: body.value };
}

/** Belt and braces: what we accept must be exactly what we would write. */
function requireCanonical(r: ReceiptReader, encode: () => Uint8Array): void {
  let again: Uint8Array;
  try {
    again = encode();
  } catch (err) {
    if (err instanceof ReceiptEncodeError) throw new ReceiptDecodeError(`not a valid receipt value: ${err.message}`);
    throw err;
  }
  r.sameAs(again);
}

/**
 * Decodes one receipt, strictly: the bytes must be exactly what `encodeReceipt` writes. Rejects
 * non-shortest integers and lengths, indefinite lengths, unsorted or duplicate keys, floats, tags, simple
 * values other than false/true/null, invalid UTF-8, unknown/missing/mistyped fields, prev not 32 bytes,
 * v ≠ 1, an unknown kind and trailing bytes.
 *
 * @throws ReceiptDecodeError naming the problem and, where there is one, the byte offset.
 */
export function decodeReceipt(bytes: Uint8Array): Receipt {
  if (!(bytes instanceof Uint8Array)) throw new TypeError('decodeReceipt: bytes must be a Uint8Array');
  const r = new ReceiptReader(bytes);
  const receipt = receiptFrom(readReceiptEntries(r));
  r.end('receipt');
  // The single pass above already refuses every non-canonical form (the negative vectors and the byte-flip
  // properties in cbor.test.ts hold without a re-encode); skipping it makes verification 3× faster.
  return receipt;
}

/**
 * Decodes one data item of the receipt value subset (text-keyed maps) with the same strictness as
 * `decodeReceipt`.
 *
 * @throws ReceiptDecodeError naming the problem and the byte offset.
 */
export function decodeDeterministic(bytes: Uint8Array): CborValue {
  if (!(bytes instanceof Uint8Array)) throw new TypeError('decodeDeterministic: bytes must be a Uint8Array');
  const r = new ReceiptReader(bytes);
  const value = r.value(0);
  r.end('data item');
  requireCanonical(r, () => encodeDeterministic(value));
  return value;
}

