// C2SP signed-note (https://c2sp.org/signed-note) with Ed25519 signatures, the format of the receipt
// log's checkpoint. Pure: no I/O, no clock; node:crypto for SHA-256 and Ed25519 only.
//
// A signed note is the text (ending in "\n"), a blank line, then one or more signature lines
// "— <key name> <base64(key ID ‖ signature)>\n". Keys are strings as in golang.org/x/mod/sumdb/note:
//   verifier key  <name>+<hex8 key ID>+<base64(0x01 ‖ 32-byte Ed25519 public key)>
//   signer key    PRIVATE+KEY+<name>+<hex8 key ID>+<base64(0x01 ‖ 32-byte Ed25519 seed)>
import { createPrivateKey, createPublicKey, generateKeyPairSync, hash, sign, verify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';

/** Signature type byte for Ed25519 (signed-note §Signature types): 0x01. */
export const ALG_ED25519 = 0x01;

/** Signature line prefix: em dash U+2014 then a space (UTF-8 e2 80 94 20). */
export const SIGNATURE_PREFIX = '\u2014 ';

/** Most signature lines a note may carry; the spec requires at least 16, golang.org/x/mod/sumdb/note allows 100. */
export const MAX_SIGNATURES = 100;

const ED25519_KEY_SIZE = 32;
const KEY_ID_SIZE = 4;
/** PKCS#8 DER header of an Ed25519 private key (RFC 8410), followed by the 32-byte seed. */
const PKCS8_ED25519_PREFIX = Uint8Array.from([0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20]);
/** SPKI DER header of an Ed25519 public key (RFC 8410), followed by the 32-byte key. */
const SPKI_ED25519_PREFIX = Uint8Array.from([0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00]);

/** Why a note, key or signature was refused. */
export type NoteErrorCode =
  /** The note bytes are not valid UTF-8 (or a string holds a lone surrogate). */
  | 'NotUtf8'
  /** The note holds an ASCII control character other than "\n". */
  | 'ControlCharacter'
  /** The note text is empty or does not end in "\n". */
  | 'BadText'
  /** No blank line separates text from signatures, or no signature line follows it. */
  | 'MissingSignatures'
  /** A line after the blank line is not "— <name> <base64>\n". */
  | 'MalformedSignatureLine'
  /** A key name is empty or holds a Unicode space or "+". */
  | 'BadKeyName'
  /** A signature or key is not canonical standard base64, or is too short. */
  | 'BadBase64'
  /** More than MAX_SIGNATURES signature lines. */
  | 'TooManySignatures'
  /** A verifier or signer key string is malformed (field count, "PRIVATE+KEY", hex key ID, key size). */
  | 'BadKey'
  /** A key's algorithm byte is not 0x01 (Ed25519). */
  | 'UnknownAlgorithm'
  /** A key string's key ID is not the one its name and public key give. */
  | 'KeyIdMismatch'
  /** Two configured verifiers share a key name and key ID. */
  | 'AmbiguousKey'
  /** A signature by a known key does not verify over the note text. */
  | 'InvalidSignature'
  /** No signature by any of the given verifiers: the text must not be trusted. */
  | 'UnverifiedNote';

/** A refused note or key: `code` says why; the message names the line or field and, where it applies, got/want. */
export class NoteError extends Error {
  readonly code: NoteErrorCode;
  /** For UnverifiedNote: the well-formed signatures that no verifier knew. */
  readonly unverified: readonly NoteSignature[];

  constructor(code: NoteErrorCode, detail: string, unverified: readonly NoteSignature[] = []) {
    super(`${code}: ${detail}`);
    this.name = 'NoteError';
    this.code = code;
    this.unverified = unverified;
  }
}

/** One signature line: key name, key ID (uint32) and the base64 of key ID ‖ signature as it appeared. */
export interface NoteSignature {
  name: string;
  keyId: number;
  base64: string;
}

/** A parsed verifier key. */
export interface NoteVerifier {
  name: string;
  keyId: number;
  /** The raw 32-byte Ed25519 public key. */
  publicKey: Uint8Array;
  /** The canonical verifier key string. */
  key: string;
}

/** A parsed signer key; `privateKey` is a node:crypto KeyObject for crypto.sign. */
export interface NoteSigner {
  name: string;
  keyId: number;
  privateKey: KeyObject;
  /** The verifier key string of this signer's public half. */
  verifierKey: string;
}

/** A note whose signatures were checked: `verified` by a given verifier, `unverified` by unknown keys. */
export interface OpenedNote {
  text: string;
  verified: NoteSignature[];
  unverified: NoteSignature[];
}

// ---- encoding helpers ----

const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

const toBytes = (buf: Buffer): Uint8Array => new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);

