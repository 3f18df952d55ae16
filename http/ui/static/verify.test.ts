// The browser verifier (verify.js) in Node, which has the same WebCrypto: against the RFC 9162 vectors, the
// signed checkpoint of docs/receipts.md, the server's own proof builder over trees up to the second tile level,
// and a real published log served by logApi — including every way the server could lie. Also that tsc checks
// the browser modules with the DOM's types.
import test from 'ava';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { generateNoteKey } from '../../../receipts/signed-note.ts';
import { hashTile, parseTilePath } from '../../../receipts/tlog-tiles.ts';
import { inclusionProof, nodeAtFromLeaves, treeRoot } from '../../../receipts/proofs.ts';
import { fromHex, toHex as hex } from '../../../receipts/merkle-hash.ts';
import { fixtureLog } from '../../../test/support/log-fixture.ts';
import { logApi } from '../../log-api.ts';
import {
  decodeBase64Strict,
  httpLogReader,
  inclusionProofFromTiles,
  leafHash,
  openCheckpoint,
  parseReceipt,
  parseVerifierKey,
  rootFromInclusionProof,
  tilePath,
  verifyReceipt,
  VerifyError,
} from './verify.js';

const ROOT = join(import.meta.dirname, '../../..');

interface InclusionVector {
  desc: string;
  index: number;
  size: number;
  leafHash: string;
  proof: string[];
  root: string;
  wantErr: boolean;
}
const vectors = JSON.parse(readFileSync(join(ROOT, 'receipts/testdata/merkle-vectors.json'), 'utf8')) as {
  leaves: { input: string; leafHash: string }[];
  inclusion: InclusionVector[];
};

/** The fenced block after `<!-- vector: NAME -->` in docs/receipts.md. */
function docVector(name: string): string {
  const doc = readFileSync(join(ROOT, 'docs/receipts.md'), 'utf8');
  const m = new RegExp(`^<!-- vector: ${name} -->\\n\`\`\`[a-z]*\\n([\\s\\S]*?)\\n\`\`\``, 'm').exec(doc);
  if (!m) throw new Error(`docs/receipts.md has no vector ${name}`);
  return m[1]!;
}

const DOC_NOTE = `${docVector('checkpoint-note')}\n`;
const DOC_VKEY = /verifier key: (\S+)/.exec(docVector('note-keys'))![1]!;

/** Runs `fn` and returns the VerifyError it rejects with; fails on success or any other error. */
async function refused(fn: () => Promise<unknown> | unknown): Promise<VerifyError> {
  try {
    await fn();
  } catch (e) {
    if (e instanceof VerifyError) return e;
    throw new Error(`not a VerifyError: ${String(e)}`, { cause: e });
  }
  throw new Error('accepted');
}

test('leaf hashes and inclusion proofs: the RFC 9162 vectors of receipts/testdata', async (t) => {
  for (const l of vectors.leaves) t.is(hex(await leafHash(fromHex(l.input))), l.leafHash);
  for (const v of vectors.inclusion) {
    const check = { index: v.index, size: v.size, leafHash: fromHex(v.leafHash), proof: v.proof.map(fromHex) };
    if (!v.wantErr) {
      t.is(hex(await rootFromInclusionProof(check)), v.root, v.desc);
      continue;
    }
    // A bad proof is refused as malformed, or yields another root: never the one it claims.
    const got = await rootFromInclusionProof(check).then(hex, (e: unknown) => (e instanceof VerifyError ? e.code : `threw ${String(e)}`));
    t.true(got === 'BadProof' || (got.length === 64 && got !== v.root), `${v.desc}: ${got}`);
  }
});

