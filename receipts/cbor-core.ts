/**
 * The deterministic-CBOR core that both codecs build on: the receipt codec (cbor-encode.ts, cbor-decode.ts:
 * text-keyed maps, bigints, booleans) and the COSE subset (cose-cbor.ts: integer-keyed maps). It owns the rules
 * of RFC 8949 §4.2.1 core deterministic encoding that do not depend on the value subset — heads in the shortest
 * form, definite lengths, map keys ordered by their encoded bytes, UTF-8 text — writing them, and reading them
 * back strictly in one pass. Which values a codec allows, and the errors naming them, stay with the codec.
 *
 * Pure: no fs, network or clock.
 */

/** CBOR major types (RFC 8949 §3.1), the high 3 bits of an item's first byte. */
export const MT = { uint: 0, negint: 1, bytes: 2, text: 3, array: 4, map: 5, tag: 6, simple: 7 } as const;

/** Major types by number, for error messages. */
export const MAJOR_NAMES = ['unsigned integer', 'negative integer', 'byte string', 'text string', 'array', 'map', 'tag', 'simple value'];

const TWO_POW_32 = 2 ** 32;

const UTF8_ENCODER = new TextEncoder();
// fatal: invalid UTF-8 is an error, not U+FFFD; ignoreBOM: a leading U+FEFF is data and must survive.
const UTF8_DECODER = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Byte-wise lexicographic order (RFC 8949 §4.2.1 key order). */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = (a[i] as number) - (b[i] as number);
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

/**
 * The positions of a map's encoded keys in key order. Maps are usually built with their keys already in that
 * order (receipts/bodies.ts), so the common case is one pass of comparisons and no sort.
 */
export function canonicalOrder(encoded: readonly Uint8Array[]): number[] {
  const order = encoded.map((_, i) => i);
  for (let i = 1; i < encoded.length; i++) {
    if (compareBytes(encoded[i - 1]!, encoded[i]!) > 0) return order.sort((a, b) => compareBytes(encoded[a]!, encoded[b]!));
  }
  return order;
}

// ---------------------------------------------------------------------------------------------------------
// Writing

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false;
  return true;
}

/** A growable byte buffer; the module's shared ones are reused across calls (see {@link written}). */
export class ByteWriter {
  buf: Uint8Array;
  view: DataView;
  len = 0;

  constructor(size = 1024) {
    this.buf = new Uint8Array(size);
    this.view = new DataView(this.buf.buffer);
  }

  /** Writes a head: major type and argument in the shortest form (RFC 8949 §4.2.1 "preferred serialization"). */
  head(major: number, arg: number | bigint): void {
    if (typeof arg === 'bigint' && arg < BigInt(TWO_POW_32)) arg = Number(arg);
    const m = major << 5;
    this.reserve(9);
    if (typeof arg === 'bigint' || arg >= TWO_POW_32) {
      this.buf[this.len++] = m | 27;
      this.view.setBigUint64(this.len, BigInt(arg));
      this.len += 8;
    } else if (arg < 24) {
      this.buf[this.len++] = m | arg;
    } else if (arg < 0x100) {
      this.buf[this.len++] = m | 24;
      this.buf[this.len++] = arg;
    } else if (arg < 0x10000) {
      this.buf[this.len++] = m | 25;
      this.view.setUint16(this.len, arg);
      this.len += 2;
    } else {
      this.buf[this.len++] = m | 26;
      this.view.setUint32(this.len, arg);
      this.len += 4;
    }
  }

  /** An integer the caller has range-checked: unsigned, or negative as -1 - n. -0 is written as 0. */
  int(n: number | bigint): void {
    if (n >= 0) this.head(MT.uint, n);
    else this.head(MT.negint, typeof n === 'bigint' ? -1n - n : -1 - n);
  }

  byteString(data: Uint8Array): void {
    this.head(MT.bytes, data.length);
    this.bytes(data);
  }

  /**
   * A text string as UTF-8. TextEncoder would write a lone UTF-16 surrogate as U+FFFD, so a codec that must
   * refuse it passes `onLoneSurrogate`, which throws; ASCII (the common case) is copied without encoding.
   */
  text(s: string, onLoneSurrogate?: () => never): void {
    if (isAscii(s)) {
      this.head(MT.text, s.length);
      this.ascii(s);
      return;
    }
    if (onLoneSurrogate !== undefined && !s.isWellFormed()) onLoneSurrogate();
    const utf8 = UTF8_ENCODER.encode(s);
    this.head(MT.text, utf8.length);
    this.bytes(utf8);
  }

  byte(b: number): void {
    this.reserve(1);
    this.buf[this.len++] = b;
  }

