// Property tests for receipt bytes: round trip, acceptance by an independent strict decoder (cbor2), agreement
// with cbor-x where cbor-x is deterministic, and that any single-byte change is caught.
import test from 'ava';
import fc from 'fast-check';
import { isDeepStrictEqual } from 'node:util';
import { Encoder } from 'cbor-x';
import { Tag, decode as cbor2Decode } from 'cbor2';
import { CBOR2_STRICT } from './cbor2-strict.test-helper.ts';
import { compareBytes, decodeDeterministic, decodeReceipt, encodeDeterministic, encodeReceipt } from './cbor.ts';
import { RECEIPT_KINDS, ReceiptDecodeError, zeroPrev } from './receipt.ts';
import type { CborMap, CborValue, Receipt } from './receipt.ts';


function containsTag(value: unknown): boolean {
  if (value instanceof Tag) return true;
  if (value instanceof Map) return [...value].some(([k, v]) => containsTag(k) || containsTag(v));
  if (Array.isArray(value)) return value.some(containsTag);
  if (value !== null && typeof value === 'object' && !(value instanceof Uint8Array)) return Object.values(value).some(containsTag);
  return false;
}

/** cbor2's decoded value in our model: integers outside the safe range as BigInt. */
function unsafeToBigInt(value: unknown): CborValue {
  if (typeof value === 'number' && Number.isInteger(value) && !Number.isSafeInteger(value)) return BigInt(value);
  if (Array.isArray(value)) return value.map(unsafeToBigInt);
  if (value === null || typeof value !== 'object' || value instanceof Uint8Array) return value as CborValue;
  return mapOf(Object.entries(value).map(([k, v]) => [k, unsafeToBigInt(v)]));
}

const RUNS = { numRuns: 300 };

// ---------------------------------------------------------------------------------------------------------
// Arbitraries

const BOUNDARIES = [0, 1, 23, 24, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, Number.MAX_SAFE_INTEGER];

const integerArb: fc.Arbitrary<CborValue> = fc.oneof(
  fc.constantFrom(...BOUNDARIES, ...BOUNDARIES.flatMap((n) => [-n, -n - 1]).filter((n) => Number.isSafeInteger(n) && !Object.is(n, -0))), // -0 is written as 0 (a vector)
  fc.integer({ min: -1000, max: 1000 }),
  fc.maxSafeInteger(),
  // Outside the safe range only: inside it, decoding gives a number, so a bigint would not round-trip as such.
  fc.oneof(fc.bigInt({ min: 2n ** 53n, max: 2n ** 64n - 1n }), fc.bigInt({ min: -(2n ** 63n), max: -(2n ** 53n) })),
);

const textArb = fc.string({ unit: 'binary', maxLength: 30 });
const keyArb = fc.oneof(fc.string({ maxLength: 6 }), textArb, fc.constantFrom('__proto__', 'constructor', '10', '2', 'a', 'aa', 'b'));

/** A text-keyed map; defineProperty so that "__proto__" is an ordinary own key, as the decoder makes it. */
function mapOf(entries: [string, CborValue][]): CborMap {
  const map: CborMap = {};
  for (const [key, value] of entries) {
    Object.defineProperty(map, key, { value, enumerable: true, writable: true, configurable: true });
  }
  return map;
}

const { value: valueArb } = fc.letrec<{ value: CborValue; map: CborMap }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    integerArb,
    textArb,
    fc.boolean(),
    fc.constant(null),
    fc.uint8Array({ maxLength: 40 }),
    fc.array(tie('value'), { maxLength: 5 }),
    tie('map'),
  ),
  map: fc.uniqueArray(fc.tuple(keyArb, tie('value')), { maxLength: 6, selector: ([k]) => k }).map(mapOf),
}));

const bodyArb: fc.Arbitrary<CborMap> = fc
  .uniqueArray(fc.tuple(keyArb, valueArb), { maxLength: 8, selector: ([k]) => k })
  .map(mapOf);

const receiptArb: fc.Arbitrary<Receipt> = fc
  .record({
    kind: fc.constantFrom(...RECEIPT_KINDS),
    index: fc.oneof(fc.constant(0), fc.constantFrom(...BOUNDARIES), fc.maxSafeNat()),
    time: fc.oneof(fc.constantFrom(...BOUNDARIES), fc.maxSafeNat()),
    prev: fc.uint8Array({ minLength: 32, maxLength: 32 }),
    body: bodyArb,
  })
  .map(({ kind, index, time, prev, body }) => ({ v: 1 as const, kind, index, time, prev: index === 0 ? zeroPrev() : prev, body }));

// ---------------------------------------------------------------------------------------------------------
// Properties

test('decodeReceipt ∘ encodeReceipt is the identity, and re-encoding gives the same bytes', (t) => {
  fc.assert(
    fc.property(receiptArb, (receipt) => {
      const bytes = encodeReceipt(receipt);
      const decoded = decodeReceipt(bytes);
      return isDeepStrictEqual(decoded, receipt) && compareBytes(encodeReceipt(decoded), bytes) === 0;
    }),
    RUNS,
  );
  t.pass();
});