const toBase64 = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');

/**
 * Bytes of canonical RFC 4648 §4 standard base64 (padding required, no whitespace, zero trailing
 * bits), or undefined. Canonical form means one byte string has exactly one accepted encoding.
 */
export function decodeBase64Strict(text: string): Uint8Array | undefined {
  if (text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return undefined;
  const bytes = toBytes(Buffer.from(text, 'base64'));
  return toBase64(bytes) === text ? bytes : undefined;
}

/** Key names (signed-note §Format): non-empty, no Unicode white space, no "+". */
export function isValidKeyName(name: string): boolean {
  return name.length > 0 && !/[\p{White_Space}+]/u.test(name) && !/[\uD800-\uDFFF]/u.test(name);
}

/**
 * Key ID = SHA-256(key name ‖ 0x0A ‖ key bytes)[:4] as a big-endian uint32, where key bytes are the
 * signature type byte and the public key (0x01 ‖ 32-byte Ed25519 key). Reproduce for the
 * golang.org/x/mod/sumdb/note test key: `(printf 'PeterNeumann\n'; echo
 * ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW | base64 -d) | sha256sum | cut -c1-8` → c74f20a3.
 */
export function noteKeyId(name: string, algAndPublicKey: Uint8Array): number {
  const nameBytes = utf8.encode(name);
  const buf = new Uint8Array(nameBytes.length + 1 + algAndPublicKey.length);
  buf.set(nameBytes, 0);
  buf[nameBytes.length] = 0x0a;
  buf.set(algAndPublicKey, nameBytes.length + 1);
  return hash('sha256', buf, 'buffer').readUInt32BE(0);
}

const hex8 = (keyId: number): string => keyId.toString(16).padStart(8, '0');

const withAlg = (key: Uint8Array): Uint8Array => {
  const out = new Uint8Array(1 + key.length);
  out[0] = ALG_ED25519;
  out.set(key, 1);
  return out;
};

const concat = (a: Uint8Array, b: Uint8Array): Buffer => Buffer.concat([a, b]);

function ed25519PublicKey(seedOrPrivate: KeyObject): Uint8Array {
  const der = toBytes(createPublicKey(seedOrPrivate).export({ format: 'der', type: 'spki' }));
  return der.subarray(SPKI_ED25519_PREFIX.length);
}

/** The verifier key string for an Ed25519 public key: `<name>+<hex8 key ID>+<base64(0x01 ‖ key)>`. */
export function formatVerifierKey(name: string, publicKey: Uint8Array): string {
  if (!isValidKeyName(name)) throw new NoteError('BadKeyName', `key name ${JSON.stringify(name)}: must be non-empty, without white space or "+"`);
  if (publicKey.length !== ED25519_KEY_SIZE) throw new NoteError('BadKey', `public key: got ${publicKey.length} bytes, want ${ED25519_KEY_SIZE}`);
  const key = withAlg(publicKey);
  return `${name}+${hex8(noteKeyId(name, key))}+${toBase64(key)}`;
}

// ---- keys ----

/** Splits at the first `count` "+" signs (the base64 tail may itself hold "+"). */
function splitKeyFields(text: string, count: number): string[] | undefined {
  const fields: string[] = [];
  let rest = text;
  for (let i = 0; i < count; i++) {
    const at = rest.indexOf('+');
    if (at < 0) return undefined;
    fields.push(rest.slice(0, at));
    rest = rest.slice(at + 1);
  }
  fields.push(rest);
  return fields;
}

interface KeyFields {
  name: string;
  keyId: number;
  keyBytes: Uint8Array;
}

/** Name, hex key ID and "0x01 ‖ 32 bytes" from the last three fields of a key string. */
function parseKeyFields(what: string, name: string, id: string, key64: string): KeyFields {
  if (!isValidKeyName(name)) throw new NoteError('BadKeyName', `${what}: key name ${JSON.stringify(name)} must be non-empty, without white space or "+"`);
  if (!/^[0-9a-f]{8}$/.test(id)) throw new NoteError('BadKey', `${what}: key ID ${JSON.stringify(id)}: want 8 lower-case hex digits`);
  const key = decodeBase64Strict(key64);
  if (key === undefined || key.length === 0) throw new NoteError('BadBase64', `${what}: key ${JSON.stringify(key64)} is not canonical standard base64`);
  if (key[0] !== ALG_ED25519) throw new NoteError('UnknownAlgorithm', `${what}: algorithm byte: got 0x${hex2(key[0] ?? 0)}, want 0x01 (Ed25519)`);
  if (key.length !== 1 + ED25519_KEY_SIZE) throw new NoteError('BadKey', `${what}: key: got ${key.length - 1} bytes after the algorithm byte, want ${ED25519_KEY_SIZE}`);
  return { name, keyId: Number.parseInt(id, 16), keyBytes: key.subarray(1) };
}

const hex2 = (byte: number): string => byte.toString(16).padStart(2, '0');

function checkKeyId(what: string, fields: KeyFields, publicKey: Uint8Array): void {
  const want = noteKeyId(fields.name, withAlg(publicKey));
  if (fields.keyId !== want) throw new NoteError('KeyIdMismatch', `${what}: key ID: got ${hex8(fields.keyId)}, want ${hex8(want)}`);
}

/** Parses `<name>+<hex8>+<base64(0x01 ‖ key)>`; throws NoteError (BadKey, BadKeyName, BadBase64, UnknownAlgorithm, KeyIdMismatch). */
export function parseVerifierKey(verifierKey: string): NoteVerifier {
  const fields = splitKeyFields(verifierKey, 2);
  if (fields === undefined) throw new NoteError('BadKey', 'verifier key: want <name>+<hex8 key ID>+<base64 key>');
  const [name, id, key64] = fields as [string, string, string];
  const parsed = parseKeyFields('verifier key', name, id, key64);
  checkKeyId('verifier key', parsed, parsed.keyBytes);
  return { name, keyId: parsed.keyId, publicKey: parsed.keyBytes, key: verifierKey };
}

/** Parses `PRIVATE+KEY+<name>+<hex8>+<base64(0x01 ‖ seed)>`; the key ID must match the derived public key. */
export function parseSignerKey(signerKey: string): NoteSigner {
  const fields = splitKeyFields(signerKey, 4);
  if (fields === undefined || fields[0] !== 'PRIVATE' || fields[1] !== 'KEY') {
    throw new NoteError('BadKey', 'signer key: want PRIVATE+KEY+<name>+<hex8 key ID>+<base64 seed>');
  }
  const [, , name, id, key64] = fields as [string, string, string, string, string];
  const parsed = parseKeyFields('signer key', name, id, key64);
  const privateKey = createPrivateKey({ key: concat(PKCS8_ED25519_PREFIX, parsed.keyBytes), format: 'der', type: 'pkcs8' });
  const publicKey = ed25519PublicKey(privateKey);
  checkKeyId('signer key', parsed, publicKey);
  return { name, keyId: parsed.keyId, privateKey, verifierKey: formatVerifierKey(name, publicKey) };
}

/**
 * A new Ed25519 note key pair for `name`. With `seed` (32 bytes) the pair is deterministic, for
 * tests and key derivation; without it the seed comes from node:crypto's CSPRNG.
 */
export function generateNoteKey(name: string, seed?: Uint8Array): { signerKey: string; verifierKey: string } {
  if (!isValidKeyName(name)) throw new NoteError('BadKeyName', `key name ${JSON.stringify(name)}: must be non-empty, without white space or "+"`);
  const privateKey =
    seed === undefined ? generateKeyPairSync('ed25519').privateKey : createPrivateKey({ key: concat(PKCS8_ED25519_PREFIX, checkSeed(seed)), format: 'der', type: 'pkcs8' });
  const der = toBytes(privateKey.export({ format: 'der', type: 'pkcs8' }));
  const seedBytes = der.subarray(PKCS8_ED25519_PREFIX.length);
  const publicKey = ed25519PublicKey(privateKey);
  const keyId = noteKeyId(name, withAlg(publicKey));
  return { signerKey: `PRIVATE+KEY+${name}+${hex8(keyId)}+${toBase64(withAlg(seedBytes))}`, verifierKey: formatVerifierKey(name, publicKey) };
}

function checkSeed(seed: Uint8Array): Uint8Array {
  if (seed.length !== ED25519_KEY_SIZE) throw new NoteError('BadKey', `seed: got ${seed.length} bytes, want ${ED25519_KEY_SIZE}`);
  return seed;
}

// ---- notes ----

/** Checks the text rules shared by signing and opening: UTF-8, no control characters but "\n". */
function checkCharacters(text: string): void {
  if (/[\uD800-\uDFFF]/u.test(text)) throw new NoteError('NotUtf8', 'note holds a lone UTF-16 surrogate, which has no UTF-8 encoding');
  // eslint-disable-next-line no-control-regex
  const control = /[\u0000-\u0009\u000b-\u001f]/.exec(text);
  if (control !== null) {
    throw new NoteError('ControlCharacter', `control character U+${control[0].charCodeAt(0).toString(16).padStart(4, '0')} at offset ${control.index}: only "\\n" is allowed`);
  }
}

function checkText(text: string): void {
  if (text.length === 0 || !text.endsWith('\n')) throw new NoteError('BadText', 'note text must be non-empty and end in "\\n"');
}

/**
 * Signs `text` with `signerKey` (a signer key string or a parsed {@link NoteSigner}) and returns the
 * signed note: text, blank line, one Ed25519 signature line. Preconditions, checked: text is
 * non-empty, ends in "\n" and has no control character but "\n".
 */
export function signNote(text: string, signerKey: string | NoteSigner): string {
  checkCharacters(text);
  checkText(text);
  const signer = typeof signerKey === 'string' ? parseSignerKey(signerKey) : signerKey;
  const signature = toBytes(sign(null, utf8.encode(text), signer.privateKey));
  const body = new Uint8Array(KEY_ID_SIZE + signature.length);
  new DataView(body.buffer).setUint32(0, signer.keyId);
  body.set(signature, KEY_ID_SIZE);
  return `${text}\n${SIGNATURE_PREFIX}${signer.name} ${toBase64(body)}\n`;
}

function decodeNote(note: Uint8Array | string): string {
  if (typeof note === 'string') return note;
  try {
    return strictUtf8.decode(note);
  } catch {
    throw new NoteError('NotUtf8', 'note bytes are not valid UTF-8');
  }
}

/** Splits a note at its last blank line into text (with its final "\n") and signature block. */
function splitNote(note: string): { text: string; block: string } {
  const at = note.lastIndexOf('\n\n');
  if (at < 0) throw new NoteError('MissingSignatures', 'no blank line before signature lines (is the note unsigned?)');
  const block = note.slice(at + 2);
  if (block.length === 0) throw new NoteError('MissingSignatures', 'no signature line after the blank line');
  if (!block.endsWith('\n')) throw new NoteError('MalformedSignatureLine', 'last signature line does not end in "\\n"');
  return { text: note.slice(0, at + 1), block };
}

function parseSignatureLine(line: string, lineNo: number): NoteSignature {
  const where = `signature line ${lineNo}`;
  if (!line.startsWith(SIGNATURE_PREFIX)) throw new NoteError('MalformedSignatureLine', `${where}: want "— <key name> <base64 signature>", got ${JSON.stringify(line.slice(0, 80))}`);
  const rest = line.slice(SIGNATURE_PREFIX.length);
  const space = rest.lastIndexOf(' ');
  if (space < 0) throw new NoteError('MalformedSignatureLine', `${where}: no space between key name and signature`);
  const name = rest.slice(0, space);
  const base64 = rest.slice(space + 1);
  if (!isValidKeyName(name)) throw new NoteError('BadKeyName', `${where}: key name ${JSON.stringify(name)} must be non-empty, without white space or "+"`);
  const bytes = decodeBase64Strict(base64);
  if (bytes === undefined || bytes.length <= KEY_ID_SIZE) {
    throw new NoteError('BadBase64', `${where}: signature must be canonical base64 of a 4-byte key ID and a signature`);
  }
  return { name, keyId: new DataView(bytes.buffer, bytes.byteOffset).getUint32(0), base64 };
}

/** Parses a signed note without checking any signature: text and well-formed signature lines. */
export function parseNote(note: Uint8Array | string): { text: string; signatures: NoteSignature[] } {
  const decoded = decodeNote(note);
  checkCharacters(decoded);
  const { text, block } = splitNote(decoded);
  const lines = block.slice(0, -1).split('\n');
  if (lines.length > MAX_SIGNATURES) throw new NoteError('TooManySignatures', `got ${lines.length} signature lines, want at most ${MAX_SIGNATURES}`);
  return { text, signatures: lines.map((line, i) => parseSignatureLine(line, i + 1)) };
}

const keyLabel = (name: string, keyId: number): string => `${name}+${hex8(keyId)}`;

function indexVerifiers(verifiers: readonly (string | NoteVerifier)[]): Map<string, NoteVerifier[]> {
  const byKey = new Map<string, NoteVerifier[]>();
  for (const v of verifiers) {
    const parsed = typeof v === 'string' ? parseVerifierKey(v) : v;
    const label = keyLabel(parsed.name, parsed.keyId);
    byKey.set(label, [...(byKey.get(label) ?? []), parsed]);
  }
  return byKey;
}

function checkSignature(text: Uint8Array, sig: NoteSignature, known: readonly NoteVerifier[]): void {
  const label = keyLabel(sig.name, sig.keyId);
  if (known.length > 1) throw new NoteError('AmbiguousKey', `${known.length} verifiers are configured for key ${label}`);
  const verifier = known[0] as NoteVerifier;
  const signature = (decodeBase64Strict(sig.base64) as Uint8Array).subarray(KEY_ID_SIZE);
  const publicKey = createPublicKey({ key: concat(SPKI_ED25519_PREFIX, verifier.publicKey), format: 'der', type: 'spki' });
  if (!verify(null, text, publicKey, signature)) throw new NoteError('InvalidSignature', `signature by key ${label} does not verify over the note text`);
}

const sameSignature = (a: NoteSignature, b: NoteSignature): boolean => a.name === b.name && a.keyId === b.keyId && a.base64 === b.base64;

const pushUnique = (list: NoteSignature[], sig: NoteSignature): void => {
  if (!list.some((s) => sameSignature(s, sig))) list.push(sig);
};

/**
 * Opens a signed note: parses it strictly and verifies every signature whose key name and key ID
 * both match one of `verifiers`. Signatures by other keys are returned as `unverified` (signed-note
 * §Signatures: they are ignored, never trusted). Identical signature lines are reported once.
 * Throws NoteError: malformed notes (NotUtf8, ControlCharacter, MissingSignatures,
 * MalformedSignatureLine, BadKeyName, BadBase64, TooManySignatures); a known key's signature that
 * fails (InvalidSignature); two verifiers for one key (AmbiguousKey); no signature by a known key
 * (UnverifiedNote, with the unknown signatures on the error).
 */
export function openNote(note: Uint8Array | string, verifiers: readonly (string | NoteVerifier)[]): OpenedNote {
  const { text, signatures } = parseNote(note);
  const known = indexVerifiers(verifiers);
  const textBytes = utf8.encode(text);
  const verified: NoteSignature[] = [];
  const unverified: NoteSignature[] = [];
  for (const sig of signatures) {
    const candidates = known.get(keyLabel(sig.name, sig.keyId));
    if (candidates === undefined) {
      pushUnique(unverified, sig);
      continue;
    }
    checkSignature(textBytes, sig, candidates);
    pushUnique(verified, sig);
  }
  if (verified.length === 0) {
    const labels = [...known.keys()].join(', ') || 'none';
    throw new NoteError('UnverifiedNote', `no signature by a known key (known: ${labels}; found: ${signatures.map((s) => keyLabel(s.name, s.keyId)).join(', ')})`, unverified);
  }
  return { text, verified, unverified };
}