test('the signed checkpoint of docs/receipts.md opens with its verifier key, and not with another', async (t) => {
  const key = await parseVerifierKey(DOC_VKEY);
  t.is(key.keyId, 0x84c33ab0);
  const cp = await openCheckpoint(DOC_NOTE, key);
  t.is(cp.origin, 'tai.dev/embedded/example');
  t.is(cp.size, 2);
  t.is(hex(cp.root), hex(decodeBase64Strict('+J37d0yCHO03muuxbBMtqlspXW+xJsYIUZRmC5N0heo=')!));

  const other = await parseVerifierKey(generateNoteKey('tai.dev/embedded/example', new Uint8Array(32).fill(8)).verifierKey);
  const wrong = await refused(() => openCheckpoint(DOC_NOTE, other));
  t.is(wrong.code, 'NoPinnedSignature');
  t.is(wrong.check, 'signature');
  t.regex(wrong.message, /no signature by the pinned key tai\.dev\/embedded\/example\+[0-9a-f]{8} \(found: tai\.dev\/embedded\/example\+84c33ab0\)/);
  // Same name and key ID, text changed: the signature itself fails.
  t.is((await refused(() => openCheckpoint(DOC_NOTE.replace('\n2\n', '\n3\n'), key))).code, 'InvalidSignature');
});

