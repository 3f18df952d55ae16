// isReceiptAt must answer exactly as decodeReceipt + replayedReceipt do: on valid receipts, on every single-byte
// change of them, on cut and lengthened ones, and on arbitrary bytes.
import test from 'ava';
import fc from 'fast-check';
import { encodeReceipt } from './cbor.ts';
import { decisionBody } from './bodies.ts';
import { RECEIPT_KINDS, zeroPrev, type CborMap, type CborValue, type Receipt } from './receipt.ts';
import { replayedReceipt } from './receipt-chain.ts';
import { isReceiptAt } from './receipt-check.ts';

const RUNS = { numRuns: 300 };

/** What the reference decoder says. */
function accepted(bytes: Uint8Array, index: number, prev: Uint8Array): boolean {
  try {
    replayedReceipt(bytes, index, prev);
    return true;
  } catch {
    return false;
  }
}

const BOUNDARIES = [0, 1, 23, 24, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, Number.MAX_SAFE_INTEGER];

const integerArb: fc.Arbitrary<CborValue> = fc.oneof(
  fc.constantFrom(...BOUNDARIES, ...BOUNDARIES.filter((n) => n > 0).flatMap((n) => [-n, -n - 1]).filter(Number.isSafeInteger)),
  fc.integer({ min: -1000, max: 1000 }),
  fc.oneof(fc.bigInt({ min: 2n ** 53n, max: 2n ** 64n - 1n }), fc.bigInt({ min: -(2n ** 63n), max: -(2n ** 53n) })),
);

const keyArb = fc.oneof(fc.string({ maxLength: 6 }), fc.string({ unit: 'binary', maxLength: 12 }));

function mapOf(entries: [string, CborValue][]): CborMap {
  const map: CborMap = {};
  for (const [key, value] of entries) Object.defineProperty(map, key, { value, enumerable: true, writable: true, configurable: true });
  return map;
}

const { value: valueArb } = fc.letrec<{ value: CborValue; map: CborMap }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    integerArb,
    fc.string({ unit: 'binary', maxLength: 30 }),
    fc.boolean(),
    fc.constant(null),
    fc.uint8Array({ maxLength: 40 }),
    fc.array(tie('value'), { maxLength: 5 }),
    tie('map'),
  ),
  map: fc.uniqueArray(fc.tuple(keyArb, tie('value')), { maxLength: 6, selector: ([k]) => k }).map(mapOf),
}));

const receiptArb: fc.Arbitrary<Receipt> = fc
  .record({
    kind: fc.constantFrom(...RECEIPT_KINDS),
    index: fc.oneof(fc.constant(0), fc.constantFrom(...BOUNDARIES), fc.maxSafeNat()),
    time: fc.oneof(fc.constantFrom(...BOUNDARIES), fc.maxSafeNat()),
    prev: fc.uint8Array({ minLength: 32, maxLength: 32 }),
    body: fc.uniqueArray(fc.tuple(keyArb, valueArb), { maxLength: 8, selector: ([k]) => k }).map(mapOf),
  })
  .map(({ kind, index, time, prev, body }) => ({ v: 1 as const, kind, index, time, prev: index === 0 ? zeroPrev() : prev, body }));

test('accepts every receipt at its own index and prev, and refuses it at another index or prev', (t) => {
  fc.assert(
    fc.property(receiptArb, (r) => {
      const bytes = encodeReceipt(r);
      const other = r.prev.slice();
      other[31] = other[31]! ^ 1;
      return isReceiptAt(bytes, r.index, r.prev) && !isReceiptAt(bytes, r.index + 1, r.prev) && isReceiptAt(bytes, r.index, other) === accepted(bytes, r.index, other);
    }),
    RUNS,
  );
  t.pass();
});

test('answers as the decoder does for any single-byte change, cut or extension of a receipt', (t) => {
  fc.assert(
    fc.property(receiptArb, fc.nat(), fc.integer({ min: 0, max: 255 }), fc.nat(), (r, at, value, cut) => {
      const bytes = encodeReceipt(r);
      const changed = bytes.slice();
      changed[at % bytes.length] = value;
      const shorter = bytes.subarray(0, cut % bytes.length);
      const longer = Uint8Array.from([...bytes, value]);
      return [changed, shorter, longer].every((b) => isReceiptAt(b, r.index, r.prev) === accepted(b, r.index, r.prev));
    }),
    { numRuns: 1000 },
  );
  t.pass();
});

test('every single-byte change of a decision receipt, at every position and value, gets the decoder answer', (t) => {
  const body = decisionBody({ tenant: 'acme', op: 'consume', subject: 'api-calls', amount: 1, allowed: true, reason: 'Allowed', used: 42, limit: 1000, policyDigest: 'ab'.repeat(32), idempotencyKey: 'k€y', windowStart: 1_780_000_000_000, resetsAt: '2026-07-01T00:00:00Z' });
  const prev = new Uint8Array(32).fill(9);
  const bytes = encodeReceipt({ v: 1, kind: 'decision', index: 300, time: 1_780_000_000_000_000, prev, body });
  let disagreements = 0;
  for (let at = 0; at < bytes.length; at++) {
    for (let value = 0; value < 256; value++) {
      const changed = bytes.slice();
      changed[at] = value;
      if (isReceiptAt(changed, 300, prev) !== accepted(changed, 300, prev)) disagreements++;
    }
  }
  t.is(disagreements, 0);
});

test('arbitrary bytes get the decoder answer', (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 80 }), fc.nat(), (tail, index) => {
      const bytes = Uint8Array.from([0xa6, 0x00, 0x01, 0x01, ...tail]);
      return isReceiptAt(bytes, index, zeroPrev()) === accepted(bytes, index, zeroPrev()) && isReceiptAt(tail, index, zeroPrev()) === accepted(tail, index, zeroPrev());
    }),
    { numRuns: 2000 },
  );
  t.pass();
});