  bytes(data: Uint8Array): void {
    this.reserve(data.length);
    if (data.length <= 16) {
      // A map key or a tiny string: a loop is cheaper than set()'s call into the runtime.
      for (let i = 0; i < data.length; i++) this.buf[this.len + i] = data[i]!;
    } else this.buf.set(data, this.len);
    this.len += data.length;
  }

  /** A copy of what was written from byte `from` on (see {@link carved}). */
  result(from = 0): Uint8Array {
    return carved(this.buf.subarray(from, this.len));
  }

  /** Writes an ASCII string as UTF-8 (they are the same bytes); the caller has checked it is ASCII. */
  private ascii(s: string): void {
    this.reserve(s.length);
    for (let i = 0; i < s.length; i++) this.buf[this.len++] = s.charCodeAt(i);
  }

  private reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.len + n));
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
}

/**
 * Results are carved from a shared block, as Buffer.allocUnsafe carves from its pool: V8 gives each new
 * ArrayBuffer its own backing memory, which cost more than encoding a receipt (one per append). A result is a view
 * (byteOffset ≠ 0): a block stays alive while any result carved from it does, ~64 KiB per ~250 receipts.
 */
const BLOCK_SIZE = 64 * 1024;
const CARVE_MAX = 4096;
let block = new Uint8Array(BLOCK_SIZE);
let blockUsed = 0;

/** A copy of `bytes` in memory of its own (carved from the shared block when small). */
export function carved(bytes: Uint8Array): Uint8Array {
  const n = bytes.length;
  if (n > CARVE_MAX) return bytes.slice();
  if (blockUsed + n > BLOCK_SIZE) {
    block = new Uint8Array(BLOCK_SIZE);
    blockUsed = 0;
  }
  const out = new Uint8Array(block.buffer, blockUsed, n);
  out.set(bytes);
  blockUsed += (n + 7) & ~7; // 8-byte aligned, as Buffer's pool does
  return out;
}

// Encoding never calls out, so neither shared writer can be re-entered (as the receipt writer always assumed).
const shared = new ByteWriter();
const keyWriter = new ByteWriter(64);

/**
 * Runs `write` on the shared writer and returns a copy of what it wrote from byte `from` on. `onSpan`, if given,
 * sees everything written first, as a view valid only during the call (the receipt chain hashes its leaf prefix
 * and the receipt there, without copying them again).
 */
export function written(write: (w: ByteWriter) => void, from = 0, onSpan?: (span: Uint8Array) => void): Uint8Array {
  shared.len = 0;
  write(shared);
  onSpan?.(shared.buf.subarray(0, shared.len));
  return shared.result(from);
}

/**
 * Encodes one map key apart, while a value is being written on the shared writer: keys are sorted by their
 * bytes before the map is written. A key is a scalar, so this is never nested.
 */
export function writtenKey(write: (w: ByteWriter) => void): Uint8Array {
  keyWriter.len = 0;
  write(keyWriter);
  return keyWriter.result();
}

// ---------------------------------------------------------------------------------------------------------
// Strict reading

/**
 * Bytes a strict reader refuses; each codec throws its own subclass. `offset` is where the offending item starts,
 * or undefined when the problem is not at one place (e.g. a missing key).
 */
export class CborDecodeError extends Error {
  readonly offset: number | undefined;
  readonly detail: string;

  constructor(detail: string, offset?: number) {
    super(offset === undefined ? detail : `${detail} (at byte offset ${offset})`);
    this.name = new.target.name;
    this.offset = offset;
    this.detail = detail;
  }
}

type DecodeErrorClass = new (detail: string, offset?: number) => CborDecodeError;

/** Smallest argument allowed with a 1/2/4/8-byte argument: anything smaller fits in the shorter form. */
const SHORTEST_MIN: Record<number, number | bigint> = { 1: 24, 2: 0x100, 4: 0x10000, 8: BigInt(TWO_POW_32) };

function readUint(view: DataView, at: number, size: number): number | bigint {
  if (size === 1) return view.getUint8(at);
  if (size === 2) return view.getUint16(at);
  if (size === 4) return view.getUint32(at);
  return view.getBigUint64(at);
}

function isAsciiBytes(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) if ((bytes[i] as number) > 0x7f) return false;
  return true;
}

/**
 * Reads heads and strings strictly: shortest-form arguments, definite lengths, lengths that fit the input,
 * valid UTF-8, map keys in order. Each codec subclasses it with the values it allows, refusing with its own
 * error class (`fail`).
 */
export class StrictReader {
  readonly bytes: Uint8Array;
  pos = 0;
  private readonly fail: DecodeErrorClass;
  private readonly view: DataView;

