// Signed notes (C2SP signed-note, Ed25519). Published vectors come from golang.org/x/mod
// (github.com/golang/mod, sumdb/note/note_test.go: the PeterNeumann and EnochRoot keys and
// signatures) and github.com/transparency-dev/formats (log/note_test.go: key pairs, the
// sum.golang.org verifier key and checkpoint). Ed25519 is deterministic (RFC 8032), so signing
// reproduces the published signature lines byte for byte.
import test from 'ava';
import fc from 'fast-check';
import { toHex } from './merkle-hash.ts';
import {
  MAX_SIGNATURES,
  NoteError,
  decodeBase64Strict,
  formatVerifierKey,
  generateNoteKey,
  isValidKeyName,
  noteKeyId,
  openNote,
  parseNote,
  parseSignerKey,
  parseVerifierKey,
  signNote,
} from './signed-note.ts';

// ---- published vectors ----

// golang/mod sumdb/note/note_test.go
const PETER_VKEY = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
const PETER_SKEY = 'PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz';
const ENOCH_VKEY = 'EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop';
const TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const PETER_SIG = '— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n';
const ENOCH_SIG = '— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n';
const peter = { name: 'PeterNeumann', keyId: 0xc74f20a3, base64: 'x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=' };
const enoch = { name: 'EnochRoot', keyId: 0xaf0cfe78, base64: 'rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=' };

// The EnochRoot key is the Ed25519 key of the all-zero seed. Reproduce the verifier key's base64 with
//   (printf '\x01'; printf '302e020100300506032b657004220420%064d' 0 | xxd -r -p |
//    openssl pkey -inform DER -pubout -outform DER | tail -c 32) | base64
// and ENOCH_SIG with
//   printf '302e020100300506032b657004220420%064d' 0 | xxd -r -p > zero.der
//   (printf '\xaf\x0c\xfe\x78'; printf "$TEXT" | openssl pkeyutl -sign -inkey zero.der -keyform DER -rawin) | base64 -w0
const ZERO_SEED = new Uint8Array(32);

// transparency-dev/formats log/note_test.go: signer/verifier key pairs
const FORMATS_PAIRS: [string, string][] = [
  ['PRIVATE+KEY+Log+2271c621+AdEIq9FLRQni54Wg68T96VJO+iayOaulswav2DUMKgvQ', 'Log+2271c621+AemuH5ooBpEPcr+W8onrjA1NfuzBVHdezakU81Ekarvs'],
  ['PRIVATE+KEY+Known+451c786d+AQPRoE2+Z+Ed1HaHBA9F/FfracvcZ2rDU39kCecMEoci', 'Known+451c786d+AXAQ0T7lbwuY4ABJ9/MYY9bWV3hmSyOGVt2x42NkmdUH'],
  ['PRIVATE+KEY+KnownAgain+4893b26c+ARhZda/l25zjGZswYLDZsLNRzNpmv5wYTN9IoTr1OJ2+', 'KnownAgain+4893b26c+AQ+LR7BFF/F/dkpIBjBpSvT0crkteizuUkavAoGeaYMj'],
  ['PRIVATE+KEY+Unknown+fdbb2e08+Aav2knTC6orbhXX8pMWuNiWgO+Wwk2DB+h1eU2Q1W1nU', 'Unknown+fdbb2e08+AWgRIYZ+8x1Vl+1Q+sR8zciNHiYI1SdlBjNw+RV0rots'],
];

const codeOf = (fn: () => unknown): string => {
  try {
    fn();
  } catch (err) {
    if (err instanceof NoteError) return err.code;
    throw err;
  }
  return 'ok';
};

// ---- keys: positive vectors ----

test('key ID of PeterNeumann is c74f20a3 (golang/mod note_test.go; reproduce: see noteKeyId doc)', (t) => {
  // (printf 'PeterNeumann\n'; echo ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW | base64 -d) | sha256sum | cut -c1-8
  const key = decodeBase64Strict('ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW') as Uint8Array;
  t.is(noteKeyId('PeterNeumann', key).toString(16), 'c74f20a3');
  // (printf 'sum.golang.org\n'; echo Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8 | base64 -d) | sha256sum | cut -c1-8
  t.is(noteKeyId('sum.golang.org', decodeBase64Strict('Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8') as Uint8Array).toString(16), '33de0ae');
});

