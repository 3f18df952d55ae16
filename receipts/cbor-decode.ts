/**
 * The strict reader of receipt bytes: one pass that rejects anything but core deterministic CBOR (floats,
 * tags, indefinite lengths, non-shortest forms, unsorted or duplicate keys), then a re-encode that must give
 * the same bytes. Pure: no fs, network or clock. See cbor-encode.ts for why this is hand-written.
 */
import {
  INT_MIN,
  MAX_CBOR_DEPTH,
  MT,
  TWO_POW_32,
  UTF8_DECODER,
  compareBytes,
  encodeDeterministic,
  isMapValue,
} from './cbor-encode.ts';
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

const MAJOR_NAMES = ['unsigned integer', 'negative integer', 'byte string', 'text string', 'array', 'map', 'tag', 'simple value'];
const FLOAT_NAMES: Record<number, string> = { 25: 'half', 26: 'single', 27: 'double' };

/** Reads one data item at a time, rejecting anything that is not core deterministic CBOR of our subset. */
class StrictReader {
  readonly bytes: Uint8Array;
  pos = 0;
  private readonly view: DataView;

  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get remaining(): number {
    return this.bytes.length - this.pos;
  }

  /** `what` names the item in the error; a function, so no message is built unless it is needed. */
  need(n: number | bigint, what: string | (() => string), offset: number): void {
    if (typeof n === 'bigint' || n > this.remaining) {
      throw new ReceiptDecodeError(`truncated: ${typeof what === 'string' ? what : what()} needs ${n} byte(s), only ${this.remaining} left`, offset);
    }
  }

  /** Reads one data item (recursively for arrays and maps). */
  value(depth: number): CborValue {
    const offset = this.pos;
    this.need(1, 'a data item', offset);
    const initial = this.bytes[this.pos++] as number;
    const major = initial >> 5;
    const info = initial & 0x1f;
    if (info >= 28) return rejectInfo(major, info, offset);
    if (major === MT.simple) return this.simple(info, offset);
    const arg = this.argument(info, offset);
    return (ITEM_READERS[major] as ItemReader)(this, arg, offset, depth);
  }

  /** The argument of a head with additional information `info` < 28, required in its shortest form. */
  private argument(info: number, offset: number): number | bigint {
    if (info < 24) return info;
    const size = 1 << (info - 24);
    this.need(size, 'an integer or length argument', offset);
    const at = this.pos;
    this.pos += size;
    const arg = readUint(this.view, at, size);
    if (arg < SHORTEST_MIN[size]!) {
      throw new ReceiptDecodeError(`non-shortest encoding: ${arg} written with a ${size}-byte argument (deterministic CBOR needs the shortest form)`, offset);
    }
    if (typeof arg === 'bigint' && arg <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(arg);
    return arg;
  }

  private simple(info: number, offset: number): CborValue {
    if (info === 20) return false;
    if (info === 21) return true;
    if (info === 22) return null;
    if (info in FLOAT_NAMES) {
      throw new ReceiptDecodeError(`floating-point value not allowed (${FLOAT_NAMES[info]} precision, 0x${hexByte(0xe0 | info)}): receipts hold integers only`, offset);
    }
    if (info === 23) throw new ReceiptDecodeError('undefined (0xf7) not allowed', offset);
    const value = info === 24 ? this.bytes[this.pos] : info;
    throw new ReceiptDecodeError(`simple value ${value ?? '(truncated)'} not allowed`, offset);
  }

  /** A definite byte range of `length` bytes for a string item. */
  take(length: number | bigint, what: () => string, offset: number): Uint8Array {
    this.need(length, what, offset);
    const start = this.pos;
    this.pos += Number(length);
    return this.bytes.subarray(start, this.pos);
  }
}

type ItemReader = (r: StrictReader, arg: number | bigint, offset: number, depth: number) => CborValue;

/** Smallest argument allowed with a 1/2/4/8-byte argument: anything smaller fits in the shorter form. */
const SHORTEST_MIN: Record<number, number | bigint> = { 1: 24, 2: 0x100, 4: 0x10000, 8: BigInt(TWO_POW_32) };

function readUint(view: DataView, at: number, size: number): number | bigint {
  if (size === 1) return view.getUint8(at);
  if (size === 2) return view.getUint16(at);
  if (size === 4) return view.getUint32(at);
  return view.getBigUint64(at);
}

function hexByte(b: number): string {
  return b.toString(16).padStart(2, '0');
}

function rejectInfo(major: number, info: number, offset: number): never {
  if (info !== 31) {
    throw new ReceiptDecodeError(`reserved additional information ${info} in a ${MAJOR_NAMES[major]} head (malformed CBOR)`, offset);
  }
  if (major === MT.simple) throw new ReceiptDecodeError('unexpected break (0xff) outside an indefinite-length item', offset);
  if (major >= MT.bytes && major <= MT.map) {
    throw new ReceiptDecodeError(`indefinite-length ${MAJOR_NAMES[major]} not allowed (deterministic CBOR needs definite lengths)`, offset);
  }
  throw new ReceiptDecodeError(`additional information 31 is malformed on a ${MAJOR_NAMES[major]}`, offset);
}

function readNegative(_r: StrictReader, arg: number | bigint, offset: number): CborValue {
  if (typeof arg === 'number' && arg < Number.MAX_SAFE_INTEGER) return -1 - arg;
  const value = -1n - BigInt(arg);
  if (value < INT_MIN) throw new ReceiptDecodeError(`negative integer ${value} is below -2^63, outside the range receipts hold`, offset);
  return value;
}

function readArray(r: StrictReader, arg: number | bigint, offset: number, depth: number): CborValue {
  checkDepth(depth, offset);
  r.need(arg, () => `an array of ${arg} item(s)`, offset); // every item takes at least one byte
  const items: CborValue[] = [];
  for (let i = 0; i < Number(arg); i++) items.push(r.value(depth + 1));
  return items;
}

function readMap(r: StrictReader, arg: number | bigint, offset: number, depth: number): CborValue {
  checkDepth(depth, offset);
  r.need(typeof arg === 'bigint' ? arg : arg * 2, () => `a map of ${arg} entries`, offset);
  const map: CborMap = {};
  let previous: Uint8Array | undefined;
  for (let i = 0; i < Number(arg); i++) {
    const keyOffset = r.pos;
    const key = r.value(depth + 1);
    if (typeof key !== 'string') throw new ReceiptDecodeError(`map key must be a text string, got ${describeCbor(key)}`, keyOffset);
    const encoded = r.bytes.subarray(keyOffset, r.pos);
    checkKeyOrder(previous, encoded, key, keyOffset);
    previous = encoded;
    const value = r.value(depth + 1);
    // defineProperty: a "__proto__" key becomes an own property instead of replacing the prototype.
    if (key === '__proto__') Object.defineProperty(map, key, { value, enumerable: true, writable: true, configurable: true });
    else map[key] = value;
  }
  return map;
}

function checkKeyOrder(previous: Uint8Array | undefined, encoded: Uint8Array, key: string, offset: number): void {
  if (previous === undefined) return;
  const order = compareBytes(previous, encoded);
  if (order === 0) throw new ReceiptDecodeError(`duplicate map key ${JSON.stringify(key)}`, offset);
  if (order > 0) throw new ReceiptDecodeError(`map keys out of order: ${JSON.stringify(key)} must come before the key preceding it (keys sort by their encoded bytes)`, offset);
}

function checkDepth(depth: number, offset: number): void {
  if (depth >= MAX_CBOR_DEPTH) throw new ReceiptDecodeError(`nesting deeper than ${MAX_CBOR_DEPTH} levels`, offset);
}

function isAscii(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) if ((bytes[i] as number) > 0x7f) return false;
  return true;
}

