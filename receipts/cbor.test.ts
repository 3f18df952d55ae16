// Golden vectors for receipt bytes. Every expected hex sits next to how to reproduce it: RFC 8949 Appendix A
// for single items, or the item-by-item breakdown (head byte = major type << 5 | argument, RFC 8949 §3).
// Every positive vector is also checked by cbor2 in strict deterministic mode and by our strict decoder
// re-encoding to identical bytes; negative vectors (as many as the positive ones) must fail with a message
// naming the problem.
import test from 'ava';
import { Encoder } from 'cbor-x';
import { Tag, decode as cbor2Decode } from 'cbor2';
import { CBOR2_STRICT } from './cbor2-strict.test-helper.ts';
import { decodeDeterministic, decodeReceipt, encodeDeterministic, encodeReceipt } from './cbor.ts';
import { hashLeaf as leafHash } from './merkle-hash.ts';
import { decisionBody, jsonToCbor, lifecycleBody, reconcileBody, thresholdBody } from './bodies.ts';
import { ReceiptDecodeError, ReceiptEncodeError, zeroPrev } from './receipt.ts';
import type { CborValue, Receipt } from './receipt.ts';

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
const unhex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));


function rejectTags(value: unknown): void {
  if (value instanceof Tag) throw new Error(`tag ${value.tag}`);
  if (value instanceof Map) for (const [k, v] of value) [k, v].forEach(rejectTags);
  else if (Array.isArray(value)) value.forEach(rejectTags);
  else if (value !== null && typeof value === 'object' && !(value instanceof Uint8Array)) Object.values(value).forEach(rejectTags);
}

function cbor2Strict(bytes: Uint8Array): unknown {
  const value = cbor2Decode(bytes, CBOR2_STRICT);
  rejectTags(value);
  return value;
}

// ---------------------------------------------------------------------------------------------------------
// The strict oracle is strict: it rejects what we reject at the CBOR level.

for (const [desc, bad] of [
  ['non-shortest int', '1817'],
  ['indefinite map', 'bf6161f5ff'],
  ['unsorted keys', 'a2616201616102'],
  ['length-first order', 'a262616101616202'],
  ['duplicate keys', 'a2616101616102'],
  ['half float', 'f93c00'],
  ['tag 1', 'c11a514b67b0'],
  ['undefined', 'f7'],
] as const) {
  test(`cbor2 strict options reject: ${desc}`, (t) => {
    t.throws(() => cbor2Strict(unhex(bad)));
  });
}

// ---------------------------------------------------------------------------------------------------------
// Positive vectors for values

interface ValueVector {
  desc: string;
  value: CborValue;
  /** Expected bytes; the comment beside each says how to reproduce them. */
  want: string;
}