test('parseVerifierKey accepts the published PeterNeumann and EnochRoot keys', (t) => {
  const v = parseVerifierKey(PETER_VKEY);
  t.is(v.name, 'PeterNeumann');
  t.is(v.keyId, 0xc74f20a3);
  t.is(v.publicKey.length, 32);
  t.is(formatVerifierKey(v.name, v.publicKey), PETER_VKEY);
  t.is(parseVerifierKey(ENOCH_VKEY).keyId, 0xaf0cfe78);
});

test('parseSignerKey derives the published verifier key (golang/mod and transparency-dev/formats pairs)', (t) => {
  t.is(parseSignerKey(PETER_SKEY).verifierKey, PETER_VKEY);
  for (const [skey, vkey] of FORMATS_PAIRS) t.is(parseSignerKey(skey).verifierKey, vkey, skey);
});

test('generateNoteKey from the all-zero seed gives the published EnochRoot verifier key', (t) => {
  const { signerKey, verifierKey } = generateNoteKey('EnochRoot', ZERO_SEED);
  t.is(verifierKey, ENOCH_VKEY);
  t.is(signerKey, 'PRIVATE+KEY+EnochRoot+af0cfe78+AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA');
  t.is(parseSignerKey(signerKey).verifierKey, ENOCH_VKEY);
});

test('generateNoteKey without a seed gives a fresh, self-consistent pair', (t) => {
  const a = generateNoteKey('example.com/log');
  const b = generateNoteKey('example.com/log');
  t.not(a.verifierKey, b.verifierKey);
  t.is(parseSignerKey(a.signerKey).verifierKey, a.verifierKey);
  t.regex(a.verifierKey, /^example\.com\/log\+[0-9a-f]{8}\+[A-Za-z0-9+/]{44}$/);
});

// ---- keys: negative vectors ----

test('every proper substring and every one-byte change of the PeterNeumann verifier key is refused (golang/mod TestNewVerifier)', (t) => {
  let refused = 0;
  for (let i = 0; i <= PETER_VKEY.length; i++) {
    for (let j = i + 1; j <= PETER_VKEY.length; j++) {
      if (i === 0 && j === PETER_VKEY.length) continue;
      t.not(codeOf(() => parseVerifierKey(PETER_VKEY.slice(i, j))), 'ok', PETER_VKEY.slice(i, j));
      refused++;
    }
  }
  for (let i = 0; i < PETER_VKEY.length; i++) {
    const mangled = PETER_VKEY.slice(0, i) + String.fromCharCode(PETER_VKEY.charCodeAt(i) + 1) + PETER_VKEY.slice(i + 1);
    t.not(codeOf(() => parseVerifierKey(mangled)), 'ok', mangled);
    refused++;
  }
  t.true(refused > 2000);
});

test('every proper substring and every one-byte change of the PeterNeumann signer key is refused (golang/mod TestNewSigner)', (t) => {
  for (let i = 0; i <= PETER_SKEY.length; i++) {
    for (let j = i + 1; j <= PETER_SKEY.length; j++) {
      if (i === 0 && j === PETER_SKEY.length) continue;
      t.not(codeOf(() => parseSignerKey(PETER_SKEY.slice(i, j))), 'ok', PETER_SKEY.slice(i, j));
    }
  }
  for (let i = 0; i < PETER_SKEY.length; i++) {
    const mangled = PETER_SKEY.slice(0, i) + String.fromCharCode(PETER_SKEY.charCodeAt(i) + 1) + PETER_SKEY.slice(i + 1);
    t.not(codeOf(() => parseSignerKey(mangled)), 'ok', mangled);
  }
});