function readText(r: StrictReader, arg: number | bigint, offset: number): CborValue {
  const utf8 = r.take(arg, () => `a text string of ${arg} bytes`, offset);
  if (isAscii(utf8)) return Buffer.from(utf8.buffer, utf8.byteOffset, utf8.length).toString('latin1'); // ASCII is latin1: the common, fast case
  try {
    return UTF8_DECODER.decode(utf8);
  } catch {
    throw new ReceiptDecodeError('invalid UTF-8 in a text string', offset);
  }
}

const ITEM_READERS: Record<number, ItemReader> = {
  [MT.uint]: (_r, arg) => arg,
  [MT.negint]: readNegative,
  [MT.bytes]: (r, arg, offset) => r.take(arg, () => `a byte string of ${arg} bytes`, offset).slice(),
  [MT.text]: readText,
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
function readReceiptEntries(r: StrictReader): { values: Map<number, CborValue>; offsets: Map<number, number> } {
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
function readMapHead(r: StrictReader): number {
  const offset = r.pos;
  const info = r.bytes[r.pos++]! & 0x1f;
  if (info === 31) rejectInfo(MT.map, info, offset);
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

function requireEnd(r: StrictReader, what: string): void {
  if (r.remaining > 0) throw new ReceiptDecodeError(`trailing bytes: ${r.remaining} byte(s) after the ${what}`, r.pos);
}

/** Belt and braces: what we accept must be exactly what we would write. */
function requireCanonical(bytes: Uint8Array, encode: () => Uint8Array): void {
  let again: Uint8Array;
  try {
    again = encode();
  } catch (err) {
    if (err instanceof ReceiptEncodeError) throw new ReceiptDecodeError(`not a valid receipt value: ${err.message}`);
    throw err;
  }
  if (compareBytes(again, bytes) !== 0) throw new ReceiptDecodeError('not in core deterministic encoding (re-encoding differs)');
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
  const r = new StrictReader(bytes);
  const receipt = receiptFrom(readReceiptEntries(r));
  requireEnd(r, 'receipt');
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
  const r = new StrictReader(bytes);
  const value = r.value(0);
  requireEnd(r, 'data item');
  requireCanonical(bytes, () => encodeDeterministic(value));
  return value;
}

