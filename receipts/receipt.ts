/**
 * The receipt model of design §5: one log entry, a CBOR map with unsigned-integer keys 0-5.
 * Pure types and constants; `cbor.ts` turns a `Receipt` into bytes and back.
 */
import { CborDecodeError } from './cbor-core.ts';

/**
 * A value a receipt body may hold: integers, text, booleans, null, byte strings, arrays and text-keyed maps.
 * No floats, no undefined, no tags. `number` must be a safe integer (|n| ≤ 2^53-1); integers past that are
 * `bigint`, within [-2^63, 2^64-1] (the range every int64/uint64 reader can hold). Decoding gives `number`
 * for every integer in the safe range and `bigint` only outside it.
 */
export type CborValue = number | bigint | string | boolean | null | Uint8Array | CborValue[] | CborMap;

/** A CBOR map with text keys, as a plain object. Encoded with its keys in RFC 8949 §4.2.1 order. */
export interface CborMap {
  [key: string]: CborValue;
}

/** The kind-specific part of a receipt: a map with text keys (see `bodies.ts` for each kind). */
export type ReceiptBody = CborMap;

/** What a receipt records. */
export const RECEIPT_KINDS = ['decision', 'admission', 'reconcile', 'threshold', 'lifecycle'] as const;
export type ReceiptKind = (typeof RECEIPT_KINDS)[number];

/** The format version every receipt carries in key 0. */
export const RECEIPT_VERSION = 1;

/** Length of `prev`: a SHA-256 leaf hash. */
export const PREV_LENGTH = 32;

/** CBOR map keys of a receipt (design §5). Their encodings 0x00-0x05 are already in deterministic order. */
export const RECEIPT_KEY = {
  /** uint: format version, 1. */
  v: 0,
  /** text: one of `RECEIPT_KINDS`. */
  kind: 1,
  /** uint: this entry's position in the log, from 0. */
  index: 2,
  /** uint: microseconds since the Unix epoch, UTC. */
  time: 3,
  /** bstr(32): leaf hash of the previous entry; 32 zero bytes at index 0. */
  prev: 4,
  /** map: kind-specific, text keys. */
  body: 5,
} as const;
export type ReceiptField = keyof typeof RECEIPT_KEY;

/** The field names by key number, in key order. */
export const RECEIPT_FIELDS: readonly ReceiptField[] = ['v', 'kind', 'index', 'time', 'prev', 'body'];

/** One log entry. `index` and `time` are safe integers (microseconds stay below 2^53 until the year 2255). */
export interface Receipt {
  v: typeof RECEIPT_VERSION;
  kind: ReceiptKind;
  index: number;
  /** Microseconds since the Unix epoch, UTC. */
  time: number;
  /** Leaf hash of the previous entry; `zeroPrev()` at index 0. */
  prev: Uint8Array;
  body: ReceiptBody;
}

/** The `prev` of the entry at index 0: 32 zero bytes (a fresh array each call). */
export function zeroPrev(): Uint8Array {
  return new Uint8Array(PREV_LENGTH);
}

export function isReceiptKind(value: unknown): value is ReceiptKind {
  return typeof value === 'string' && (RECEIPT_KINDS as readonly string[]).includes(value);
}

/**
 * A value that cannot be written as a receipt: a float, an unsafe integer, an unsupported type, a bad header
 * field. `path` names the offending value, e.g. `body.patch.features.ratio` or `prev`.
 */
export class ReceiptEncodeError extends Error {
  readonly path: string;
  readonly detail: string;

  constructor(path: string, detail: string) {
    super(`${path}: ${detail}`);
    this.name = 'ReceiptEncodeError';
    this.path = path;
    this.detail = detail;
  }
}

/**
 * A receipt whose encoding is longer than a log entry may be (`MAX_ENTRY_SIZE` in tlog-tiles.ts, the one limit
 * the writer, the entry file's reader and the entry bundles share). Thrown before the log changes.
 */
export class ReceiptTooLargeError extends Error {
  readonly kind: string;
  readonly bytes: number;
  readonly limit: number;

  constructor(c: { kind: string; bytes: number; limit: number }) {
    super(`a ${c.kind} receipt of ${c.bytes} bytes is larger than a log entry may be (${c.limit} bytes): nothing was appended`);
    this.name = 'ReceiptTooLargeError';
    this.kind = c.kind;
    this.bytes = c.bytes;
    this.limit = c.limit;
  }
}

/** Bytes that are not a receipt in core deterministic CBOR; `offset` as in CborDecodeError (cbor-core.ts). */
export class ReceiptDecodeError extends CborDecodeError {}
