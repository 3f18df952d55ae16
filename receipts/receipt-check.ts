/**
 * A verifier's fast yes/no for "these bytes are the receipt at `index` after the one whose leaf hash is `prev`":
 * the checks of decodeReceipt + replayedReceipt (receipt-chain.ts), walked over the bytes without building the
 * receipt (no objects, strings or arrays: verifying a log spent most of its time building bodies it dropped).
 * It never explains: on `false` the caller asks replayedReceipt, whose error names the problem, so the defects a
 * verifier reports are the same. cbor.property.test-style properties in receipt-check.test.ts hold it to
 * decodeReceipt's answer. Pure.
 */
import { MAX_CBOR_DEPTH } from './cbor-encode.ts';
import { RECEIPT_KINDS, PREV_LENGTH } from './receipt.ts';

// fatal: invalid UTF-8 is refused; ignoreBOM: a leading U+FEFF is data (as cbor-core.ts reads text).
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const TWO_POW_32 = 2 ** 32;
/** The arguments below 2^53 read from an 8-byte head; larger ones are refused where a number is needed. */
const TWO_POW_53 = 2 ** 53;

/** The encoded kinds (text head ‖ ASCII), for a byte-wise match. */
const KIND_BYTES = RECEIPT_KINDS.map((k) => Uint8Array.from([0x60 | k.length, ...Buffer.from(k, 'ascii')]));

/** A cursor over one receipt's bytes; every method returns false (or -1) on anything decodeReceipt refuses. */
class Walk {
  readonly b: Uint8Array;
  pos = 0;
  /** The argument of the last head read (-1 when it was past 2^53, which only uint and negint may carry). */
  arg = 0;

  constructor(bytes: Uint8Array) {
    this.b = bytes;
  }