  constructor(bytes: Uint8Array, fail: DecodeErrorClass) {
    this.bytes = bytes;
    this.fail = fail;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get remaining(): number {
    return this.bytes.length - this.pos;
  }

  /** `what` names the item in the error; a function, so no message is built unless it is needed. */
  need(n: number | bigint, what: string | (() => string), offset: number): void {
    if (typeof n === 'bigint' || n > this.remaining) {
      throw new this.fail(`truncated: ${typeof what === 'string' ? what : what()} needs ${n} byte(s), only ${this.remaining} left`, offset);
    }
  }

  /** A definite byte range of `length` bytes for a string item. */
  private take(length: number | bigint, what: () => string, offset: number): Uint8Array {
    this.need(length, what, offset);
    const start = this.pos;
    this.pos += Number(length);
    return this.bytes.subarray(start, this.pos);
  }

  /** The first byte of an item, starting at `offset`; additional information 28–31 (reserved, indefinite) is refused. */
  initial(offset: number): number {
    this.need(1, 'a data item', offset);
    const initial = this.bytes[this.pos++] as number;
    if ((initial & 0x1f) >= 28) this.rejectInfo(initial >> 5, initial & 0x1f, offset);
    return initial;
  }

  /** The argument of a head with additional information `info` < 28, required in its shortest form. */
  argument(info: number, offset: number): number | bigint {
    if (info < 24) return info;
    const size = 1 << (info - 24);
    this.need(size, 'an integer or length argument', offset);
    const at = this.pos;
    this.pos += size;
    const arg = readUint(this.view, at, size);
    if (arg < SHORTEST_MIN[size]!) {
      throw new this.fail(`non-shortest encoding: ${arg} written with a ${size}-byte argument (deterministic CBOR needs the shortest form)`, offset);
    }
    if (typeof arg === 'bigint' && arg <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(arg);
    return arg;
  }

  rejectInfo(major: number, info: number, offset: number): never {
    if (info !== 31) {
      throw new this.fail(`reserved additional information ${info} in a ${MAJOR_NAMES[major]} head (malformed CBOR)`, offset);
    }
    if (major === MT.simple) throw new this.fail('unexpected break (0xff) outside an indefinite-length item', offset);
    if (major >= MT.bytes && major <= MT.map) {
      throw new this.fail(`indefinite-length ${MAJOR_NAMES[major]} not allowed (deterministic CBOR needs definite lengths)`, offset);
    }
    throw new this.fail(`additional information 31 is malformed on a ${MAJOR_NAMES[major]}`, offset);
  }

  byteString(length: number | bigint, offset: number): Uint8Array {
    return this.take(length, () => `a byte string of ${length} bytes`, offset).slice();
  }

  text(length: number | bigint, offset: number): string {
    const utf8 = this.take(length, () => `a text string of ${length} bytes`, offset);
    if (isAsciiBytes(utf8)) return Buffer.from(utf8.buffer, utf8.byteOffset, utf8.length).toString('latin1'); // ASCII is latin1: the common, fast case
    try {
      return UTF8_DECODER.decode(utf8);
    } catch {
      throw new this.fail('invalid UTF-8 in a text string', offset);
    }
  }

  /** The item count of an array head: each item takes at least one byte, so a count past the input is refused. */
  arrayLength(arg: number | bigint, offset: number): number {
    this.need(arg, () => `an array of ${arg} item(s)`, offset);
    return Number(arg);
  }

  /** The entry count of a map head, checked as {@link arrayLength} is (an entry takes at least two bytes). */
  mapSize(arg: number | bigint, offset: number): number {
    this.need(typeof arg === 'bigint' ? arg : arg * 2, () => `a map of ${arg} entries`, offset);
    return Number(arg);
  }

  /**
   * Checks the key just read (from `offset` to here) sorts strictly after `previous`, the encoded key before it,
   * and returns its encoded bytes for the next call.
   */
  keyAfter(previous: Uint8Array | undefined, key: string | number, offset: number): Uint8Array {
    const encoded = this.bytes.subarray(offset, this.pos);
    if (previous === undefined) return encoded;
    const order = compareBytes(previous, encoded);
    if (order === 0) throw new this.fail(`duplicate map key ${JSON.stringify(key)}`, offset);
    if (order > 0) throw new this.fail(`map keys out of order: ${JSON.stringify(key)} must come before the key preceding it (keys sort by their encoded bytes)`, offset);
    return encoded;
  }

  /** Refuses bytes after the item read; `what` names it. */
  end(what: string): void {
    if (this.remaining > 0) throw new this.fail(`trailing bytes: ${this.remaining} byte(s) after the ${what}`, this.pos);
  }

  /** Belt and braces: what was accepted must be exactly what the codec writes for the value read. */
  sameAs(again: Uint8Array): void {
    if (compareBytes(again, this.bytes) !== 0) throw new this.fail('not in core deterministic encoding (re-encoding differs)');
  }
}
