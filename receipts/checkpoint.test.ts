// C2SP tlog-checkpoint: format, strict parse, sign and verify. Published vectors: the tlog-checkpoint
// spec example (github.com/C2SP/C2SP, tlog-checkpoint.md), the sum.golang.org signed checkpoint and
// verifier key and the Checkpoint.Unmarshal cases of github.com/transparency-dev/formats
// (log/note_test.go, log/checkpoint_test.go), and the golang.org/x/mod note keys
// (github.com/golang/mod, sumdb/note/note_test.go).
import test from 'ava';
import fc from 'fast-check';
import { fromHex, toHex } from './merkle-hash.ts';
import { CheckpointError, formatCheckpoint, parseCheckpoint, signCheckpoint, verifyCheckpoint } from './checkpoint.ts';
import { NoteError, generateNoteKey, signNote } from './signed-note.ts';

// transparency-dev/formats log/note_test.go TestSumDBNoteParsing: a real sum.golang.org checkpoint.
const SUMDB_VKEY = 'sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8';
const SUMDB_NOTE =
  'go.sum database tree\n6476701\nmb8QLQIs0Z0yP5Cstq6guj87oXWeC9gEM8oVikmm9Wk=\n\n' +
  '— sum.golang.org Az3grsLX85Gz+s1SiTbgkuqxgItqFq7gsMUEyVnrsa9LM7Us9S+1xbFIGu95949rj4nPRYfvimWEPWL+o3GeoWwOoAw=\n';
// golang/mod sumdb/note/note_test.go
const PETER_VKEY = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
const PETER_SKEY = 'PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz';
// C2SP tlog-checkpoint.md example. Root hex: echo CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I= | base64 -d | xxd -p -c 32
const SPEC_TEXT = 'example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n';
const SPEC_ROOT = '0ac5186a91863e8e1d90c808014aa89bf5da8e3ee1d9f07630f0378f68f1ab62';
// A 32-byte root for checkpoints of our own: SHA-256 of the empty string (`printf '' | sha256sum`).
const EMPTY_ROOT = fromHex('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');

const codeOf = (fn: () => unknown): string => {
  try {
    fn();
  } catch (err) {
    if (err instanceof CheckpointError || err instanceof NoteError) return err.code;
    throw err;
  }
  return 'ok';
};

// ---- positive vectors ----

test('parseCheckpoint: the tlog-checkpoint spec example', (t) => {
  const cp = parseCheckpoint(SPEC_TEXT);
  t.is(cp.origin, 'example.com/behind-the-sofa');
  t.is(cp.size, 20852163);
  t.is(toHex(cp.root), SPEC_ROOT);
  t.deepEqual(cp.extensions, []);
  t.is(formatCheckpoint(cp), SPEC_TEXT);
});

test('verifyCheckpoint: the published sum.golang.org checkpoint (transparency-dev/formats)', (t) => {
  const { checkpoint, note } = verifyCheckpoint(SUMDB_NOTE, SUMDB_VKEY, 'go.sum database tree');
  t.is(checkpoint.origin, 'go.sum database tree');
  t.is(checkpoint.size, 6476701);
  t.is(checkpoint.root.length, 32);
  t.is(note.verified[0]?.name, 'sum.golang.org');
  t.is(verifyCheckpoint(new TextEncoder().encode(SUMDB_NOTE), SUMDB_VKEY).checkpoint.size, 6476701);
});

test('formatCheckpoint: origin, size, base64 root, extensions, each line ending in a newline', (t) => {
  t.is(formatCheckpoint({ origin: 'tai.example/cluster-a/replica-0', size: 0, root: EMPTY_ROOT }), 'tai.example/cluster-a/replica-0\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n');
  const text = formatCheckpoint({ origin: 'Moon Log', size: 4027504, root: EMPTY_ROOT, extensions: ['6086d1a9', 'Waxing gibbous'] });
  t.is(text, 'Moon Log\n4027504\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n6086d1a9\nWaxing gibbous\n');
  t.deepEqual(parseCheckpoint(text).extensions, ['6086d1a9', 'Waxing gibbous']);
});

