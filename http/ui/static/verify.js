// @ts-check
// Verifying a receipt in the browser, trusting nothing the server says: the checkpoint's Ed25519 signature
// against a verifier key the user pins (C2SP signed-note), the entry's leaf hash SHA-256(0x00 ‖ entry), and an
// RFC 9162 inclusion proof up to the signed root. The proof is built here from the log's static hash tiles
// (C2SP tlog-tiles, what tlog clients do), so the only server answers are the checkpoint, hash tiles and the
// entry bundle — all checked, none believed. Plain ESM with JSDoc types, no build step; WebCrypto only, so it
// runs unchanged in Chromium and in Node (the unit tests). Every defect is a VerifyError naming the check
// (`signature`, `leaf`, `proof`, `input`, `fetch`) and what was wrong; nothing else is thrown.
// The formats are docs/receipts.md §5–§6; receipts/signed-note.ts, checkpoint.ts and proofs.ts are the
// server-side counterparts.

/** @typedef {'input' | 'fetch' | 'signature' | 'leaf' | 'proof'} Check */

/**
 * @typedef {'BadKey' | 'BadReceipt' | 'FetchFailed' | 'BadNote' | 'NoPinnedSignature' | 'InvalidSignature'
 *   | 'BadCheckpoint' | 'OriginMismatch' | 'IndexOutOfRange' | 'BadTile' | 'LeafHashMismatch' | 'BadProof'
 *   | 'RootMismatch'} VerifyErrorCode
 */

/** A refused receipt, key, note, tile or proof: `check` is what failed, `code` why; the message says where. */
export class VerifyError extends Error {
  /**
   * @param {Check} check
   * @param {VerifyErrorCode} code
   * @param {string} detail
   */
  constructor(check, code, detail) {
    super(`${code}: ${detail}`);
    this.name = 'VerifyError';
    /** @readonly */
    this.check = check;
    /** @readonly */
    this.code = code;
  }
}

/** @typedef {{ name: string, keyId: number, publicKey: Uint8Array<ArrayBuffer> }} PinnedKey */
/** @typedef {{ origin: string, size: number, root: Uint8Array<ArrayBuffer>, extensions: string[] }} Checkpoint */
/** @typedef {{ index: number, leafHash?: string, origin?: string }} Receipt */
/** @typedef {(path: string) => Promise<Uint8Array<ArrayBuffer>>} ReadLogFile */

const HASH_SIZE = 32;
const TILE_WIDTH = 256;
const TILE_HEIGHT = 8;
const ALG_ED25519 = 0x01;
const KEY_ID_SIZE = 4;
const SIGNATURE_SIZE = 64;
const SIGNATURE_PREFIX = '\u2014 ';
const MAX_SIGNATURES = 100;

const utf8 = new TextEncoder();

// ---- bytes ----

/**
 * Bytes of canonical standard base64 (padding, no white space, zero trailing bits), or undefined: one byte
 * string has one accepted encoding, as the server's decodeBase64Strict.
 * @param {string} text
 * @returns {Uint8Array<ArrayBuffer> | undefined}
 */