const VALUE_VECTORS: ValueVector[] = [
  { desc: '0', value: 0, want: '00' }, // RFC 8949 App. A: 0 = 0x00
  { desc: '23, largest immediate', value: 23, want: '17' }, // App. A: 23 = 0x17
  { desc: '24, first 1-byte argument', value: 24, want: '1818' }, // App. A: 24 = 0x1818
  { desc: '255', value: 255, want: '18ff' }, // 0x18 | 0xff
  { desc: '256, first 2-byte argument', value: 256, want: '190100' }, // App. A: 0x190064 = 100; 0x19 + be16(256)
  { desc: '65535', value: 65535, want: '19ffff' }, // 0x19 + be16(0xffff)
  { desc: '65536, first 4-byte argument', value: 65536, want: '1a00010000' }, // 0x1a + be32(0x10000)
  { desc: '2^32-1', value: 2 ** 32 - 1, want: '1affffffff' }, // 0x1a + be32(0xffffffff)
  { desc: '2^32, first 8-byte argument', value: 2 ** 32, want: '1b0000000100000000' }, // App. A: 1000000000000 = 0x1b000000e8d4a51000
  { desc: '2^53-1 as number', value: Number.MAX_SAFE_INTEGER, want: '1b001fffffffffffff' }, // 0x1b + be64(0x1fffffffffffff)
  { desc: '2^53 as BigInt', value: 2n ** 53n, want: '1b0020000000000000' }, // 0x1b + be64(0x20000000000000)
  { desc: '2^64-1 as BigInt', value: 2n ** 64n - 1n, want: '1bffffffffffffffff' }, // App. A: 18446744073709551615
  { desc: 'small BigInt shortest', value: 1n, want: '01' }, // same bytes as the number 1
  { desc: '-0 is integer 0', value: -0, want: '00' }, // CBOR has no negative integer zero
  { desc: '-1', value: -1, want: '20' }, // App. A: -1 = 0x20 (major 1, argument -1-(-1) = 0)
  { desc: '-24', value: -24, want: '37' }, // 0x20 | 23
  { desc: '-25', value: -25, want: '3818' }, // 0x38 + 24
  { desc: '-256', value: -256, want: '38ff' }, // 0x38 + 255
  { desc: '-257', value: -257, want: '390100' }, // 0x39 + be16(256)
  { desc: '-(2^53-1)', value: Number.MIN_SAFE_INTEGER, want: '3b001ffffffffffffe' }, // argument 2^53-2
  { desc: '-2^63 as BigInt', value: -(2n ** 63n), want: '3b7fffffffffffffff' }, // argument 2^63-1
  { desc: 'false', value: false, want: 'f4' }, // App. A
  { desc: 'true', value: true, want: 'f5' }, // App. A
  { desc: 'null', value: null, want: 'f6' }, // App. A
  { desc: 'empty text', value: '', want: '60' }, // App. A: "" = 0x60
  { desc: 'text "IETF"', value: 'IETF', want: '6449455446' }, // App. A
  { desc: 'text "ü"', value: '\u00fc', want: '62c3bc' }, // App. A: UTF-8 length 2
  { desc: 'text "水"', value: '\u6c34', want: '63e6b0b4' }, // App. A: UTF-8 length 3
  { desc: 'text U+10151 (surrogate pair)', value: '\u{10151}', want: '64f0908591' }, // App. A
  { desc: 'text of 24 bytes, 1-byte length', value: 'x'.repeat(24), want: `7818${'78'.repeat(24)}` }, // 0x78 + 24
  { desc: 'text of 8 "€" = 24 UTF-8 bytes', value: '€'.repeat(8), want: `7818${'e282ac'.repeat(8)}` }, // length counts bytes, not chars
  { desc: 'leading U+FEFF kept', value: '\ufeffa', want: '64efbbbf61' }, // BOM is data
  { desc: 'empty bstr', value: new Uint8Array(), want: '40' }, // App. A: h'' = 0x40
  { desc: 'bstr', value: unhex('01020304'), want: '4401020304' }, // App. A: h'01020304'
  { desc: 'empty array', value: [], want: '80' }, // App. A: [] = 0x80
  { desc: 'nested arrays', value: [1, [2, 3], [4, 5]], want: '8301820203820405' }, // App. A
  { desc: 'array of 24', value: Array.from({ length: 24 }, () => 0), want: `9818${'00'.repeat(24)}` }, // 0x98 + 24
  { desc: 'empty map', value: {}, want: 'a0' }, // App. A: {} = 0xa0
  { desc: 'map with array', value: { b: [2, 3], a: 1 }, want: 'a26161016162820203' }, // App. A {"a": 1, "b": [2, 3]}
  // keys "aa","b","a" → "a" (6161) < "b" (6162) < "aa" (626161): shorter encodings first, then bytewise.
  { desc: 'key order a, b, aa', value: { aa: 3, b: 2, a: 1 }, want: 'a3 6161 01 6162 02 626161 03' },
  // JS enumerates integer-like keys first ("2", "10", "a"); CBOR order is "2" (6132) < "a" (6161) < "10" (623130).
  { desc: 'key order ignores JS property order', value: { 10: 1, a: 3, 2: 2 }, want: 'a3 6132 02 6161 03 623130 01' },
  // "é" is 2 UTF-8 bytes: 62c3a9 sorts after "aa" (626161) and after "z" (617a).
  { desc: 'key order by UTF-8 bytes', value: { '\u00e9': 4, aa: 3, z: 2, a: 1 }, want: 'a4 6161 01 617a 02 626161 03 62c3a9 04' },
  { desc: 'nested maps', value: { a: { c: null, b: { d: [] } } }, want: 'a1 6161 a2 6162 a1 6164 80 6163 f6' },
  { desc: '"__proto__" as a key', value: JSON.parse('{"__proto__": 1}') as CborValue, want: 'a1 695f5f70726f746f5f5f 01' },
];

for (const { desc, value, want } of VALUE_VECTORS) {
  test(`encodeDeterministic vector: ${desc}`, (t) => {
    const bytes = encodeDeterministic(value);
    t.is(hex(bytes), want.replace(/\s+/g, ''));
    t.notThrows(() => cbor2Strict(bytes), 'cbor2 strict decode');
    t.is(hex(encodeDeterministic(decodeDeterministic(bytes))), hex(bytes), 'strict decode, re-encode');
  });
}

// ---------------------------------------------------------------------------------------------------------
// Positive vectors for receipts

const MINIMAL: Receipt = { v: 1, kind: 'lifecycle', index: 0, time: 0, prev: zeroPrev(), body: {} };
const MINIMAL_HEX = [
  'a6', // map of 6
  '00 01', // 0 v: 1
  '01 69 6c6966656379636c65', // 1 kind: "lifecycle" (text of 9)
  '02 00', // 2 index: 0
  '03 00', // 3 time: 0
  `04 5820 ${'00'.repeat(32)}`, // 4 prev: bstr of 32 (0x58 0x20), all zero
  '05 a0', // 5 body: {}
]
  .join('')
  .replace(/\s+/g, ''); // 55 bytes