test('signCheckpoint then verifyCheckpoint round-trips; signatures by other keys are ignored and listed', (t) => {
  const cp = { origin: 'tai.example/log', size: 42, root: EMPTY_ROOT };
  const signed = signCheckpoint(cp, PETER_SKEY);
  t.true(signed.startsWith(formatCheckpoint(cp)));
  const other = generateNoteKey('witness.example', new Uint8Array(32).fill(9));
  const cosigned = `${signed}${signCheckpoint(cp, other.signerKey).split('\n\n')[1]}`;
  const { checkpoint, note } = verifyCheckpoint(cosigned, PETER_VKEY, 'tai.example/log');
  t.is(checkpoint.size, 42);
  t.is(note.verified.length, 1);
  t.deepEqual(note.unverified.map((s) => s.name), ['witness.example']);
});

// ---- negative vectors ----

const badTexts: { desc: string; text: string; wantErr: string }[] = [
  { desc: 'insufficient lines (formats)', text: 'Head\n9944\n', wantErr: 'MissingLine' },
  { desc: 'empty origin (formats)', text: '\n9944\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n', wantErr: 'EmptyOrigin' },
  { desc: 'missing newline on root (formats)', text: 'Log\n123\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=', wantErr: 'BadText' },
  { desc: 'size not a number (formats)', text: 'Log\nbananas\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n', wantErr: 'BadSize' },
  { desc: 'negative size (formats)', text: 'Log\n-34\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n', wantErr: 'BadSize' },
  { desc: 'size too large (formats)', text: 'Log\n3438945738945739845734895735\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n', wantErr: 'BadSize' },
  { desc: 'root not base64 (formats)', text: "Log\n123\nThisIsn'tBase64\n", wantErr: 'BadRoot' },
  { desc: 'root of 7 bytes (formats "bananas": valid there, not a SHA-256 root)', text: 'Log\n123\nYmFuYW5hcw==\n', wantErr: 'BadRoot' },
  { desc: 'trailing empty lines (formats accepts them as rest; extension lines must be non-empty)', text: `Log\n9944\n${'47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='}\n\n\n\n`, wantErr: 'EmptyExtension' },
  { desc: 'size with a leading zero', text: 'Log\n0123\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n', wantErr: 'BadSize' },
  { desc: 'size with a plus sign', text: 'Log\n+123\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n', wantErr: 'BadSize' },
  { desc: 'size 2^53, past a safe integer', text: 'Log\n9007199254740992\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n', wantErr: 'BadSize' },
  { desc: 'root without padding', text: 'Log\n1\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU\n', wantErr: 'BadRoot' },
  { desc: 'root in URL-safe base64', text: 'Log\n1\n47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU=\n', wantErr: 'BadRoot' },
  { desc: 'carriage return line endings', text: 'Log\r\n1\r\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\r\n', wantErr: 'BadText' },
  { desc: 'empty text', text: '', wantErr: 'BadText' },
];

for (const v of badTexts) {
  test(`bad checkpoint text: ${v.desc} → ${v.wantErr}`, (t) => {
    t.is(codeOf(() => parseCheckpoint(v.text)), v.wantErr);
  });
}

test('formatCheckpoint refuses what parseCheckpoint would refuse', (t) => {
  t.is(codeOf(() => formatCheckpoint({ origin: '', size: 1, root: EMPTY_ROOT })), 'EmptyOrigin');
  t.is(codeOf(() => formatCheckpoint({ origin: 'a\nb', size: 1, root: EMPTY_ROOT })), 'BadText');
  t.is(codeOf(() => formatCheckpoint({ origin: 'log', size: -1, root: EMPTY_ROOT })), 'BadSize');
  t.is(codeOf(() => formatCheckpoint({ origin: 'log', size: 1.5, root: EMPTY_ROOT })), 'BadSize');
  t.is(codeOf(() => formatCheckpoint({ origin: 'log', size: 1, root: new Uint8Array(31) })), 'BadRoot');
  t.is(codeOf(() => formatCheckpoint({ origin: 'log', size: 1, root: EMPTY_ROOT, extensions: [''] })), 'EmptyExtension');
});

const signedByPeter = signCheckpoint({ origin: 'tai.example/log', size: 7, root: EMPTY_ROOT }, PETER_SKEY);