  /** Reads a head's argument for additional information `info` (< 28), shortest form required. */
  argument(info: number): boolean {
    const b = this.b;
    if (info < 24) {
      this.arg = info;
      return true;
    }
    const at = this.pos;
    if (info === 24) {
      if (at + 1 > b.length) return false;
      this.arg = b[at]!;
      this.pos = at + 1;
      return this.arg >= 24;
    }
    if (info === 25) {
      if (at + 2 > b.length) return false;
      this.arg = (b[at]! << 8) | b[at + 1]!;
      this.pos = at + 2;
      return this.arg >= 0x100;
    }
    if (info === 26) {
      if (at + 4 > b.length) return false;
      this.arg = b[at]! * 0x1000000 + ((b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!);
      this.pos = at + 4;
      return this.arg >= 0x10000;
    }
    return this.argument8(at);
  }

  argument8(at: number): boolean {
    const b = this.b;
    if (at + 8 > b.length) return false;
    const hi = b[at]! * 0x1000000 + ((b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!);
    const lo = b[at + 4]! * 0x1000000 + ((b[at + 5]! << 16) | (b[at + 6]! << 8) | b[at + 7]!);
    this.pos = at + 8;
    if (hi === 0) return false; // < 2^32: not the shortest form
    this.arg = hi < TWO_POW_53 / TWO_POW_32 ? hi * TWO_POW_32 + lo : -1;
    return true;
  }

  /** One data item of the receipt value subset at nesting `depth`. */
  value(depth: number): boolean {
    const b = this.b;
    if (this.pos >= b.length) return false;
    const initial = b[this.pos++]!;
    const info = initial & 0x1f;
    if (info >= 28) return false;
    if (initial >> 5 === 7) return info === 20 || info === 21 || info === 22; // false, true, null; no floats or other simple values
    return this.argument(info) && this.item(initial >> 5, depth);
  }

  /** The rest of an item of major type `major` (0–6) whose argument was just read. */
  item(major: number, depth: number): boolean {
    switch (major) {
      case 0: return true;
      case 1: return this.arg !== -1 || this.negativeInRange();
      case 2: return this.skip(this.arg);
      case 3: return this.text(this.arg);
      case 4: return this.array(depth);
      case 5: return this.map(depth);
      default: return false; // tags
    }
  }

  /** A negative integer past -2^53 must still be ≥ -2^63: its 8-byte argument at most 2^63 - 1. */
  negativeInRange(): boolean {
    return this.b[this.pos - 8]! < 0x80;
  }

  skip(length: number): boolean {
    if (length < 0 || length > this.b.length - this.pos) return false;
    this.pos += length;
    return true;
  }

  text(length: number): boolean {
    const start = this.pos;
    if (!this.skip(length)) return false;
    const b = this.b;
    for (let i = start; i < this.pos; i++) {
      if (b[i]! > 0x7f) return validUtf8(b.subarray(start, this.pos));
    }
    return true;
  }

  array(depth: number): boolean {
    const count = this.arg;
    if (depth >= MAX_CBOR_DEPTH || count < 0 || count > this.b.length - this.pos) return false;
    for (let i = 0; i < count; i++) if (!this.value(depth + 1)) return false;
    return true;
  }

  /** A text-keyed map, keys strictly ascending by their encoded bytes. */
  map(depth: number): boolean {
    const count = this.arg;
    if (depth >= MAX_CBOR_DEPTH || count < 0 || count * 2 > this.b.length - this.pos) return false;
    let previous = -1;
    let previousEnd = -1;
    for (let i = 0; i < count; i++) {
      const keyStart = this.pos;
      if (!this.key(depth, previous, previousEnd)) return false;
      previous = keyStart;
      previousEnd = this.pos;
      if (!this.value(depth + 1)) return false;
    }
    return true;
  }

  /** A text key sorting strictly after the key at [previous, previousEnd) (previous -1: none). */
  key(depth: number, previous: number, previousEnd: number): boolean {
    const start = this.pos;
    if (start >= this.b.length || this.b[start]! >> 5 !== 3 || !this.value(depth + 1)) return false;
    return previous < 0 || this.follows(previous, previousEnd, start);
  }

  /** Whether the span [start, this.pos) sorts strictly after [previous, previousEnd), byte-wise then by length. */
  follows(previous: number, previousEnd: number, start: number): boolean {
    const b = this.b;
    const before = previousEnd - previous;
    const length = this.pos - start;
    for (let i = 0; i < Math.min(before, length); i++) {
      const d = b[start + i]! - b[previous + i]!;
      if (d !== 0) return d > 0;
    }
    return length > before;
  }

  /** An unsigned integer below 2^53 (the header's index and time), or -1. */
  safeUint(): number {
    if (this.pos >= this.b.length) return -1;
    const initial = this.b[this.pos++]!;
    if (initial >> 5 !== 0 || (initial & 0x1f) >= 28 || !this.argument(initial & 0x1f)) return -1;
    return this.arg;
  }

  /** The exact bytes `want` next. */
  literal(want: Uint8Array): boolean {
    const b = this.b;
    if (this.pos + want.length > b.length) return false;
    for (let i = 0; i < want.length; i++) if (b[this.pos + i] !== want[i]) return false;
    this.pos += want.length;
    return true;
  }
}

function validUtf8(bytes: Uint8Array): boolean {
  try {
    UTF8.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/** The kind's encoded text, matched byte-wise. */
function kindFits(w: Walk): boolean {
  for (const kind of KIND_BYTES) {
    if (w.literal(kind)) return true;
  }
  return false;
}

const PREV_HEAD = Uint8Array.from([0x04, 0x58, PREV_LENGTH]);

/**
 * True when decodeReceipt accepts `bytes` and the receipt holds `index` and `prev`, as replayedReceipt checks;
 * false otherwise (then replayedReceipt says why). The layout is fixed: map(6), keys 0–5 in order, v = 1.
 */
export function isReceiptAt(bytes: Uint8Array, index: number, prev: Uint8Array): boolean {
  const w = new Walk(bytes);
  if (!header(w, index) || !prevIs(w, index, prev)) return false;
  // key 5 and a map, the body, ending the bytes
  if (bytes[w.pos++] !== 0x05 || w.pos >= bytes.length || bytes[w.pos]! >> 5 !== 5) return false;
  return w.value(1) && w.pos === bytes.length;
}

/** a6 00 01 01 kind 02 index 03 time: a 6-entry map, v = 1, a known kind, the index wanted and a time. */
function header(w: Walk, index: number): boolean {
  const b = w.b;
  if (b.length < 4 || b[0] !== 0xa6 || b[1] !== 0x00 || b[2] !== 0x01 || b[3] !== 0x01) return false;
  w.pos = 4;
  if (!kindFits(w)) return false;
  if (b[w.pos++] !== 0x02 || w.safeUint() !== index) return false;
  return b[w.pos++] === 0x03 && w.safeUint() >= 0;
}

/** 04 58 20 and `prev`; at index 0 the decoder wants 32 zero bytes whatever `prev` was given. */
function prevIs(w: Walk, index: number, prev: Uint8Array): boolean {
  const b = w.b;
  if (!w.literal(PREV_HEAD) || prev.length !== PREV_LENGTH || w.pos + PREV_LENGTH > b.length) return false;
  for (let i = 0; i < PREV_LENGTH; i++) if (b[w.pos + i] !== prev[i] || (index === 0 && prev[i] !== 0)) return false;
  w.pos += PREV_LENGTH;
  return true;
}