const badKeys: { desc: string; key: string; parse: 'verifier' | 'signer'; wantErr: string }[] = [
  { desc: 'wrong key length with adjusted key ID (golang/mod)', key: 'PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==', parse: 'verifier', wantErr: 'BadBase64' },
  { desc: 'unknown algorithm with adjusted key ID (golang/mod)', key: 'PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW', parse: 'verifier', wantErr: 'UnknownAlgorithm' },
  { desc: 'key ID of another key', key: 'PeterNeumann+af0cfe78+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW', parse: 'verifier', wantErr: 'KeyIdMismatch' },
  { desc: 'upper-case key ID', key: 'PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW', parse: 'verifier', wantErr: 'BadKey' },
  { desc: 'name with a space', key: 'Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW', parse: 'verifier', wantErr: 'BadKeyName' },
  { desc: 'verifier key given as signer key', key: PETER_VKEY, parse: 'signer', wantErr: 'BadKey' },
  { desc: 'signer key given as verifier key (key ID field is "KEY")', key: PETER_SKEY, parse: 'verifier', wantErr: 'BadKey' },
  { desc: 'signer key under another name: key ID mismatch', key: 'PRIVATE+KEY+PeterNeuman+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz', parse: 'signer', wantErr: 'KeyIdMismatch' },
  { desc: 'signer key with a 31-byte seed', key: 'PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKA==', parse: 'signer', wantErr: 'BadKey' },
];

for (const v of badKeys) {
  test(`bad key: ${v.desc} → ${v.wantErr}`, (t) => {
    t.is(codeOf(() => (v.parse === 'verifier' ? parseVerifierKey(v.key) : parseSignerKey(v.key))), v.wantErr);
  });
}

test('key names: no empty name, no white space, no "+"', (t) => {
  t.true(isValidKeyName('example.com/log'));
  t.true(isValidKeyName('Señor-1'));
  for (const bad of ['', 'a b', 'a+b', 'a\tb', 'a\u00a0b', 'a\u2028b', 'a\u0085b']) t.false(isValidKeyName(bad), JSON.stringify(bad));
  t.is(codeOf(() => generateNoteKey('a+b')), 'BadKeyName');
  t.is(codeOf(() => generateNoteKey('ok', new Uint8Array(31))), 'BadKey');
});

test('decodeBase64Strict accepts only canonical padded standard base64', (t) => {
  t.is(toHex(decodeBase64Strict('YmFuYW5hcw==') as Uint8Array), toHex(new TextEncoder().encode('bananas')));
  for (const bad of ['YmFuYW5hcw', 'YmFuYW5hcx==', 'YmFu YW5h', 'YmFuYW5hcw=', '-_-_', 'Ym=uYW5h']) t.is(decodeBase64Strict(bad), undefined, bad);
});

// ---- signing and opening: positive vectors ----

test('signNote reproduces the published PeterNeumann signed note (golang/mod TestSign)', (t) => {
  t.is(signNote(TEXT, PETER_SKEY), `${TEXT}\n${PETER_SIG}`);
});

test('signNote with the all-zero-seed EnochRoot key reproduces the published EnochRoot signature line', (t) => {
  t.is(signNote(TEXT, generateNoteKey('EnochRoot', ZERO_SEED).signerKey), `${TEXT}\n${ENOCH_SIG}`);
});

test('openNote: one signature verified, one by an unknown key reported (golang/mod TestOpen)', (t) => {
  const n = openNote(`${TEXT}\n${PETER_SIG}${ENOCH_SIG}`, [PETER_VKEY]);
  t.is(n.text, TEXT);
  t.deepEqual(n.verified, [peter]);
  t.deepEqual(n.unverified, [enoch]);
});

test('openNote: both verified, from bytes', (t) => {
  const n = openNote(new TextEncoder().encode(`${TEXT}\n${PETER_SIG}${ENOCH_SIG}`), [PETER_VKEY, parseVerifierKey(ENOCH_VKEY)]);
  t.deepEqual(n.verified, [peter, enoch]);
  t.deepEqual(n.unverified, []);
});

test('openNote: an unused duplicated verifier is not an error', (t) => {
  t.deepEqual(openNote(`${TEXT}\n${PETER_SIG}`, [ENOCH_VKEY, PETER_VKEY, ENOCH_VKEY]).verified, [peter]);
});