test('every receipt encoding is accepted by cbor2 in strict deterministic mode, with the same content', (t) => {
  fc.assert(
    fc.property(receiptArb, (receipt) => {
      const bytes = encodeReceipt(receipt);
      const viaCbor2 = cbor2Decode(bytes, CBOR2_STRICT) as Map<number, unknown>;
      if (containsTag(viaCbor2)) return false;
      const body = viaCbor2.get(5);
      // cbor2 builds plain objects with Object.fromEntries and gives integers in [-2^64, -2^53] as (inexact-looking
      // but exact) numbers; compare through our canonical bytes after taking those back to BigInt.
      return (
        viaCbor2 instanceof Map &&
        isDeepStrictEqual([...viaCbor2.keys()], [0, 1, 2, 3, 4, 5]) &&
        viaCbor2.get(1) === receipt.kind &&
        viaCbor2.get(2) === receipt.index &&
        viaCbor2.get(3) === receipt.time &&
        compareBytes(encodeDeterministic(unsafeToBigInt(body)), encodeDeterministic(receipt.body)) === 0
      );
    }),
    RUNS,
  );
  t.pass();
});

test('every value encoding is accepted by cbor2 strict mode and by our strict decoder', (t) => {
  fc.assert(
    fc.property(valueArb, (value) => {
      const bytes = encodeDeterministic(value);
      const viaCbor2 = cbor2Decode(bytes, CBOR2_STRICT);
      return !containsTag(viaCbor2) && isDeepStrictEqual(decodeDeterministic(bytes), value);
    }),
    RUNS,
  );
  t.pass();
});

/**
 * What cbor-x needs to write deterministic bytes: maps as Maps (no tag 259) with keys pre-sorted, integers
 * that need an 8-byte argument as BigInt, all others as numbers (cbor-x writes numbers ≥ 2^32 as float64 and
 * BigInts always with 8 bytes).
 */
function forCborX(value: CborValue): unknown {
  if (typeof value === 'number' || typeof value === 'bigint') {
    return BigInt(value) >= -(2n ** 32n) && BigInt(value) < 2n ** 32n ? Number(value) : BigInt(value);
  }
  if (Array.isArray(value)) return value.map(forCborX);
  if (value === null || typeof value !== 'object' || value instanceof Uint8Array) return value;
  const entries = Object.keys(value).map((k) => [k, forCborX(value[k] as CborValue)] as const);
  entries.sort(([a], [b]) => compareBytes(encodeDeterministic(a), encodeDeterministic(b)));
  return new Map(entries);
}

test('agrees byte for byte with cbor-x given pre-sorted Maps and integers split at 2^32', (t) => {
  // useTag259ForMaps is a cbor-x option its typings omit; a variable (not a fresh literal) passes it through.
  const options = { variableMapSize: true, useRecords: false, tagUint8Array: false, structuredClone: false, useTag259ForMaps: false };
  const cborX = new Encoder(options);
  fc.assert(
    fc.property(valueArb, (value) => compareBytes(new Uint8Array(cborX.encode(forCborX(value))), encodeDeterministic(value)) === 0),
    RUNS,
  );
  t.pass();
});

test('changing any single byte of a receipt is rejected or decodes to a different receipt, never anything else', (t) => {
  fc.assert(
    fc.property(receiptArb, fc.nat(), fc.integer({ min: 1, max: 255 }), (receipt, at, mask) => {
      const bytes = encodeReceipt(receipt);
      const flipped = bytes.slice();
      const i = at % bytes.length;
      flipped[i] = (flipped[i] as number) ^ mask;
      try {
        return !isDeepStrictEqual(decodeReceipt(flipped), receipt);
      } catch (err) {
        return err instanceof ReceiptDecodeError;
      }
    }),
    { numRuns: 2000 },
  );
  t.pass();
});

test('every single-byte change of a fixed receipt is caught (exhaustive over positions, sampled masks)', (t) => {
  const receipt: Receipt = {
    v: 1,
    kind: 'threshold',
    index: 70_000,
    time: 1_700_000_000_000_000,
    prev: new Uint8Array(32).fill(7),
    body: { tenant: 'acme', used: -25, big: 2n ** 60n, list: [null, true, new Uint8Array([1, 2])], nested: { a: 'ü' } },
  };
  const bytes = encodeReceipt(receipt);
  for (let i = 0; i < bytes.length; i++) {
    for (const mask of [0x01, 0x02, 0x10, 0x20, 0x80, 0xff]) {
      const flipped = bytes.slice();
      flipped[i] = (flipped[i] as number) ^ mask;
      try {
        t.false(isDeepStrictEqual(decodeReceipt(flipped), receipt), `byte ${i} ^ ${mask}`);
      } catch (err) {
        t.true(err instanceof ReceiptDecodeError, `byte ${i} ^ ${mask}: ${String(err)}`);
      }
    }
  }
});

test('arbitrary bytes, and garbage before or after a receipt, only ever throw ReceiptDecodeError', (t) => {
  const attempt = (input: Uint8Array): boolean => {
    try {
      decodeReceipt(input);
      return true;
    } catch (err) {
      return err instanceof ReceiptDecodeError;
    }
  };
  fc.assert(fc.property(fc.uint8Array({ maxLength: 120 }), attempt), { numRuns: 2000 });
  fc.assert(
    fc.property(receiptArb, fc.uint8Array({ minLength: 1, maxLength: 8 }), fc.boolean(), (receipt, garbage, before) => {
      const bytes = encodeReceipt(receipt);
      const input = before ? new Uint8Array([...garbage, ...bytes]) : new Uint8Array([...bytes, ...garbage]);
      try {
        decodeReceipt(input);
        return false;
      } catch (err) {
        return err instanceof ReceiptDecodeError;
      }
    }),
    RUNS,
  );
  t.pass();
});

test('map key order does not depend on insertion order', (t) => {
  fc.assert(
    fc.property(bodyArb, (body) => {
      const reversed = mapOf(Object.entries(body).reverse());
      return compareBytes(encodeDeterministic(reversed), encodeDeterministic(body)) === 0;
    }),
    RUNS,
  );
  t.pass();
});