test('a verifier key or receipt that is not well-formed is refused naming the field', async (t) => {
  const [name, id, key64] = DOC_VKEY.split('+') as [string, string, string];
  for (const [bad, why] of [
    ['', /want <name>/],
    [`${name}+${id}`, /want <name>/],
    [`${name}+${id.toUpperCase()}+${key64}`, /want <name>/],
    [`${name}+00000000+${key64}`, /key ID 00000000 is not the key's \(84c33ab0\)/],
    [`${name}+${id}+${key64.slice(0, -4)}`, /32/],
    [`${name}+${id}+E${key64.slice(1)}`, /algorithm byte 0x11/],
    [`${name}+${id}+${key64}=`, /base64/],
  ] as const) {
    const e = await refused(() => parseVerifierKey(bad));
    t.is(e.code, 'BadKey', bad);
    t.regex(e.message, why, bad);
  }
  t.deepEqual(parseReceipt(' 42 '), { index: 42 });
  const leaf = 'AB'.repeat(32);
  t.deepEqual(parseReceipt(JSON.stringify({ allowed: true, receipt: { index: 3, leafHash: leaf } })), { index: 3, leafHash: leaf.toLowerCase() });
  t.deepEqual(parseReceipt(JSON.stringify({ index: 0, leafHash: leaf, origin: 'o' })), { index: 0, leafHash: leaf.toLowerCase(), origin: 'o' });
  for (const bad of ['', '-1', '1.5', '{', '[]', 'null', '{"index": -1}', '{"index": 1e300}', '{"index": 1, "leafHash": "00"}', '{"index": 1, "origin": ""}']) {
    t.is((await refused(() => parseReceipt(bad))).code, 'BadReceipt', bad);
  }
});

test('tile paths are those of C2SP tlog-tiles', (t) => {
  t.is(tilePath(0, 0, 256), 'tile/0/000');
  t.is(tilePath(1, 1234067, 8), 'tile/1/x001/x234/067.p/8');
  t.is(tilePath('entries', 1000, 256), 'tile/entries/x001/000');
});

/** A ReadLogFile that builds hash tiles from leaf hashes in memory, as the server's tile builder would. */
function memoryTiles(leaves: readonly Uint8Array[]): { read: (path: string) => Promise<Uint8Array<ArrayBuffer>>; reads: string[] } {
  const nodeAt = nodeAtFromLeaves(leaves);
  const reads: string[] = [];
  const read = (path: string): Promise<Uint8Array<ArrayBuffer>> => {
    reads.push(path);
    const ref = parseTilePath(path);
    if (ref.kind !== 'hash') throw new Error(`not a hash tile: ${path}`);
    return Promise.resolve(new Uint8Array(hashTile(ref.level, ref.index, ref.width, nodeAt)));
  };
  return { read, reads };
}

test('proofs built from hash tiles are the server proof builder’s, across tile levels and partial tiles', async (t) => {
  t.timeout(120_000);
  const leaves = Array.from({ length: 70_000 }, () => new Uint8Array(randomBytes(32)));
  for (const size of [1, 2, 3, 255, 256, 257, 513, 65_536, 65_537, 70_000]) {
    const prefix = leaves.slice(0, size);
    const nodeAt = nodeAtFromLeaves(prefix);
    const root = treeRoot(size, nodeAt);
    for (const index of new Set([0, size - 1, Math.floor(size / 2), Math.min(size - 1, 256), Math.min(size - 1, 65_535)])) {
      const tiles = memoryTiles(prefix);
      const { proof, tileLeafHash } = await inclusionProofFromTiles(tiles.read, index, size);
      t.deepEqual(proof.map(hex), inclusionProof(index, size, nodeAt).map(hex), `${index} of ${size}`);
      t.is(hex(tileLeafHash), hex(leaves[index]!));
      t.is(hex(await rootFromInclusionProof({ index, size, leafHash: leaves[index]!, proof })), hex(root));
      t.is(new Set(tiles.reads).size, tiles.reads.length, 'each tile read once');
    }
  }
});

/** A published fixture log of `size` entries behind logApi, read over its HTTP routes in process. */
async function servedLog(size: number) {
  const log = (await fixtureLog()).grow(size);
  await log.publish();
  const app = logApi(log.logDir);
  const tamper: { path?: string; edit?: (bytes: Uint8Array) => Uint8Array } = {};
  const fetchFn = async (url: string | URL | Request): Promise<Response> => {
    const res = await app.request(String(url));
    if (tamper.path === undefined || !String(url).endsWith(`/${tamper.path}`) || !tamper.edit) return res;
    return new Response(new Uint8Array(tamper.edit(new Uint8Array(await res.arrayBuffer()))), { status: res.status });
  };
  const read = httpLogReader('http://tai.test/', fetchFn as typeof fetch);
  return { log, read, tamper };
}

const flip = (at: number) => (bytes: Uint8Array) => {
  const copy = bytes.slice();
  copy[at] = copy[at]! ^ 0x01;
  return copy;
};

test('a receipt of a real published log verifies: signature, leaf hash and proof', async (t) => {
  const { log, read } = await servedLog(300);
  for (const index of [0, 1, 255, 256, 299]) {
    const leaf = hex(log.entries[index]!.leafHash);
    const v = await verifyReceipt({ receipt: { index, leafHash: leaf, origin: log.origin }, verifierKey: log.verifierKey, read });
    t.is(v.leafHash, leaf);
    t.is(v.size, 300);
    t.is(v.origin, log.origin);
    t.is(hex(v.entry), hex(log.entries[index]!.bytes));
  }
});

test('every lie of the server or the receipt is refused, naming the check', async (t) => {
  const { log, read, tamper } = await servedLog(300);
  const receipt = { index: 260, leafHash: hex(log.entries[260]!.leafHash) };
  const verify = (r: Parameters<typeof verifyReceipt>[0]['receipt'] = receipt, verifierKey = log.verifierKey) => refused(() => verifyReceipt({ receipt: r, verifierKey, read }));
  const expect = async (what: string, e: Promise<VerifyError>, want: string, re?: RegExp) => {
    const err = await e;
    t.is(`${err.check} ${err.code}`, want, `${what}: ${err.message}`);
    if (re) t.regex(err.message, re, what);
  };
  const entryAt = 2 + log.entries.slice(256, 260).reduce((n, e) => n + 2 + e.bytes.length, 0) + 10;
  const cases: [string, string, (b: Uint8Array) => Uint8Array, string, string, RegExp?][] = [
    ['a flipped byte in the entry', 'tile/entries/001.p/44', flip(entryAt), 'leaf', 'LeafHashMismatch', /the receipt says/],
    ['a flipped byte in the leaf hash tile', 'tile/0/001.p/44', flip(4 * 32), 'leaf', 'LeafHashMismatch', /hash tile holds/],
    ['a flipped byte in a sibling hash', 'tile/0/001.p/44', flip(5 * 32), 'proof', 'RootMismatch', /signed checkpoint's is/],
    ['a flipped byte in a level-1 hash', 'tile/1/000.p/1', flip(0), 'proof', 'RootMismatch'],
    ['a truncated entry bundle', 'tile/entries/001.p/44', (b) => b.slice(0, -1), 'leaf', 'BadTile', /truncated|exactly 44/],
    ['a short hash tile', 'tile/0/001.p/44', (b) => b.slice(0, -1), 'proof', 'BadTile', /want 1408/],
    ['a flipped byte in the checkpoint text', 'checkpoint', flip(3), 'signature', 'InvalidSignature'],
    ['a checkpoint that is not UTF-8', 'checkpoint', (b) => Uint8Array.from([0xff, ...b]), 'signature', 'BadNote'],
    ['an empty checkpoint', 'checkpoint', () => new Uint8Array(), 'signature', 'BadNote'],
  ];
  for (const [what, path, edit, check, code, re] of cases) {
    Object.assign(tamper, { path, edit });
    await expect(what, verify(), `${check} ${code}`, re);
  }
  Object.assign(tamper, { path: undefined, edit: undefined });
  await expect('the wrong leaf hash', verify({ ...receipt, leafHash: '00'.repeat(32) }), 'leaf LeafHashMismatch');
  await expect('another origin', verify({ ...receipt, origin: 'elsewhere' }), 'signature OriginMismatch');
  await expect('an index past the tree', verify({ index: 300 }), 'proof IndexOutOfRange', /not in the signed tree of 300/);
  await expect('the wrong key', verify(receipt, generateNoteKey(log.origin, new Uint8Array(32).fill(9)).verifierKey), 'signature NoPinnedSignature');
  await expect('a malformed key', verify(receipt, 'nope'), 'input BadKey');
  const offline = httpLogReader('http://tai.test/', (() => Promise.reject(new TypeError('Failed to fetch'))) as typeof fetch);
  const e = await refused(() => verifyReceipt({ receipt, verifierKey: log.verifierKey, read: offline }));
  t.is(`${e.check} ${e.code}`, 'fetch FetchFailed');
  const gone = httpLogReader('http://tai.test/log', (() => Promise.resolve(new Response('', { status: 404 }))) as typeof fetch);
  const e404 = await refused(() => verifyReceipt({ receipt, verifierKey: log.verifierKey, read: gone }));
  t.is(e404.message, 'FetchFailed: GET http://tai.test/log/checkpoint: HTTP 404 (not published)');
});

/** A seeded generator (xorshift32), so a failing case reproduces: an integer in [0, n). */
function seeded(seed: number): (n: number) => number {
  let x = seed;
  return (n) => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % n;
  };
}

test('random damage to the checkpoint, tiles or bundle is refused with a VerifyError, never another exception', async (t) => {
  const { log, read, tamper } = await servedLog(40);
  const paths = ['checkpoint', 'tile/0/000.p/40', 'tile/entries/000.p/40'];
  const random = seeded(18);
  for (let i = 0; i < 90; i++) {
    const path = paths[i % paths.length]!;
    tamper.path = path;
    tamper.edit = (bytes) => {
      const copy = bytes.slice(0, i % 7 === 0 ? random(bytes.length + 1) : bytes.length);
      if (copy.length > 0) copy[random(copy.length)] = random(256);
      return copy;
    };
    const index = i % 40;
    // A random byte may be the same byte, or a byte of an entry not asked for: then it still verifies.
    const outcome = await verifyReceipt({ receipt: { index }, verifierKey: log.verifierKey, read }).then(
      () => 'verified',
      (e: unknown) => (e instanceof VerifyError ? e.code : `threw ${String(e)}`),
    );
    t.notRegex(outcome, /^threw/, path);
  }
});

test('tsc checks the browser modules with the DOM types', async (t) => {
  t.timeout(60_000);
  const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
  const r = await promisify(execFile)(process.execPath, [tsc, '-p', join(import.meta.dirname, 'tsconfig.json')]).then(
    () => '',
    (e: { stdout?: string }) => e.stdout ?? String(e),
  );
  t.is(r, '');
});