test('openNote: duplicated lines are reported once; a corrupted unknown signature stays unverified', (t) => {
  // Go's byte offset 60 is UTF-16 offset 58 here: the em dash is 3 bytes in UTF-8, 1 code unit in JS.
  const enochAbcd = `${ENOCH_SIG.slice(0, 58)}ABCD${ENOCH_SIG.slice(58)}`;
  const n = openNote(`${TEXT}\n${PETER_SIG}${PETER_SIG}${ENOCH_SIG}${ENOCH_SIG}${enochAbcd}`, [PETER_VKEY]);
  t.deepEqual(n.verified, [peter]);
  t.deepEqual(n.unverified, [enoch, { ...enoch, base64: `${enoch.base64.slice(0, 46)}ABCD${enoch.base64.slice(46)}` }]);
});

test('openNote: the signed-note and tlog-checkpoint spec examples parse (signatures by unpublished keys)', (t) => {
  const poem = 'Ognuno sta solo sul cuor della terra\ntrafitto da un raggio di sole:\n\ned è subito sera.\n';
  const poemNote = `${poem}\n— quasimodo.example/salvatore NnugSzTjtVAewIS+Z/iJhUPeFDkO/5QQ2i5ddnGITLlC+EhfLW9oJKONrMouFSQU0xMcXxj99ihAQwaqP3ZekRwNtIc=\n`;
  const parsed = parseNote(poemNote);
  t.is(parsed.text, poem);
  t.is(parsed.signatures[0]?.name, 'quasimodo.example/salvatore');
  t.is(parsed.signatures[0]?.keyId.toString(16), '367ba04b');
  const err = t.throws(() => openNote(poemNote, [PETER_VKEY]), { instanceOf: NoteError });
  t.is(err.code, 'UnverifiedNote');
  t.is(err.unverified.length, 1);
});

// ---- signing and opening: negative vectors ----

const badNotes: { desc: string; note: string | Uint8Array; wantErr: string }[] = [
  { desc: 'text only, unsigned (golang/mod)', note: TEXT, wantErr: 'MissingSignatures' },
  { desc: 'text and blank line, no signature (golang/mod)', note: `${TEXT}\n`, wantErr: 'MissingSignatures' },
  { desc: 'signature line without final newline (golang/mod)', note: `${TEXT}\n${PETER_SIG.slice(0, -1)}`, wantErr: 'MalformedSignatureLine' },
  { desc: 'control character 0x01 (golang/mod)', note: `\x01${TEXT}\n${PETER_SIG}`, wantErr: 'ControlCharacter' },
  { desc: 'invalid UTF-8 byte 0xff (golang/mod)', note: Uint8Array.from([0xff, ...new TextEncoder().encode(`${TEXT}\n${PETER_SIG}`)]), wantErr: 'NotUtf8' },
  { desc: 'key name with a space (golang/mod, with final newline)', note: `${TEXT}\n— Bad Name ${peter.base64}\n`, wantErr: 'BadKeyName' },
  { desc: 'line after signatures (golang/mod)', note: `${TEXT}\n${PETER_SIG}Unexpected line.\n`, wantErr: 'MalformedSignatureLine' },
  { desc: 'too many signatures (golang/mod: 101)', note: `${TEXT}\n${PETER_SIG.repeat(MAX_SIGNATURES + 1)}`, wantErr: 'TooManySignatures' },
  { desc: 'corrupted known signature (golang/mod: ABCD inserted at byte 60)', note: `${TEXT}\n${PETER_SIG.slice(0, 58)}ABCD${PETER_SIG.slice(58)}`, wantErr: 'InvalidSignature' },
  { desc: 'duplicated verifier for the key that signed (golang/mod)', note: `${TEXT}\n${ENOCH_SIG}`, wantErr: 'AmbiguousKey' },
  { desc: 'key name changed: unknown key (golang/mod CarmenSandiego)', note: `${TEXT}\n${PETER_SIG.replace('PeterNeumann', 'CarmenSandiego')}`, wantErr: 'UnverifiedNote' },
  { desc: 'key ID changed: unknown key (golang/mod x08g→xxxx)', note: `${TEXT}\n${PETER_SIG.replace('x08g', 'xxxx')}`, wantErr: 'UnverifiedNote' },
  { desc: 'signed by a different key only', note: `${TEXT}\n${ENOCH_SIG}`, wantErr: 'UnverifiedNote' },
  { desc: 'tampered text', note: `${TEXT.replace('answer', 'Answer')}\n${PETER_SIG}`, wantErr: 'InvalidSignature' },
  { desc: 'hyphen instead of em dash', note: `${TEXT}\n- PeterNeumann ${peter.base64}\n`, wantErr: 'MalformedSignatureLine' },
  { desc: 'signature of 4 bytes only (key ID, no signature)', note: `${TEXT}\n— PeterNeumann x08go/==\n`, wantErr: 'BadBase64' },
  { desc: 'non-canonical base64 signature (no padding)', note: `${TEXT}\n— PeterNeumann ${peter.base64.slice(0, -1)}\n`, wantErr: 'BadBase64' },
  { desc: 'carriage return line ending', note: `${TEXT}\n${PETER_SIG.replace('\n', '\r\n')}`, wantErr: 'ControlCharacter' },
  { desc: 'lone surrogate in a string note', note: `\uD800${TEXT}\n${PETER_SIG}`, wantErr: 'NotUtf8' },
];