const badNotes: { desc: string; note: string; key: string; origin?: string; wantErr: string }[] = [
  { desc: 'sum.golang.org checkpoint, wrong origin (formats)', note: SUMDB_NOTE, key: SUMDB_VKEY, origin: 'Go rocks but I might have the wrong ID', wantErr: 'WrongOrigin' },
  { desc: 'sum.golang.org checkpoint, verified with another key', note: SUMDB_NOTE, key: PETER_VKEY, wantErr: 'UnverifiedNote' },
  { desc: 'unsigned checkpoint text', note: formatCheckpoint({ origin: 'tai.example/log', size: 7, root: EMPTY_ROOT }), key: PETER_VKEY, wantErr: 'MissingSignatures' },
  { desc: 'signature by a different key', note: signCheckpoint({ origin: 'tai.example/log', size: 7, root: EMPTY_ROOT }, generateNoteKey('PeterNeumann').signerKey), key: PETER_VKEY, wantErr: 'UnverifiedNote' },
  { desc: 'tampered size', note: signedByPeter.replace('\n7\n', '\n8\n'), key: PETER_VKEY, wantErr: 'InvalidSignature' },
  { desc: 'tampered root', note: signedByPeter.replace('47DEQ', '47DEq'), key: PETER_VKEY, wantErr: 'InvalidSignature' },
  { desc: 'trailing garbage after the signature', note: `${signedByPeter}garbage\n`, key: PETER_VKEY, wantErr: 'MalformedSignatureLine' },
  { desc: 'garbage before the checkpoint', note: `x${signedByPeter}`, key: PETER_VKEY, wantErr: 'InvalidSignature' },
  { desc: 'signed text that is not a checkpoint (formats "bad body good sigs")', note: signNote("if this is a valid checkpoint then I'll eat my hat\n", PETER_SKEY), key: PETER_VKEY, wantErr: 'MissingLine' },
  { desc: 'the spec example signature: key not published, so never trusted', note: `${SPEC_TEXT}\n— example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n`, key: SUMDB_VKEY, wantErr: 'UnverifiedNote' },
];

for (const v of badNotes) {
  test(`bad signed checkpoint: ${v.desc} → ${v.wantErr}`, (t) => {
    t.is(codeOf(() => verifyCheckpoint(v.note, v.key, v.origin)), v.wantErr);
  });
}

// ---- properties ----

test('property: any bit flip in a signed checkpoint fails verification (ours and the published sum.golang.org one)', (t) => {
  const ours = new TextEncoder().encode(signCheckpoint({ origin: 'tai.example/cluster-a/replica-0', size: 123456, root: EMPTY_ROOT, extensions: ['ext'] }, PETER_SKEY));
  const sumdb = new TextEncoder().encode(SUMDB_NOTE);
  t.notThrows(() =>
    fc.assert(
      fc.property(fc.boolean(), fc.nat(), (useOurs, bit) => {
        const [bytes, key] = useOurs ? [ours, PETER_VKEY] : [sumdb, SUMDB_VKEY];
        const copy = Uint8Array.from(bytes);
        const at = Math.floor(bit / 8) % copy.length;
        copy[at] = (copy[at] as number) ^ (1 << bit % 8);
        return codeOf(() => verifyCheckpoint(copy, key)) !== 'ok';
      }),
      { numRuns: 1000 },
    ),
  );
});

test('property: format and parse round-trip, and signed checkpoints verify', (t) => {
  const line = fc.string({ minLength: 1, maxLength: 20 }).filter((s) => ![...s].some((c) => c.charCodeAt(0) < 0x20 || (c.charCodeAt(0) >= 0xd800 && c.charCodeAt(0) <= 0xdfff)));
  const key = generateNoteKey('tai.example/log', new Uint8Array(32).fill(1));
  t.notThrows(() =>
    fc.assert(
      fc.property(line, fc.maxSafeNat(), fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.array(line, { maxLength: 3 }), (origin, size, root, extensions) => {
        const text = formatCheckpoint({ origin, size, root, extensions });
        const back = parseCheckpoint(text);
        const verified = verifyCheckpoint(signCheckpoint(back, key.signerKey), key.verifierKey, origin).checkpoint;
        return back.origin === origin && back.size === size && toHex(back.root) === toHex(root) && back.extensions.join('\n') === extensions.join('\n') && verified.size === size;
      }),
      { numRuns: 200 },
    ),
  );
});
