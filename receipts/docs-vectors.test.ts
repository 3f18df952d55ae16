/**
 * Keeps docs/receipts.md honest: every block marked `<!-- vector: NAME -->` is recomputed from the code — receipts
 * re-encoded from the values the page describes, hashes recomputed, the checkpoint re-signed and verified, and
 * the output of every shell command the page shows recomputed in JS. A change to the log format fails here until
 * the page is updated (the failure prints the bytes the code now gives).
 */
import test, { type ExecutionContext } from 'ava';
import { hash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { reconcileBody, decisionBody, lifecycleBody } from './bodies.ts';
import { decodeDeterministic, decodeReceipt, encodeDeterministic } from './cbor.ts';
import { verifyCheckpoint, signCheckpoint } from './checkpoint.ts';
import { decodeInclusionReceipt, issueInclusionReceipt, matchCheckpoint, verifyInclusionReceipt } from './cose-receipt.ts';
import { hashChildren, hashLeaf, toHex } from './merkle-hash.ts';
import { RECEIPT_FIELDS, ReceiptDecodeError, type CborValue } from './receipt.ts';
import { ReceiptChain } from './receipt-chain.ts';
import { generateNoteKey, noteKeyId, NoteError, parseSignerKey, parseVerifierKey } from './signed-note.ts';
import { TileBuilder } from './tile-builder.ts';
import { decodeEntryBundle } from './tlog-tiles.ts';
import { verifyLog } from './verify-log.ts';

const DOC_PATH = new URL('../docs/receipts.md', import.meta.url);
const ORIGIN = 'tai.dev/embedded/example';
const SEED = new Uint8Array(32).fill(0x07);
/** 2026-06-15T12:00:00Z in microseconds, the time of entry 0; entry 1 is 1 ms later. */
const T0 = Date.parse('2026-06-15T12:00:00Z') * 1000;

// ---- the page ----

interface Vector {
  lang: string;
  text: string;
}

/** Every `<!-- vector: NAME -->` and the fenced block right after it. */
function readVectors(): { vectors: Map<string, Vector>; names: string[] } {
  const doc = readFileSync(DOC_PATH, 'utf8');
  const names: string[] = [];
  const vectors = new Map<string, Vector>();
  for (const m of doc.matchAll(/^<!-- vector: ([a-z0-9-]+) -->\n```([a-z]*)\n([\s\S]*?)\n```/gm)) {
    names.push(m[1]!);
    vectors.set(m[1]!, { lang: m[2]!, text: m[3]! });
  }
  const markers = [...doc.matchAll(/^<!-- vector: /gm)].length;
  if (markers !== names.length) throw new Error(`docs/receipts.md: ${markers} vector markers but ${names.length} followed by a fenced block`);
  return { vectors, names };
}

const { vectors, names } = readVectors();

function vector(name: string): Vector {
  const v = vectors.get(name);
  if (v === undefined) throw new Error(`docs/receipts.md has no vector ${JSON.stringify(name)}`);
  return v;
}

/** The bytes of a hex block: `#` comments and white space removed. */
function hexOf(name: string): string {
  return vector(name)
    .text.split('\n')
    .map((line) => line.replace(/#.*$/, ''))
    .join('')
    .replace(/\s+/g, '');
}

const bytesOf = (name: string): Uint8Array => new Uint8Array(Buffer.from(hexOf(name), 'hex'));

/** A listing line as [hex, comment], white space normalised, so column widths do not matter. */
const normalise = (line: string): [string, string] => {
  const at = line.indexOf('#');
  const hex = (at < 0 ? line : line.slice(0, at)).replace(/\s+/g, '');
  return [hex, at < 0 ? '' : line.slice(at + 1).trim()];
};

// ---- the annotated listings (the page's listings were written by this function) ----

const ARG_FORM = ['', '', ', argument in 1 byte', ', argument in 2 bytes', '', ', argument in 4 bytes', '', '', '', ', argument in 8 bytes'];
const SIMPLE: Record<number, string> = { 20: 'false', 21: 'true', 22: 'null' };

interface Head {
  major: number;
  info: number;
  arg: number | bigint;
  size: number;
}

function readHead(b: Uint8Array, at: number): Head {
  const major = b[at]! >> 5;
  const info = b[at]! & 0x1f;
  if (info < 24) return { major, info, arg: info, size: 1 };
  const n = 1 << (info - 24);
  const view = new DataView(b.buffer, b.byteOffset + at + 1, n);
  const arg = n === 1 ? view.getUint8(0) : n === 2 ? view.getUint16(0) : n === 4 ? view.getUint32(0) : view.getBigUint64(0);
  return { major, info, arg, size: 1 + n };
}

interface Annotated {
  lines: string[];
  end: number;
}

const hexBytes = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const listingLine = (depth: number, hex: string, comment: string): string => `${`${'  '.repeat(depth)}${hex}`.padEnd(76)}  # ${comment}`;

/** One CBOR item of the receipt subset as listing lines: each head (and string payload) with what it means. */
function annotateItem(b: Uint8Array, at: number, depth: number, label: string): Annotated {
  const h = readHead(b, at);
  const head = hexBytes(b.subarray(at, at + h.size));
  const form = ARG_FORM[h.size]!;
  const n = Number(h.arg);
  const start = at + h.size;
  if (h.major === 0) return { lines: [listingLine(depth, head, `${label}uint ${h.arg}${form}`)], end: start };
  if (h.major === 1) return { lines: [listingLine(depth, head, `${label}negative int ${-1n - BigInt(h.arg)}${form}`)], end: start };
  if (h.major === 7) return { lines: [listingLine(depth, head, `${label}${SIMPLE[h.info]}`)], end: start };
  if (h.major === 2 || h.major === 3) {
    const payload = b.subarray(start, start + n);
    const what = h.major === 2 ? `bytes(${n})` : `text(${n}) ${JSON.stringify(Buffer.from(payload).toString('utf8'))}`;
    return { lines: [listingLine(depth, `${head} ${hexBytes(payload)}`.trimEnd(), `${label}${what}${form}`)], end: start + n };
  }
  if (h.major === 4) return annotateArray(b, { at: start, count: n, depth }, listingLine(depth, head, `${label}array(${n})${form}`));
  return annotateMap(b, { at: start, count: n, depth }, listingLine(depth, head, `${label}map(${n})${form}`));
}

function annotateArray(b: Uint8Array, c: { at: number; count: number; depth: number }, first: string): Annotated {
  const lines = [first];
  let at = c.at;
  for (let i = 0; i < c.count; i++) {
    const item = annotateItem(b, at, c.depth + 1, `[${i}] `);
    lines.push(...item.lines);
    at = item.end;
  }
  return { lines, end: at };
}

function annotateMap(b: Uint8Array, c: { at: number; count: number; depth: number }, first: string): Annotated {
  const lines = [first];
  let at = c.at;
  for (let i = 0; i < c.count; i++) {
    const keyHead = readHead(b, at);
    const field = keyHead.major === 0 ? RECEIPT_FIELDS[Number(keyHead.arg)]! : Buffer.from(b.subarray(at + keyHead.size, at + keyHead.size + Number(keyHead.arg))).toString('utf8');
    const key = annotateItem(b, at, c.depth + 1, keyHead.major === 0 ? `key ${field}: ` : 'key: ');
    const value = annotateItem(b, key.end, c.depth + 1, `${field} = `);
    lines.push(...key.lines, ...value.lines);
    at = value.end;
  }
  return { lines, end: at };
}

function annotate(bytes: Uint8Array): string[] {
  const { lines, end } = annotateItem(bytes, 0, 0, '');
  if (end !== bytes.length) throw new Error(`annotate: ${bytes.length - end} trailing bytes`);
  return lines;
}

// ---- what the page describes, built with the code ----

function exampleLog() {
  const chain = new ReceiptChain();
  const tiles = new TileBuilder();
  const e0 = chain.append('lifecycle', lifecycleBody({ event: 'start', version: '0.1.0' }), T0);
  const e1 = chain.append(
    'decision',
    decisionBody({
      tenant: 'acme', op: 'consume', subject: 'api-calls', amount: 1, allowed: true, reason: 'Allowed', used: 42, limit: 1000,
      policyDigest: hash('sha256', 'acme policy'), windowStart: Date.parse('2026-06-01T00:00:00Z'), resetsAt: '2026-07-01T00:00:00Z',
    }),
    T0 + 1000,
  );
  tiles.add(e0);
  tiles.add(e1);
  const files = new Map(tiles.drain().map((f) => [f.path, f.bytes]));
  const key = generateNoteKey(ORIGIN, SEED);
  const note = signCheckpoint({ origin: ORIGIN, size: 2, root: chain.root() }, key.signerKey);
  return { e0, e1, root: chain.root(), files, key, note };
}

const log = exampleLog();
const sha256Hex = (hex: string): string => hash('sha256', Buffer.from(hex, 'hex'));

/** The vectors this test checks; the page must have exactly these. */
const CHECKED = [
  'value-encodings', 'rejected-encodings', 'reconcile-body', 'minimal-receipt', 'minimal-receipt-leaf-hash', 'decision-receipt',
  'decision-receipt-leaf-hash', 'tree-root-2', 'shell-hashes', 'entry-bundle-2', 'hash-tile-0-2', 'note-keys', 'shell-key-id', 'checkpoint-note',
  'cose-receipt-1',
];

test('every vector on the page is checked here, each appears once', (t) => {
  t.deepEqual([...names].sort(), [...CHECKED].sort());
});

/** A value written in the page's table: an integer, h'…' bytes, or JSON. */
function parseValue(text: string): CborValue {
  if (/^-?\d+$/.test(text)) {
    const n = BigInt(text);
    return n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n;
  }
  const bytes = /^h'([0-9a-f]*)'$/.exec(text);
  if (bytes) return new Uint8Array(Buffer.from(bytes[1]!, 'hex'));
  return JSON.parse(text) as CborValue;
}

test('value-encodings: each value encodes to exactly the bytes shown, and they decode back to it', (t) => {
  const lines = vector('value-encodings').text.split('\n');
  t.true(lines.length >= 20);
  for (const line of lines) {
    const m = /^(.*\S)\s+([0-9a-f]+)$/.exec(line);
    if (!m) return void t.fail(`unparsable line ${JSON.stringify(line)}`);
    const value = parseValue(m[1]!);
    t.is(toHex(encodeDeterministic(value)), m[2]!, m[1]!);
    t.deepEqual(decodeDeterministic(new Uint8Array(Buffer.from(m[2]!, 'hex'))), value, m[1]!);
  }
});

test('rejected-encodings: the strict decoder refuses every one', (t) => {
  const lines = vector('rejected-encodings').text.split('\n');
  t.true(lines.length >= 20);
  for (const line of lines) {
    const [hex, why] = normalise(line);
    t.throws(() => decodeDeterministic(new Uint8Array(Buffer.from(hex, 'hex'))), { instanceOf: ReceiptDecodeError }, `${hex}: ${why}`);
  }
});

/** A listing must be the bytes the code writes, and its comments what `annotate` says they are. */
function checkListing(t: ExecutionContext, name: string, bytes: Uint8Array): void {
  t.is(hexOf(name), toHex(bytes), `${name}: bytes`);
  t.deepEqual(vector(name).text.split('\n').map(normalise), annotate(bytes).map(normalise), `${name}: annotations`);
}

test('reconcile-body: the described body encodes to the listing', (t) => {
  const body = reconcileBody({ resource: 'Tenant/acme', generation: 3, specDigest: hash('sha256', 'acme spec'), patch: { features: { 'max-projects': 10, sso: null, ratio: 0.5 } } });
  checkListing(t, 'reconcile-body', encodeDeterministic(body));
  t.deepEqual(decodeDeterministic(bytesOf('reconcile-body')), body);
});

test('minimal-receipt and decision-receipt: the two entries as the chain writes them, annotated', (t) => {
  checkListing(t, 'minimal-receipt', log.e0.bytes);
  checkListing(t, 'decision-receipt', log.e1.bytes);
  const r0 = decodeReceipt(bytesOf('minimal-receipt'));
  t.like(r0, { v: 1, kind: 'lifecycle', index: 0, time: T0, body: { event: 'start', version: '0.1.0' } });
  t.is(toHex(r0.prev), '00'.repeat(32));
  const r1 = decodeReceipt(bytesOf('decision-receipt'));
  t.like(r1, { v: 1, kind: 'decision', index: 1, time: T0 + 1000, body: { tenant: 'acme', used: 42, limit: 1000, windowStart: 1_780_272_000_000 } });
  t.is(toHex(r1.prev), hexOf('minimal-receipt-leaf-hash'), 'entry 1 chains to entry 0');
});

test('leaf hashes and the root of the 2-entry tree', (t) => {
  const l0 = hashLeaf(bytesOf('minimal-receipt'));
  const l1 = hashLeaf(bytesOf('decision-receipt'));
  t.is(hexOf('minimal-receipt-leaf-hash'), toHex(l0));
  t.is(hexOf('decision-receipt-leaf-hash'), toHex(l1));
  t.is(hexOf('tree-root-2'), toHex(hashChildren(l0, l1)));
  t.is(hexOf('tree-root-2'), toHex(log.root));
});

test('shell-hashes: each `echo HEX | xxd -r -p | sha256sum` prints what the page says, and hashes what it should', (t) => {
  const lines = vector('shell-hashes').text.split('\n');
  const want = [
    { input: `00${toHex(log.e0.bytes)}`, output: toHex(log.e0.leafHash) },
    { input: `00${toHex(log.e1.bytes)}`, output: toHex(log.e1.leafHash) },
    { input: `01${toHex(log.e0.leafHash)}${toHex(log.e1.leafHash)}`, output: toHex(log.root) },
  ];
  t.is(lines.length, 2 * want.length);
  want.forEach((w, i) => {
    const command = /^\$ echo ([0-9a-f]+) \| xxd -r -p \| sha256sum$/.exec(lines[2 * i]!);
    const printed = /^([0-9a-f]{64}) {2}-$/.exec(lines[2 * i + 1]!);
    t.truthy(command, `command ${i + 1}`);
    t.truthy(printed, `output ${i + 1}`);
    t.is(command?.[1], w.input, `command ${i + 1} hashes the right bytes`);
    t.is(printed?.[1], sha256Hex(command?.[1] ?? ''), `command ${i + 1}: sha256sum would print this`);
    t.is(printed?.[1], w.output);
  });
});

test('entry-bundle-2 and hash-tile-0-2: the published files of the 2-entry log', (t) => {
  t.deepEqual([...log.files.keys()], ['tile/entries/000.p/2', 'tile/0/000.p/2']);
  t.is(hexOf('entry-bundle-2'), toHex(log.files.get('tile/entries/000.p/2')!));
  t.is(hexOf('hash-tile-0-2'), toHex(log.files.get('tile/0/000.p/2')!));
  const entries = decodeEntryBundle(bytesOf('entry-bundle-2'), 2);
  t.deepEqual(entries.map(toHex), [hexOf('minimal-receipt'), hexOf('decision-receipt')]);
  t.is(hexOf('hash-tile-0-2'), hexOf('minimal-receipt-leaf-hash') + hexOf('decision-receipt-leaf-hash'));
});

test('note-keys and shell-key-id: the test key from seed 32 × 0x07 and its key ID', (t) => {
  const [signer, verifier] = vector('note-keys').text.split('\n').map((line) => line.split(/\s+/).at(-1));
  t.is(signer, log.key.signerKey);
  t.is(verifier, log.key.verifierKey);
  const [command, printed] = vector('shell-key-id').text.split('\n');
  const m = /^\$ \(printf '([^']+)\\n'; echo ([A-Za-z0-9+/=]+) \| base64 -d\) \| sha256sum \| cut -c1-8$/.exec(command ?? '');
  if (!m) return void t.fail(`unparsable command ${JSON.stringify(command)}`);
  t.is(m[1], ORIGIN);
  t.is(m[2], log.key.verifierKey.split('+')[2]);
  const keyBytes = Buffer.from(m[2]!, 'base64');
  const shellOutput = hash('sha256', Buffer.concat([Buffer.from(`${m[1]}\n`), keyBytes])).slice(0, 8);
  t.is(printed, shellOutput, 'sha256sum | cut -c1-8 would print this');
  t.is(printed, noteKeyId(ORIGIN, keyBytes).toString(16).padStart(8, '0'));
  t.is(printed, log.key.verifierKey.split('+')[1]);
});

test('checkpoint-note: exactly what TAI signs for the 2-entry tree, and it verifies with the pinned key', (t) => {
  const note = `${vector('checkpoint-note').text}\n`;
  t.is(note, log.note);
  const { checkpoint } = verifyCheckpoint(note, log.key.verifierKey, ORIGIN);
  t.is(checkpoint.size, 2);
  t.is(toHex(checkpoint.root), hexOf('tree-root-2'));
  const forged = note.replace('\n2\n', '\n3\n');
  t.throws(() => verifyCheckpoint(forged, log.key.verifierKey), { instanceOf: NoteError, message: /InvalidSignature/ });
  const other = generateNoteKey(ORIGIN, new Uint8Array(32).fill(0x08));
  t.throws(() => verifyCheckpoint(note, other.verifierKey), { instanceOf: NoteError, message: /UnverifiedNote/ });
});

test('the page\'s files, as a published log, pass verifyLog; a flipped entry byte does not', async (t) => {
  const files = new Map<string, Uint8Array>([
    ['checkpoint', new TextEncoder().encode(`${vector('checkpoint-note').text}\n`)],
    ['tile/entries/000.p/2', bytesOf('entry-bundle-2')],
    ['tile/0/000.p/2', bytesOf('hash-tile-0-2')],
  ]);
  const ok = await verifyLog({ read: async (p) => files.get(p), verifierKey: log.key.verifierKey });
  t.true(ok.ok, JSON.stringify(ok.defects));
  t.is(ok.entries, 2);
  const bundle = Uint8Array.from(files.get('tile/entries/000.p/2')!);
  bundle[2 + 89 + 2 + 40]! ^= 0x01; // inside entry 1's prev
  files.set('tile/entries/000.p/2', bundle);
  const bad = await verifyLog({ read: async (p) => files.get(p), verifierKey: log.key.verifierKey });
  t.false(bad.ok);
  t.is(bad.defects[0]?.index, 1);
});

test('cose-receipt-1: the receipt for entry 1 of the 2-entry log is exactly these bytes, and proves what §10 says', (t) => {
  const signer = parseSignerKey(log.key.signerKey);
  const kid = Buffer.from(signer.keyId.toString(16).padStart(8, '0'), 'hex');
  const receipt = issueInclusionReceipt({ treeSize: 2, leafIndex: 1, path: [log.e0.leafHash], root: log.root, privateKey: signer.privateKey, kid });
  t.is(hexOf('cose-receipt-1'), toHex(receipt));
  t.like(decodeInclusionReceipt(bytesOf('cose-receipt-1')), { treeSize: 2, leafIndex: 1, alg: -8, vds: 1 });
  const verified = verifyInclusionReceipt({ receipt: bytesOf('cose-receipt-1'), entry: log.e1.bytes, publicKey: parseVerifierKey(log.key.verifierKey).publicKey, keyId: kid });
  t.is(toHex(verified.root), hexOf('tree-root-2'));
  t.notThrows(() => matchCheckpoint(verified, verifyCheckpoint(log.note, log.key.verifierKey).checkpoint));
  t.throws(() => matchCheckpoint(verified, { size: 3, root: log.root }), { message: /SizeMismatch/ });
});