for (const v of badNotes) {
  test(`bad note: ${v.desc} → ${v.wantErr}`, (t) => {
    const verifiers = v.wantErr === 'AmbiguousKey' ? [ENOCH_VKEY, PETER_VKEY, ENOCH_VKEY] : [PETER_VKEY];
    t.is(codeOf(() => openNote(v.note, verifiers)), v.wantErr);
  });
}

test('openNote with no verifiers: UnverifiedNote listing both signatures (golang/mod)', (t) => {
  const err = t.throws(() => openNote(`${TEXT}\n${PETER_SIG}${ENOCH_SIG}`, []), { instanceOf: NoteError });
  t.is(err.code, 'UnverifiedNote');
  t.deepEqual(err.unverified, [peter, enoch]);
});

test('signNote refuses text that does not end in a newline, empty text and control characters', (t) => {
  t.is(codeOf(() => signNote('abc', PETER_SKEY)), 'BadText');
  t.is(codeOf(() => signNote('', PETER_SKEY)), 'BadText');
  t.is(codeOf(() => signNote('a\tb\n', PETER_SKEY)), 'ControlCharacter');
  t.is(codeOf(() => signNote(TEXT, PETER_VKEY)), 'BadKey');
});

// ---- properties ----

const noteText = fc
  .array(fc.string({ unit: 'grapheme', maxLength: 30 }).filter((line) => ![...line].some((c) => c.charCodeAt(0) < 0x20)), { minLength: 1, maxLength: 6 })
  .map((lines) => `${lines.join('\n')}\n`);
const seed = fc.uint8Array({ minLength: 32, maxLength: 32 });

test('property: a signed note opens with its verifier and returns the exact text', (t) => {
  t.notThrows(() =>
    fc.assert(
      fc.property(noteText, seed, (text, s) => {
        const { signerKey, verifierKey } = generateNoteKey('example.com/log', s);
        const n = openNote(signNote(text, signerKey), [verifierKey]);
        return n.text === text && n.verified.length === 1 && n.unverified.length === 0;
      }),
      { numRuns: 100 },
    ),
  );
});

test('property: a note signed by another key with the same name is not verified', (t) => {
  t.notThrows(() =>
    fc.assert(
      fc.property(noteText, seed, seed, (text, s1, s2) => {
        fc.pre(toHex(s1) !== toHex(s2));
        const signer = generateNoteKey('example.com/log', s1);
        const other = generateNoteKey('example.com/log', s2);
        return codeOf(() => openNote(signNote(text, signer.signerKey), [other.verifierKey])) === 'UnverifiedNote';
      }),
      { numRuns: 50 },
    ),
  );
});

test('property: any bit flip in the published PeterNeumann signed note is refused', (t) => {
  const bytes = new TextEncoder().encode(`${TEXT}\n${PETER_SIG}`);
  t.notThrows(() =>
    fc.assert(
      fc.property(fc.nat({ max: bytes.length * 8 - 1 }), (bit) => {
        const copy = Uint8Array.from(bytes);
        copy[bit >> 3] = (copy[bit >> 3] as number) ^ (1 << (bit & 7));
        return codeOf(() => openNote(copy, [PETER_VKEY])) !== 'ok';
      }),
      { numRuns: 500 },
    ),
  );
});