const DECISION: Receipt = {
  v: 1,
  kind: 'decision',
  index: 7,
  time: 1_700_000_000_123_456, // python3 -c 'print(hex(1700000000123456))' → 0x60a2418202240
  prev: new Uint8Array(32).fill(0x11),
  body: decisionBody({
    tenant: 'acme',
    op: 'consume',
    subject: 'api-calls',
    amount: 5,
    allowed: true,
    reason: 'Allowed',
    used: 42,
    limit: 1000,
    policyDigest: 'ab'.repeat(32),
  }),
};
const DECISION_HEX = [
  'a6',
  '00 01',
  '01 68 6465636973696f6e', // "decision"
  '02 07',
  '03 1b 00060a2418202240', // time ≥ 2^32: 8-byte argument
  `04 5820 ${'11'.repeat(32)}`,
  '05 a9', // body: map of 9, keys sorted by encoded bytes (length first, then bytewise):
  '626f70 67 636f6e73756d65', // "op": "consume"
  '6475736564 182a', // "used": 42
  '656c696d6974 1903e8', // "limit": 1000
  '66616d6f756e74 05', // "amount": 5
  '66726561736f6e 67 416c6c6f776564', // "reason": "Allowed"
  '6674656e616e74 64 61636d65', // "tenant": "acme"
  '67616c6c6f776564 f5', // "allowed": true
  '677375626a656374 69 6170692d63616c6c73', // "subject": "api-calls"
  `6c706f6c696379446967657374 5820 ${'ab'.repeat(32)}`, // "policyDigest": bstr 32
].join('');

const RECEIPT_VECTORS: { desc: string; receipt: Receipt; want: string }[] = [
  { desc: 'minimal index-0 receipt', receipt: MINIMAL, want: MINIMAL_HEX },
  { desc: 'decision receipt', receipt: DECISION, want: DECISION_HEX },
];

for (const { desc, receipt, want } of RECEIPT_VECTORS) {
  test(`encodeReceipt vector: ${desc}`, (t) => {
    const bytes = encodeReceipt(receipt);
    t.is(hex(bytes), want.replace(/\s+/g, ''));
    const viaCbor2 = cbor2Strict(bytes) as Map<number, unknown>;
    t.true(viaCbor2 instanceof Map);
    t.deepEqual([...viaCbor2.keys()], [0, 1, 2, 3, 4, 5]);
    t.is(viaCbor2.get(1), receipt.kind);
    t.deepEqual(viaCbor2.get(5), receipt.body);
    const decoded = decodeReceipt(bytes);
    t.deepEqual(decoded, receipt);
    t.is(hex(encodeReceipt(decoded)), hex(bytes));
  });
}

test('leafHash(empty) = SHA-256(0x00)', (t) => {
  // printf '\x00' | sha256sum
  t.is(hex(leafHash(new Uint8Array())), '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d');
});

test('leafHash of the minimal receipt', (t) => {
  // printf 'a600010169…05a0' | xxd -r -p | { printf '\x00'; cat; } | sha256sum
  const { createHash } = process.getBuiltinModule('node:crypto');
  const want = createHash('sha256').update(unhex(`00${MINIMAL_HEX}`)).digest('hex');
  t.is(hex(leafHash(unhex(MINIMAL_HEX))), want);
  t.is(leafHash(new Uint8Array()).constructor, Uint8Array);
});

// ---------------------------------------------------------------------------------------------------------
// Negative vectors: the minimal receipt with one thing wrong.

type Entry = [key: string, value: string];
const MINIMAL_ENTRIES: Entry[] = [
  ['00', '01'],
  ['01', '696c6966656379636c65'],
  ['02', '00'],
  ['03', '00'],
  ['04', `5820${'00'.repeat(32)}`],
  ['05', 'a0'],
];

/** The minimal receipt's hex with entry values replaced (by key), entries removed or added. */
function receiptHex(change: { set?: Record<string, string>; drop?: string[]; add?: Entry[]; head?: string }): string {
  const entries: Entry[] = MINIMAL_ENTRIES.filter(([k]) => !change.drop?.includes(k)).map(([k, v]) => [k, change.set?.[k] ?? v]);
  entries.push(...(change.add ?? []));
  const head = change.head ?? (0xa0 + entries.length).toString(16);
  return head + entries.map(([k, v]) => k + v).join('');
}

interface NegativeVector {
  desc: string;
  hex: string;
  wantErr: RegExp;
}