export function decodeBase64Strict(text) {
  if (text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return undefined;
  const binary = atob(text);
  const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
  return encodeBase64(bytes) === text ? bytes : undefined;
}

/**
 * @param {Uint8Array} bytes
 * @returns {string}
 */
export function encodeBase64(bytes) {
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

/**
 * @param {Uint8Array} bytes
 * @returns {string} lower-case hex
 */
export function toHex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * @param {Uint8Array} a
 * @param {Uint8Array} b
 */
function bytesEqual(a, b) {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * @param {readonly Uint8Array[]} parts
 * @returns {Uint8Array<ArrayBuffer>}
 */
function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * @param {Uint8Array<ArrayBuffer>} bytes
 * @returns {Promise<Uint8Array<ArrayBuffer>>}
 */
async function sha256(bytes) {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
}

const hex8 = (/** @type {number} */ n) => n.toString(16).padStart(8, '0');

// ---- Merkle hashing (RFC 9162 §2.1) ----

/**
 * Leaf hash of one log entry: SHA-256(0x00 ‖ entry).
 * @param {Uint8Array} entry
 */
export function leafHash(entry) {
  return sha256(concat(Uint8Array.of(0x00), entry));
}

/**
 * Interior node hash: SHA-256(0x01 ‖ left ‖ right).
 * @param {Uint8Array} left
 * @param {Uint8Array} right
 */
export function nodeHash(left, right) {
  return sha256(concat(Uint8Array.of(0x01), left, right));
}

// ---- verifier key and signed checkpoint (C2SP signed-note, tlog-checkpoint) ----

/**
 * Key ID: SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key)[:4], big-endian.
 * @param {string} name
 * @param {Uint8Array} publicKey
 */
async function keyId(name, publicKey) {
  const digest = await sha256(concat(utf8.encode(name), Uint8Array.of(0x0a, ALG_ED25519), publicKey));
  return new DataView(digest.buffer).getUint32(0);
}

/**
 * Parses a pinned verifier key `<name>+<hex8 key ID>+<base64(0x01 ‖ 32-byte Ed25519 key)>` and checks that its
 * key ID is the one its name and key give. VerifyError (input, BadKey) otherwise.
 * @param {string} text
 * @returns {Promise<PinnedKey>}
 */
export async function parseVerifierKey(text) {
  const m = /^([^+\s]+)\+([0-9a-f]{8})\+(\S+)$/.exec(text.trim());
  if (m === null) throw new VerifyError('input', 'BadKey', 'verifier key: want <name>+<8 lower-case hex digits>+<base64 key>');
  const [, name = '', id = '', key64 = ''] = m;
  const key = decodeBase64Strict(key64);
  if (key === undefined) throw new VerifyError('input', 'BadKey', 'verifier key: the key is not canonical standard base64');
  if (key[0] !== ALG_ED25519) throw new VerifyError('input', 'BadKey', `verifier key: algorithm byte 0x${(key[0] ?? 0).toString(16)}, want 0x01 (Ed25519)`);
  if (key.length !== 1 + HASH_SIZE) throw new VerifyError('input', 'BadKey', `verifier key: ${key.length - 1} key bytes, want 32`);
  const publicKey = key.slice(1);
  const want = await keyId(name, publicKey);
  if (Number.parseInt(id, 16) !== want) throw new VerifyError('input', 'BadKey', `verifier key: key ID ${id} is not the key's (${hex8(want)})`);
  return { name, keyId: want, publicKey };
}

/**
 * Splits a signed note into its text (ending in "\n") and signature lines `{name, keyId, signature}`.
 * @param {string} note
 */
export function parseNote(note) {
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0009\u000b-\u001f]/.test(note)) throw new VerifyError('signature', 'BadNote', 'checkpoint: control character other than "\\n"');
  const at = note.lastIndexOf('\n\n');
  if (at < 0 || !note.endsWith('\n') || at + 2 === note.length) throw new VerifyError('signature', 'BadNote', 'checkpoint: no blank line followed by signature lines');
  const lines = note.slice(at + 2, -1).split('\n');
  if (lines.length > MAX_SIGNATURES) throw new VerifyError('signature', 'BadNote', `checkpoint: ${lines.length} signature lines, want at most ${MAX_SIGNATURES}`);
  return { text: note.slice(0, at + 1), signatures: lines.map(parseSignatureLine) };
}

/**
 * @param {string} line
 * @param {number} i
 */
function parseSignatureLine(line, i) {
  const m = /^\u2014 (\S+) (\S+)$/.exec(line);
  const bytes = m === null ? undefined : decodeBase64Strict(m[2] ?? '');
  if (m === null || bytes === undefined || bytes.length <= KEY_ID_SIZE) {
    throw new VerifyError('signature', 'BadNote', `checkpoint signature line ${i + 1}: want "${SIGNATURE_PREFIX}<key name> <base64(key ID ‖ signature)>"`);
  }
  return { name: m[1] ?? '', keyId: new DataView(bytes.buffer).getUint32(0), signature: bytes.slice(KEY_ID_SIZE) };
}

/**
 * Parses checkpoint text strictly (tlog-checkpoint): origin, decimal size, base64 32-byte root, extension lines.
 * @param {string} text
 * @returns {Checkpoint}
 */
export function parseCheckpoint(text) {
  const lines = text.slice(0, -1).split('\n');
  const [origin = '', size = '', root64 = ''] = lines;
  const bad = (/** @type {string} */ detail) => new VerifyError('signature', 'BadCheckpoint', `checkpoint: ${detail}`);
  if (!text.endsWith('\n') || lines.length < 3) throw bad('want origin, size and root lines');
  if (origin === '') throw bad('empty origin');
  if (lines.slice(3).some((l) => l === '')) throw bad('empty extension line');
  return { origin, size: parseSize(size, bad), root: parseRoot(root64, bad), extensions: lines.slice(3) };
}

/**
 * @param {string} size
 * @param {(detail: string) => VerifyError} bad
 */
function parseSize(size, bad) {
  if (!/^(0|[1-9][0-9]{0,15})$/.test(size) || !Number.isSafeInteger(Number(size))) throw bad(`size ${JSON.stringify(size.slice(0, 40))} is not a decimal integer below 2^53`);
  return Number(size);
}

/**
 * @param {string} root64
 * @param {(detail: string) => VerifyError} bad
 */
function parseRoot(root64, bad) {
  const root = decodeBase64Strict(root64);
  if (root?.length !== HASH_SIZE) throw bad('the root is not canonical base64 of 32 bytes');
  return root;
}

/**
 * Opens a signed checkpoint: a signature line by the pinned key (same name and key ID) must verify over the
 * note text with Ed25519; signatures by other keys are ignored. Then the text must parse as a checkpoint.
 * @param {string} note
 * @param {PinnedKey} key
 * @returns {Promise<Checkpoint>}
 */
export async function openCheckpoint(note, key) {
  const { text, signatures } = parseNote(note);
  const mine = signatures.filter((s) => s.name === key.name && s.keyId === key.keyId);
  if (mine.length === 0) {
    const found = signatures.map((s) => `${s.name}+${hex8(s.keyId)}`).join(', ');
    throw new VerifyError('signature', 'NoPinnedSignature', `the checkpoint carries no signature by the pinned key ${key.name}+${hex8(key.keyId)} (found: ${found})`);
  }
  const publicKey = await crypto.subtle.importKey('raw', key.publicKey, { name: 'Ed25519' }, false, ['verify']);
  for (const s of mine) {
    const ok = s.signature.length === SIGNATURE_SIZE && (await crypto.subtle.verify({ name: 'Ed25519' }, publicKey, s.signature, utf8.encode(text)));
    if (!ok) throw new VerifyError('signature', 'InvalidSignature', `the Ed25519 signature by ${key.name}+${hex8(key.keyId)} does not verify over the checkpoint text`);
  }
  return parseCheckpoint(text);
}

// ---- tiles (C2SP tlog-tiles) ----

/**
 * `tile/<level>/<N>[.p/<W>]`, or `tile/entries/…` for level "entries": N in 3-digit groups, all but the last
 * prefixed "x"; `.p/W` for a partial tile of width W < 256.
 * @param {number | 'entries'} level
 * @param {number} index
 * @param {number} width
 */
export function tilePath(level, index, width) {
  let path = String(index % 1000).padStart(3, '0');
  for (let rest = Math.floor(index / 1000); rest > 0; rest = Math.floor(rest / 1000)) path = `x${String(rest % 1000).padStart(3, '0')}/${path}`;
  return `tile/${level}/${path}${width === TILE_WIDTH ? '' : `.p/${width}`}`;
}

/**
 * Entries of an entry bundle of `width` entries, each a big-endian uint16 length and that many bytes.
 * @param {Uint8Array<ArrayBuffer>} bytes
 * @param {number} width
 * @returns {Uint8Array<ArrayBuffer>[]}
 */
export function decodeEntryBundle(bytes, width) {
  const entries = [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  while (at < bytes.length && entries.length < width) {
    const end = at + 2 + (at + 2 <= bytes.length ? view.getUint16(at) : 0);
    if (at + 2 > bytes.length || end > bytes.length) throw new VerifyError('leaf', 'BadTile', `entry bundle: truncated at byte ${at} (entry ${entries.length})`);
    entries.push(bytes.slice(at + 2, end));
    at = end;
  }
  if (entries.length !== width || at !== bytes.length) throw new VerifyError('leaf', 'BadTile', `entry bundle: want exactly ${width} entries in ${bytes.length} bytes`);
  return entries;
}

/**
 * Reads hashes of a tree of `size` leaves from hash tiles, each tile once.
 * @param {ReadLogFile} read
 * @param {number} size
 */
function tileHashes(read, size) {
  /** @type {Map<string, Promise<Uint8Array<ArrayBuffer>>>} */
  const tiles = new Map();
  /**
   * Hash `n` at tile level `level` (tree level 8·level): a leaf hash at level 0.
   * @param {number} level
   * @param {number} n
   */
  const stored = async (level, n) => {
    const index = Math.floor(n / TILE_WIDTH);
    const width = Math.min(TILE_WIDTH, Math.floor(size / TILE_WIDTH ** level) - index * TILE_WIDTH);
    const path = tilePath(level, index, width);
    if (!tiles.has(path)) tiles.set(path, read(path));
    const bytes = /** @type {Promise<Uint8Array<ArrayBuffer>>} */ (tiles.get(path));
    const tile = await bytes;
    if (tile.length !== width * HASH_SIZE) throw new VerifyError('proof', 'BadTile', `${path}: ${tile.length} bytes, want ${width * HASH_SIZE}`);
    const at = (n % TILE_WIDTH) * HASH_SIZE;
    return tile.slice(at, at + HASH_SIZE);
  };
  /**
   * Hash of the perfect subtree of height `height` whose leftmost leaf is `start`·2^height.
   * @param {number} height
   * @param {number} start
   * @returns {Promise<Uint8Array<ArrayBuffer>>}
   */
  const perfect = async (height, start) => {
    if (height % TILE_HEIGHT === 0) return stored(height / TILE_HEIGHT, start);
    const [left, right] = await Promise.all([perfect(height - 1, 2 * start), perfect(height - 1, 2 * start + 1)]);
    return nodeHash(left, right);
  };
  return { stored, perfect };
}

/**
 * Largest power of two below n (n ≥ 2).
 * @param {number} n
 */
function splitPoint(n) {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/**
 * MTH(D[from : from + n]) where `from` is a multiple of the largest power of two ≤ n, as in RFC 9162 trees.
 * @param {ReturnType<typeof tileHashes>} hashes
 * @param {number} from
 * @param {number} n
 * @returns {Promise<Uint8Array<ArrayBuffer>>}
 */
async function subtreeHash(hashes, from, n) {
  const height = Math.log2(n);
  if (Number.isInteger(height)) return hashes.perfect(height, from / n);
  const k = splitPoint(n);
  return nodeHash(await subtreeHash(hashes, from, k), await subtreeHash(hashes, from + k, n - k));
}

/**
 * The RFC 9162 §2.1.3.1 inclusion proof of leaf `index` in the tree of `size` leaves, built from hash tiles, and
 * the leaf hash the level-0 tile holds for it. The tiles are untrusted: the proof is checked against a signed root.
 * @param {ReadLogFile} read
 * @param {number} index
 * @param {number} size
 */
export async function inclusionProofFromTiles(read, index, size) {
  const hashes = tileHashes(read, size);
  /** @type {Uint8Array<ArrayBuffer>[]} */
  const proof = [];
  let [from, n, m] = [0, size, index];
  while (n > 1) {
    const k = splitPoint(n);
    if (m < k) {
      proof.unshift(await subtreeHash(hashes, from + k, n - k));
      n = k;
    } else {
      proof.unshift(await subtreeHash(hashes, from, k));
      [from, n, m] = [from + k, n - k, m - k];
    }
  }
  return { proof, tileLeafHash: await hashes.stored(0, index) };
}

/**
 * The root an inclusion proof yields (RFC 9162 §2.1.3.2). VerifyError (proof, BadProof) when its shape is wrong.
 * @param {{ index: number, size: number, leafHash: Uint8Array, proof: readonly Uint8Array[] }} check
 */
export async function rootFromInclusionProof({ index, size, leafHash: leaf, proof }) {
  checkProofShape(index, size, leaf, proof);
  let [fn, sn, r] = [index, size - 1, leaf];
  for (const p of proof) {
    if (sn === 0) throw new VerifyError('proof', 'BadProof', `the proof is longer than a tree of ${size} leaves allows`);
    const left = fn % 2 === 1 || fn === sn;
    r = left ? await nodeHash(p, r) : await nodeHash(r, p);
    if (left) [fn, sn] = skipRightBorder(fn, sn);
    [fn, sn] = [Math.floor(fn / 2), Math.floor(sn / 2)];
  }
  if (sn !== 0) throw new VerifyError('proof', 'BadProof', `the proof is shorter than a tree of ${size} leaves needs`);
  return r;
}

/**
 * @param {number} index
 * @param {number} size
 * @param {Uint8Array} leaf
 * @param {readonly Uint8Array[]} proof
 */
function checkProofShape(index, size, leaf, proof) {
  if (!(Number.isSafeInteger(index) && index >= 0 && index < size)) throw new VerifyError('proof', 'BadProof', `index ${index} is not below the tree size ${size}`);
  if (leaf.length !== HASH_SIZE || proof.some((p) => p.length !== HASH_SIZE)) throw new VerifyError('proof', 'BadProof', 'the leaf hash or a proof node is not 32 bytes');
}

/**
 * RFC 9162 §2.1.3.2: right-shift fn and sn together until fn is odd or 0.
 * @param {number} fn
 * @param {number} sn
 * @returns {[number, number]}
 */
function skipRightBorder(fn, sn) {
  let [f, s] = [fn, sn];
  while (f !== 0 && f % 2 === 0) [f, s] = [f / 2, Math.floor(s / 2)];
  return [f, s];
}

// ---- receipts ----

/**
 * What the user gave: an index ("42") or a receipt as a decision answer carries it, `{"index": 42, "leafHash":
 * "<64 hex>"}`, optionally with `origin`; a whole answer `{…, "receipt": {…}}` is accepted too.
 * @param {string} text
 * @returns {Receipt}
 */
export function parseReceipt(text) {
  const trimmed = text.trim();
  if (/^[0-9]+$/.test(trimmed)) return { index: checkIndex(Number(trimmed)) };
  /** @type {unknown} */
  let value;
  try {
    value = JSON.parse(trimmed);
  } catch {
    throw new VerifyError('input', 'BadReceipt', 'want an entry index or receipt JSON {"index": N, "leafHash": "<64 hex>"}');
  }
  const obj = /** @type {Record<string, unknown>} */ (isObject(value) && isObject(value['receipt']) ? value['receipt'] : value);
  if (!isObject(obj)) throw new VerifyError('input', 'BadReceipt', 'the receipt JSON is not an object');
  return receiptFields(obj);
}

/**
 * @param {unknown} v
 * @returns {v is Record<string, unknown>}
 */
const isObject = (v) => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * @param {unknown} index
 * @returns {number}
 */
function checkIndex(index) {
  if (typeof index !== 'number' || !Number.isSafeInteger(index) || index < 0) throw new VerifyError('input', 'BadReceipt', `index: want an integer ≥ 0, got ${JSON.stringify(index)}`);
  return index;
}

/**
 * @param {Record<string, unknown>} obj
 * @returns {Receipt}
 */
function receiptFields(obj) {
  /** @type {Receipt} */
  const receipt = { index: checkIndex(obj['index']) };
  const { leafHash: leaf, origin } = obj;
  if (leaf !== undefined && (typeof leaf !== 'string' || !/^[0-9a-fA-F]{64}$/.test(leaf))) throw new VerifyError('input', 'BadReceipt', 'leafHash: want 64 hex digits');
  if (origin !== undefined && (typeof origin !== 'string' || origin === '')) throw new VerifyError('input', 'BadReceipt', 'origin: want a non-empty string');
  if (typeof leaf === 'string') receipt.leafHash = leaf.toLowerCase();
  if (typeof origin === 'string') receipt.origin = origin;
  return receipt;
}

/**
 * A `ReadLogFile` over `fetch` below `base` (e.g. "/log/"): a failed request is VerifyError (fetch).
 * @param {string} base
 * @param {typeof fetch} [fetchFn]
 * @returns {ReadLogFile}
 */
export function httpLogReader(base, fetchFn = fetch) {
  return async (path) => {
    const url = `${base.endsWith('/') ? base : `${base}/`}${path}`;
    /** @type {Response} */
    let res;
    try {
      res = await fetchFn(url, { cache: 'no-store' });
      if (res.ok) return new Uint8Array(await res.arrayBuffer());
    } catch (e) {
      throw new VerifyError('fetch', 'FetchFailed', `GET ${url}: ${e instanceof Error ? e.message : String(e)}`);
    }
    throw new VerifyError('fetch', 'FetchFailed', `GET ${url}: HTTP ${res.status}${res.status === 404 ? ' (not published)' : ''}`);
  };
}

/**
 * @typedef {{ index: number, size: number, origin: string, root: string, leafHash: string, entry: Uint8Array,
 *   proof: string[], key: string }} Verified
 */

/**
 * Verifies a receipt against the log `read` serves and the pinned verifier key: the checkpoint's signature, the
 * entry's leaf hash (against the receipt's and the log's level-0 tile), and the inclusion proof up to the signed
 * root. Resolves with what was verified; rejects only with VerifyError.
 * @param {{ receipt: Receipt, verifierKey: string, read: ReadLogFile }} input
 * @returns {Promise<Verified>}
 */
export async function verifyReceipt({ receipt, verifierKey, read }) {
  try {
    return await verifySteps(receipt, await parseVerifierKey(verifierKey), read);
  } catch (e) {
    if (e instanceof VerifyError) throw e;
    throw new VerifyError('input', 'BadReceipt', `unexpected: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/**
 * @param {Receipt} receipt
 * @param {PinnedKey} key
 * @param {ReadLogFile} read
 * @returns {Promise<Verified>}
 */
async function verifySteps(receipt, key, read) {
  const noteBytes = await read('checkpoint');
  let note;
  try {
    note = new TextDecoder('utf-8', { fatal: true }).decode(noteBytes);
  } catch {
    throw new VerifyError('signature', 'BadNote', 'checkpoint: not UTF-8');
  }
  const cp = await openCheckpoint(note, key);
  if (receipt.origin !== undefined && receipt.origin !== cp.origin) throw new VerifyError('signature', 'OriginMismatch', `origin: the checkpoint's is ${JSON.stringify(cp.origin)}, the receipt's ${JSON.stringify(receipt.origin)}`);
  const { index } = receipt;
  if (index >= cp.size) throw new VerifyError('proof', 'IndexOutOfRange', `entry ${index} is not in the signed tree of ${cp.size} entries (yet: the log publishes about once a second)`);
  const entry = await readEntry(read, index, cp.size);
  const leaf = await leafHash(entry);
  const { proof, tileLeafHash } = await inclusionProofFromTiles(read, index, cp.size);
  checkLeaf(leaf, receipt.leafHash, tileLeafHash);
  const root = await rootFromInclusionProof({ index, size: cp.size, leafHash: leaf, proof });
  if (!bytesEqual(root, cp.root)) throw new VerifyError('proof', 'RootMismatch', `the inclusion proof yields root ${toHex(root)}, the signed checkpoint's is ${toHex(cp.root)}`);
  return { index, size: cp.size, origin: cp.origin, root: toHex(cp.root), leafHash: toHex(leaf), entry, proof: proof.map(toHex), key: `${key.name}+${hex8(key.keyId)}` };
}

/**
 * @param {ReadLogFile} read
 * @param {number} index
 * @param {number} size
 */
async function readEntry(read, index, size) {
  const bundle = Math.floor(index / TILE_WIDTH);
  const width = Math.min(TILE_WIDTH, size - bundle * TILE_WIDTH);
  const entries = decodeEntryBundle(await read(tilePath('entries', bundle, width)), width);
  return /** @type {Uint8Array<ArrayBuffer>} */ (entries[index % TILE_WIDTH]);
}

/**
 * @param {Uint8Array} leaf SHA-256(0x00 ‖ entry) of the entry served
 * @param {string | undefined} claimed the receipt's leafHash
 * @param {Uint8Array} tileLeaf the leaf hash in the log's level-0 hash tile
 */
function checkLeaf(leaf, claimed, tileLeaf) {
  const got = toHex(leaf);
  if (claimed !== undefined && got !== claimed) throw new VerifyError('leaf', 'LeafHashMismatch', `leaf hash: SHA-256(0x00 ‖ entry) is ${got}, the receipt says ${claimed}`);
  if (!bytesEqual(leaf, tileLeaf)) throw new VerifyError('leaf', 'LeafHashMismatch', `leaf hash: SHA-256(0x00 ‖ entry) is ${got}, the log's hash tile holds ${toHex(tileLeaf)}`);
}