const NEGATIVE_VECTORS: NegativeVector[] = [
  { desc: 'empty input', hex: '', wantErr: /truncated/ },
  { desc: 'truncated: last byte missing', hex: MINIMAL_HEX.slice(0, -2), wantErr: /truncated/ },
  { desc: 'truncated: prev cut short', hex: MINIMAL_HEX.slice(0, 60), wantErr: /truncated: a byte string of 32 bytes/ },
  { desc: 'trailing garbage', hex: `${MINIMAL_HEX}00`, wantErr: /trailing bytes: 1 byte\(s\) after the receipt/ },
  { desc: 'a second receipt appended', hex: MINIMAL_HEX + MINIMAL_HEX, wantErr: /trailing bytes: 55 byte\(s\) after the receipt \(at byte offset 55\)/ },
  { desc: 'non-shortest int 0x1817 (23)', hex: receiptHex({ set: { '02': '1817' } }), wantErr: /non-shortest encoding: 23 written with a 1-byte argument/ },
  { desc: 'non-shortest int 0x1800 (0)', hex: receiptHex({ set: { '03': '1800' } }), wantErr: /non-shortest/ },
  { desc: 'non-shortest 8-byte int', hex: receiptHex({ set: { '03': '1b00000000ffffffff' } }), wantErr: /non-shortest encoding: 4294967295 written with a 8-byte/ },
  { desc: 'non-shortest text length', hex: receiptHex({ set: { '01': '78096c6966656379636c65' } }), wantErr: /non-shortest encoding: 9/ },
  { desc: 'non-shortest map length', hex: receiptHex({ head: 'b806' }), wantErr: /at most 6 entries/ },
  { desc: 'non-shortest key', hex: receiptHex({ set: { '05': 'a1 780161 01'.replace(/ /g, '') } }), wantErr: /non-shortest encoding: 1/ },
  { desc: 'indefinite top-level map', hex: `bf${MINIMAL_HEX.slice(2)}ff`, wantErr: /indefinite-length map not allowed/ },
  { desc: 'indefinite body map', hex: receiptHex({ set: { '05': 'bfff' } }), wantErr: /indefinite-length map not allowed/ },
  { desc: 'indefinite text', hex: receiptHex({ set: { '05': 'a1 6161 7f 6161 ff'.replace(/ /g, '') } }), wantErr: /indefinite-length text string/ },
  { desc: 'indefinite array', hex: receiptHex({ set: { '05': 'a161619fff' } }), wantErr: /indefinite-length array/ },
  { desc: 'lone break', hex: receiptHex({ set: { '05': 'a16161ff' } }), wantErr: /unexpected break/ },
  { desc: 'unsorted receipt keys', hex: receiptHex({ drop: ['02'], add: [['02', '00']] }), wantErr: /receipt keys out of order: 2 after 5/ },
  { desc: 'unsorted body keys', hex: receiptHex({ set: { '05': 'a2 6162 01 6161 02'.replace(/ /g, '') } }), wantErr: /map keys out of order: "a"/ },
  { desc: 'body keys in plain string order', hex: receiptHex({ set: { '05': 'a2 626161 01 6162 02'.replace(/ /g, '') } }), wantErr: /map keys out of order: "b"/ },
  { desc: 'duplicate body keys', hex: receiptHex({ set: { '05': 'a2 6161 01 6161 02'.replace(/ /g, '') } }), wantErr: /duplicate map key "a"/ },
  { desc: 'duplicate receipt key', hex: receiptHex({ drop: ['03', '04', '05'], add: [['02', '00'], ['04', `5820${'00'.repeat(32)}`], ['05', 'a0']] }), wantErr: /duplicate receipt key 2 \(index\)/ },
  { desc: 'half float 0xf93c00 as time', hex: receiptHex({ set: { '03': 'f93c00' } }), wantErr: /floating-point value not allowed \(half precision, 0xf9\)/ },
  { desc: 'double float in body', hex: receiptHex({ set: { '05': 'a1 6161 fb3ff8000000000000'.replace(/ /g, '') } }), wantErr: /floating-point value not allowed \(double precision, 0xfb\)/ },
  { desc: 'single float in body', hex: receiptHex({ set: { '05': 'a1 6161 fa47c35000'.replace(/ /g, '') } }), wantErr: /floating-point value not allowed \(single precision/ },
  { desc: 'integral float 1.0 as index', hex: receiptHex({ set: { '02': 'fb3ff0000000000000' } }), wantErr: /floating-point/ },
  { desc: 'tag 1 (epoch time)', hex: receiptHex({ set: { '03': 'c11a514b67b0' } }), wantErr: /tag 1 not allowed/ },
  { desc: 'tag 2 bignum in body', hex: receiptHex({ set: { '05': 'a1 6161 c249010000000000000000'.replace(/ /g, '') } }), wantErr: /tag 2 not allowed/ },
  { desc: 'self-described CBOR tag prefix', hex: `d9d9f7${MINIMAL_HEX}`, wantErr: /a receipt must be a map, got tag/ },
  { desc: 'undefined in body', hex: receiptHex({ set: { '05': 'a16161f7' } }), wantErr: /undefined \(0xf7\) not allowed/ },
  { desc: 'simple value 16', hex: receiptHex({ set: { '05': 'a16161f0' } }), wantErr: /simple value 16 not allowed/ },
  { desc: 'simple value 255 (two-byte)', hex: receiptHex({ set: { '05': 'a16161f8ff' } }), wantErr: /simple value 255 not allowed/ },
  { desc: 'reserved additional information 28', hex: receiptHex({ set: { '03': '1c' } }), wantErr: /reserved additional information 28/ },
  { desc: 'invalid UTF-8', hex: receiptHex({ set: { '05': 'a1 6161 61ff'.replace(/ /g, '') } }), wantErr: /invalid UTF-8/ },
  { desc: 'unknown key 6', hex: receiptHex({ add: [['06', '00']] }), wantErr: /unknown receipt key 6/ },
  { desc: 'missing key 3', hex: receiptHex({ drop: ['03'] }), wantErr: /missing receipt key 3 \(time\)/ },
  { desc: 'missing body', hex: receiptHex({ drop: ['05'] }), wantErr: /missing receipt key 5 \(body\)/ },
  { desc: 'text key at top level', hex: receiptHex({ add: [['6176', '01']] }), wantErr: /receipt keys must be unsigned integers, got a text string/ },
  { desc: 'negative key at top level', hex: `a7 20 00 ${MINIMAL_HEX.slice(2)}`.replace(/ /g, ''), wantErr: /receipt keys must be unsigned integers, got a negative integer/ },
  { desc: 'top level not a map', hex: '80', wantErr: /a receipt must be a map, got array/ },
  { desc: 'prev as text', hex: receiptHex({ set: { '04': '6178' } }), wantErr: /prev \(key 4\) must be a byte string, got a text string/ },
  { desc: 'prev of 31 bytes', hex: receiptHex({ set: { '04': `581f${'00'.repeat(31)}` } }), wantErr: /prev \(key 4\) must be 32 bytes, got 31/ },
  { desc: 'prev of 33 bytes', hex: receiptHex({ set: { '04': `5821${'00'.repeat(33)}` } }), wantErr: /must be 32 bytes, got 33/ },
  { desc: 'non-zero prev at index 0', hex: receiptHex({ set: { '04': `5820${'01'.repeat(32)}` } }), wantErr: /must be 32 zero bytes at index 0/ },
  { desc: 'v = 2', hex: receiptHex({ set: { '00': '02' } }), wantErr: /unsupported receipt version 2 \(want 1\)/ },
  { desc: 'v as text', hex: receiptHex({ set: { '00': '6131' } }), wantErr: /v \(key 0\) must be an unsigned integer, got a text string/ },
  { desc: 'kind "bogus"', hex: receiptHex({ set: { '01': '65626f677573' } }), wantErr: /unknown receipt kind "bogus"/ },
  { desc: 'kind as integer', hex: receiptHex({ set: { '01': '01' } }), wantErr: /kind \(key 1\) must be a text string, got an unsigned integer/ },
  { desc: 'negative index', hex: receiptHex({ set: { '02': '20' } }), wantErr: /index \(key 2\) must be an unsigned integer, got a negative integer/ },
  { desc: 'time past 2^53-1', hex: receiptHex({ set: { '03': '1b0020000000000000' } }), wantErr: /time \(key 3\) exceeds 2\^53-1/ },
  { desc: 'body as array', hex: receiptHex({ set: { '05': '80' } }), wantErr: /body \(key 5\) must be a map, got an array/ },
  { desc: 'integer key in body', hex: receiptHex({ set: { '05': 'a10101' } }), wantErr: /map key must be a text string, got an unsigned integer/ },
  { desc: 'integer below -2^63', hex: receiptHex({ set: { '05': 'a1 6161 3b8000000000000000'.replace(/ /g, '') } }), wantErr: /below -2\^63/ },
  { desc: 'array length past the input', hex: receiptHex({ set: { '05': 'a1 6161 9a ffffffff'.replace(/ /g, '') } }), wantErr: /truncated: an array of 4294967295 item/ },
  { desc: 'nesting 65 deep', hex: receiptHex({ set: { '05': `a16161${'81'.repeat(64)}00` } }), wantErr: /nesting deeper than 64 levels/ },
];

for (const { desc, hex: bad, wantErr } of NEGATIVE_VECTORS) {
  test(`decodeReceipt rejects: ${desc}`, (t) => {
    const err = t.throws(() => decodeReceipt(unhex(bad)), { instanceOf: ReceiptDecodeError });
    t.regex(err.message, wantErr);
  });
}

test('negative vectors are at least as many as positive ones', (t) => {
  t.true(NEGATIVE_VECTORS.length >= VALUE_VECTORS.length + RECEIPT_VECTORS.length);
});

test('decode errors carry the byte offset of the offending item', (t) => {
  // a6 00 01 01 69… : key 2's value starts at 1 + 2 + 1 + 10 + 1 = 15.
  const err = t.throws(() => decodeReceipt(unhex(receiptHex({ set: { '02': '1817' } }))), { instanceOf: ReceiptDecodeError });
  t.is(err.offset, 15);
  t.regex(err.message, /at byte offset 15/);
  const trailing = t.throws(() => decodeReceipt(unhex(`${MINIMAL_HEX}00`)), { instanceOf: ReceiptDecodeError });
  t.is(trailing.offset, MINIMAL_HEX.length / 2);
});

test('every strict prefix of a valid receipt is rejected as truncated', (t) => {
  const bytes = encodeReceipt(DECISION);
  for (let n = 0; n < bytes.length; n++) {
    const err = t.throws(() => decodeReceipt(bytes.subarray(0, n)), { instanceOf: ReceiptDecodeError });
    t.regex(err.message, /truncated|missing receipt key/, `prefix of ${n} bytes`);
  }
});

test('decodeDeterministic rejects the same CBOR-level defects', (t) => {
  for (const [bad, wantErr] of [
    ['1817', /non-shortest/],
    ['a2616201616102', /out of order/],
    ['f93c00', /floating-point/],
    ['c100', /tag 1/],
    ['0000', /trailing bytes: 1 byte\(s\) after the data item/],
  ] as const) {
    const err = t.throws(() => decodeDeterministic(unhex(bad)), { instanceOf: ReceiptDecodeError });
    t.regex(err.message, wantErr);
  }
});

// ---------------------------------------------------------------------------------------------------------
// Encoding errors name the path.

const ENCODE_ERRORS: { desc: string; run: () => unknown; wantErr: RegExp }[] = [
  { desc: 'float in body', run: () => encodeReceipt({ ...MINIMAL, body: { usage: { ratio: 0.5 } } }), wantErr: /^body\.usage\.ratio: 0\.5 is not an integer: floats are not allowed/ },
  { desc: 'NaN', run: () => encodeDeterministic({ a: [Number.NaN] }), wantErr: /^value\.a\[0\]: NaN is not an integer/ },
  { desc: 'Infinity', run: () => encodeDeterministic(Number.POSITIVE_INFINITY), wantErr: /Infinity is not an integer/ },
  { desc: 'unsafe number', run: () => encodeDeterministic({ n: 2 ** 53 }), wantErr: /^value\.n: 9007199254740992 is beyond ±\(2\^53-1\): pass integers that large as a BigInt/ },
  { desc: 'BigInt past 2^64-1', run: () => encodeDeterministic(2n ** 64n), wantErr: /outside \[-2\^63, 2\^64-1\]/ },
  { desc: 'BigInt below -2^63', run: () => encodeDeterministic(-(2n ** 63n) - 1n), wantErr: /outside \[-2\^63, 2\^64-1\]/ },
  { desc: 'undefined', run: () => encodeDeterministic({ a: undefined } as unknown as CborValue), wantErr: /^value\.a: undefined cannot be written/ },
  { desc: 'Date', run: () => encodeDeterministic({ at: new Date(0) } as unknown as CborValue), wantErr: /^value\.at: a Date cannot be written/ },
  { desc: 'Map', run: () => encodeDeterministic(new Map() as unknown as CborValue), wantErr: /a Map cannot be written/ },
  { desc: 'lone surrogate', run: () => encodeDeterministic({ s: '\ud800' }), wantErr: /^value\.s: text has a lone UTF-16 surrogate/ },
  { desc: 'lone surrogate key', run: () => encodeDeterministic({ '\udc00': 1 }), wantErr: /lone UTF-16 surrogate/ },
  { desc: 'v = 2', run: () => encodeReceipt({ ...MINIMAL, v: 2 as 1 }), wantErr: /^v: must be 1, got 2/ },
  { desc: 'bad kind', run: () => encodeReceipt({ ...MINIMAL, kind: 'bogus' as 'decision' }), wantErr: /^kind: unknown receipt kind "bogus"/ },
  { desc: 'fractional time', run: () => encodeReceipt({ ...MINIMAL, time: 1.5 }), wantErr: /^time: must be an unsigned safe integer, got 1\.5/ },
  { desc: 'negative index', run: () => encodeReceipt({ ...MINIMAL, index: -1 }), wantErr: /^index: must be an unsigned safe integer/ },
  { desc: 'short prev', run: () => encodeReceipt({ ...MINIMAL, prev: new Uint8Array(31) }), wantErr: /^prev: must be 32 bytes, got 31 bytes/ },
  { desc: 'non-zero prev at index 0', run: () => encodeReceipt({ ...MINIMAL, prev: new Uint8Array(32).fill(1) }), wantErr: /^prev: must be 32 zero bytes at index 0/ },
  { desc: 'hole in a sparse array', run: () => encodeDeterministic([1, , 3] as CborValue), wantErr: /^value\[1\]: undefined cannot be written/ }, // eslint-disable-line no-sparse-arrays
  { desc: 'nesting past the decoder limit', run: () => encodeReceipt({ ...MINIMAL, body: { a: nest(63) } }), wantErr: /^body\.a(\[0\])+: nesting deeper than 64 levels/ },
  { desc: 'body array', run: () => encodeReceipt({ ...MINIMAL, body: [] as unknown as Receipt['body'] }), wantErr: /^body: must be a plain object/ },
];

/** `depth` arrays nested in one another around 0. */
function nest(depth: number): CborValue {
  let value: CborValue = 0;
  for (let i = 0; i < depth; i++) value = [value];
  return value;
}

test('the deepest body the encoder writes is the deepest the decoder reads', (t) => {
  const deepest: Receipt = { ...MINIMAL, body: { a: nest(62) } }; // body at depth 1, arrays at depths 2-63
  t.deepEqual(decodeReceipt(encodeReceipt(deepest)), deepest);
  t.notThrows(() => cbor2Strict(encodeReceipt(deepest)));
});

for (const { desc, run, wantErr } of ENCODE_ERRORS) {
  test(`encode rejects: ${desc}`, (t) => {
    const err = t.throws(run, { instanceOf: ReceiptEncodeError });
    t.regex(err.message, wantErr);
  });
}

// ---------------------------------------------------------------------------------------------------------
// Why the encoder is hand-written: cbor-x, configured as design §5 says, is not deterministic for these.

test('cbor-x diverges from deterministic CBOR where we do not', (t) => {
  const cborX = new Encoder({ variableMapSize: true, useRecords: false, tagUint8Array: false, structuredClone: false });
  const divergences: [CborValue | Map<string, number>, string, string][] = [
    [2 ** 32, 'fb41f0000000000000', '1b0000000100000000'], // cbor-x: float64; deterministic: 8-byte uint
    [1n, '1b0000000000000001', '01'], // cbor-x: bigint always 9 bytes
    [new Map([['a', 1]]), 'd90103a1616101', 'a1616101'], // cbor-x: tag 259 on Maps by default
    [{ aa: 1, b: 2 }, 'a2626161016162 02'.replace(/ /g, ''), 'a2616202626161 01'.replace(/ /g, '')], // property order kept
  ];
  for (const [value, fromCborX, ours] of divergences) {
    t.is(hex(cborX.encode(value)), fromCborX);
    const mine = value instanceof Map ? encodeDeterministic(Object.fromEntries(value) as CborValue) : encodeDeterministic(value);
    t.is(hex(mine), ours);
    t.notThrows(() => cbor2Strict(mine));
  }
});

// ---------------------------------------------------------------------------------------------------------
// Bodies (bodies.ts): builders give maps that encode under the no-float rule.

test('reconcile body vector: merge-patch null stays null, a fractional number becomes decimal text', (t) => {
  const body = reconcileBody({
    resource: 'Tenant/acme',
    generation: 3,
    specDigest: 'cd'.repeat(32),
    patch: { features: { sso: null, ratio: 0.5 }, quotas: { 'api-calls': { limit: 2000 } }, dropped: undefined },
  });
  t.deepEqual(body.patch, { features: { sso: null, ratio: '0.5' }, quotas: { 'api-calls': { limit: 2000 } } });
  const want = [
    'a4', // map of 4; keys by encoded bytes: patch (5) < resource (8) < generation (10) < specDigest (10)
    '65 7061746368', // "patch":
    'a2', //   keys: quotas (6) < features (8)
    '66 71756f746173 a1 69 6170692d63616c6c73 a1 65 6c696d6974 19 07d0', // "quotas": {"api-calls": {"limit": 2000}}
    '68 6665617475726573 a2', // "features": map of 2, "sso" (3) < "ratio" (5)
    '63 73736f f6', // "sso": null (RFC 7396: remove the member)
    '65 726174696f 63 302e35', // "ratio": "0.5"
    '68 7265736f75726365 6b 54656e616e742f61636d65', // "resource": "Tenant/acme"
    '6a 67656e65726174696f6e 03', // "generation": 3
    `6a 73706563446967657374 5820 ${'cd'.repeat(32)}`, // "specDigest": bstr 32
  ]
    .join('')
    .replace(/\s+/g, '');
  const bytes = encodeDeterministic(body);
  t.is(hex(bytes), want);
  t.notThrows(() => cbor2Strict(bytes));
});

test('reconcile body: no change is the empty merge patch {}', (t) => {
  t.deepEqual(reconcileBody({ resource: 'SKU/growth', generation: 1, specDigest: '00'.repeat(32), patch: undefined }).patch, {});
});

test('decision body: optional fields are left out, digests become 32 bytes', (t) => {
  const body = decisionBody({ tenant: 'ghost', op: 'check', subject: 'sso', allowed: false, reason: 'UnknownTenant' });
  t.deepEqual(Object.keys(body).sort(), ['allowed', 'op', 'reason', 'subject', 'tenant']);
  const withKey = decisionBody({ ...DECISION_INPUT, idempotencyKey: 'req-1' });
  t.is(withKey.idempotencyKey, 'req-1');
  t.deepEqual(withKey.policyDigest, new Uint8Array(32).fill(0xab));
});

const DECISION_INPUT = { tenant: 'acme', op: 'consume', subject: 'api-calls', amount: 5, allowed: true, reason: 'Allowed', used: 42, limit: 1000, policyDigest: 'AB'.repeat(32) } as const;

test('threshold and lifecycle bodies', (t) => {
  const threshold = thresholdBody({ tenant: 'acme', metric: 'api-calls', threshold: 90, percent: 95, used: 950, limit: 1000, windowStart: null });
  t.deepEqual(threshold, { tenant: 'acme', metric: 'api-calls', threshold: 90, percent: 95, used: 950, limit: 1000, windowStart: null });
  // {"event": "start", "version": "0.1.0"}: "event" (5) before "version" (7)
  t.is(hex(encodeDeterministic(lifecycleBody({ event: 'start', version: '0.1.0' }))), 'a2 656576656e74 657374617274 6776657273696f6e 65302e312e30'.replace(/\s+/g, ''));
});

for (const { desc, run, wantErr } of [
  { desc: 'fractional amount', run: () => decisionBody({ ...DECISION_INPUT, amount: 1.5 }), wantErr: /^amount: must be a whole number .* got 1\.5 \(receipts hold no floats\)/ },
  { desc: 'short policy digest', run: () => decisionBody({ ...DECISION_INPUT, policyDigest: 'abc' }), wantErr: /^policyDigest: must be a hex SHA-256 digest \(64 hex digits\), got "abc"/ },
  { desc: 'resource without a kind', run: () => reconcileBody({ resource: 'acme', generation: 1, specDigest: '00'.repeat(32), patch: {} }), wantErr: /^resource: must be Kind\/name/ },
  { desc: 'negative generation', run: () => reconcileBody({ resource: 'Tenant/a', generation: -1, specDigest: '00'.repeat(32), patch: {} }), wantErr: /^generation: must not be negative/ },
  { desc: 'non-JSON value in a patch', run: () => reconcileBody({ resource: 'Tenant/a', generation: 1, specDigest: '00'.repeat(32), patch: { at: new Date(0) } }), wantErr: /^patch\.at: a Date is not a JSON value/ },
  { desc: 'Infinity in a patch', run: () => jsonToCbor({ n: [Infinity] }, 'patch'), wantErr: /^patch\.n\[0\]: Infinity is not a JSON number/ },
  { desc: 'lifecycle event', run: () => lifecycleBody({ event: 'pause' as 'start', version: '1' }), wantErr: /^event: must be "start" or "stop", got "pause"/ },
  { desc: 'fractional windowStart', run: () => thresholdBody({ tenant: 'a', metric: 'm', threshold: 90, percent: 90, used: 9, limit: 10, windowStart: 0.5 }), wantErr: /^windowStart: must be a whole number/ },
]) {
  test(`body builders reject: ${desc}`, (t) => {
    const err = t.throws(run, { instanceOf: ReceiptEncodeError });
    t.regex(err.message, wantErr);
  });
}

test('jsonToCbor: unsafe integers and fractions become text, -0 becomes 0, "__proto__" stays a key', (t) => {
  const numbers = [2 ** 60, 1e-7, -0, 0.1 + 0.2];
  const converted = jsonToCbor(numbers, 'p') as CborValue[];
  t.deepEqual(converted, ['1152921504606847000', '1e-7', 0, '0.30000000000000004']); // String(n): shortest round trip
  t.deepEqual(converted.map(Number), numbers.map((n) => n + 0));
  const patched = jsonToCbor(JSON.parse('{"__proto__": {"x": 1}}'), 'p') as Record<string, unknown>;
  t.deepEqual(Object.keys(patched), ['__proto__']);
  t.is(Object.getPrototypeOf(patched), Object.prototype);
  t.is(hex(encodeDeterministic(patched as CborValue)), 'a1695f5f70726f746f5f5fa1617801');
});
