// `tai log proof` → `tai log verify-receipt` round trips on a published log, and tampering refused with its reason.
import test from 'ava';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { encodeCose, entryBundlePath, fromHex, nodeAtFromLeaves, signCheckpoint, tilePath, toHex, treeRoot } from '../receipts/index.ts';
import { decodeCose, type CoseValue } from '../receipts/cose-cbor.ts';
import { decodeInclusionReceipt, encodeInclusionProof } from '../receipts/cose-receipt.ts';
import { FixtureLog, fixtureEntry, fixtureLog, runTai } from '../test/support/log-fixture.ts';

const SIZE = 600;

let shared: Promise<{ log: FixtureLog }> | undefined;
/** One log grown and published in steps (100, 256, 600), as `tai serve` would. */
function grown(): Promise<{ log: FixtureLog }> {
  shared ??= (async () => {
    const log = await fixtureLog();
    for (const size of [100, 256, SIZE]) await log.grow(size).publish();
    return { log };
  })();
  return shared;
}

async function proveTo(log: FixtureLog, index: number): Promise<{ receipt: string; entry: string }> {
  const out = join(log.dir, `receipt.${index}.cose`);
  const r = await runTai(['log', 'proof', String(index), '--log', log.logDir, '--out', out]);
  if (r.code !== 0) throw new Error(r.err.join('\n'));
  return { receipt: out, entry: `${out}.entry` };
}

const verifyReceipt = (files: { receipt: string; entry: string; checkpoint?: string }, vkey: string): ReturnType<typeof runTai> =>
  runTai(['log', 'verify-receipt', '--receipt', files.receipt, '--entry', files.entry, '--vkey', vkey, ...(files.checkpoint ? ['--checkpoint', files.checkpoint] : [])]);

for (const index of [0, 1, 255, 256, 511, 512, SIZE - 1]) {
  test(`proof ${index} → verify-receipt: exit 0, the entry at the checkpoint's root`, async (t) => {
    const { log } = await grown();
    const files = await proveTo(log, index);
    t.deepEqual(new Uint8Array(await readFile(files.entry)), log.entries[index]!.bytes);
    const r = await verifyReceipt(files, log.verifierKey);
    t.is(r.code, 0, r.err.join('\n'));
    t.regex(r.out[0]!, new RegExp(`^✓ entry ${index} is a leaf of the Merkle tree with root [0-9a-f]{64}, signed by test\\.tai\\.dev/log\\+[0-9a-f]{8}$`));
    t.regex(r.out.join('\n'), new RegExp(`not proven: the tree size ${SIZE} .*unsigned header`));
    const proven = await verifyReceipt({ ...files, checkpoint: `${files.receipt}.checkpoint` }, log.verifierKey);
    t.is(proven.code, 0, proven.err.join('\n'));
    t.regex(proven.out[0]!, new RegExp(`^✓ entry ${index} is in the log of ${SIZE} entries with root [0-9a-f]{64}: proven by the checkpoint .*checkpoint signed by test\\.tai\\.dev/log\\+[0-9a-f]{8}$`));
  });
}

/** The receipt with the tree size in its (unsigned) inclusion proof replaced: the signature still verifies. */
function withTreeSize(receipt: Uint8Array, treeSize: number): Uint8Array {
  const [protectedBytes, , , signature] = decodeCose(receipt.subarray(1)) as CoseValue[];
  const { leafIndex, path } = decodeInclusionReceipt(receipt);
  const unprotected = new Map([[396, new Map([[-1, [encodeInclusionProof({ treeSize, leafIndex, path })]]])]]);
  return Uint8Array.of(0xd2, ...encodeCose([protectedBytes!, unprotected, null, signature!]));
}

test('a receipt whose unsigned tree size was edited (600 → 599) claims nothing it cannot prove; --checkpoint refuses it', async (t) => {
  const { log } = await grown();
  const files = await proveTo(log, 255);
  const edited = { ...files, receipt: await scratch(log, 'size599.cose', withTreeSize(new Uint8Array(await readFile(files.receipt)), 599)) };
  const r = await verifyReceipt(edited, log.verifierKey);
  t.is(r.code, 0, 'the entry is a leaf of the signed root: the signature covers the root only');
  t.notRegex(r.out.join('\n'), /in the log of 599 entries/);
  t.regex(r.out.join('\n'), /not proven: the tree size 599 is claimed by the receipt's unsigned header/);
  t.regex(r.out.join('\n'), /--checkpoint/);
  const checkpoint = join(log.logDir, 'checkpoint');
  const refused = await verifyReceipt({ ...edited, checkpoint }, log.verifierKey);
  t.is(refused.code, 1);
  t.deepEqual(refused.out, []);
  t.regex(refused.err.join('\n'), /SizeMismatch: the receipt claims tree size 599, the checkpoint .* has size 600/);
  const leaves = log.entries.slice(0, 599).map((e) => e.leafHash);
  const other = await scratch(log, 'cp599', new TextEncoder().encode(signCheckpoint({ origin: log.origin, size: 599, root: treeRoot(599, nodeAtFromLeaves(leaves)) }, log.signerKey)));
  const rootDiffers = await verifyReceipt({ ...edited, checkpoint: other }, log.verifierKey);
  t.is(rootDiffers.code, 1, 'a real checkpoint of size 599 has another root');
  t.regex(rootDiffers.err.join('\n'), /RootMismatch: the root recomputed from the entry and the proof, [0-9a-f]{64}, is not the root [0-9a-f]{64} of the checkpoint .*cp599 \(size 599\)/);
  const foreign = await fixtureLog({ seed: 9 });
  await foreign.grow(600).publish();
  const unsigned = await verifyReceipt({ ...files, checkpoint: join(foreign.logDir, 'checkpoint') }, log.verifierKey);
  t.is(unsigned.code, 1);
  t.regex(unsigned.err.join('\n'), /checkpoint: not signed by test\.tai\.dev\/log\+[0-9a-f]{8}/);
});

test('proof without --out prints JSON with hex that verify-receipt reads from files', async (t) => {
  const { log } = await grown();
  const r = await runTai(['log', 'proof', '42', '--log', log.logDir, '--key', log.keyPath]);
  t.is(r.code, 0, r.err.join('\n'));
  const json = JSON.parse(r.out.join('\n')) as { index: number; treeSize: number; root: string; leafHash: string; receipt: string; entry: string };
  t.like(json, { index: 42, treeSize: SIZE, leafHash: toHex(log.entries[42]!.leafHash), entry: toHex(log.entries[42]!.bytes) });
  t.is(decodeInclusionReceipt(fromHex(json.receipt)).leafIndex, 42);
  const files = { receipt: join(log.dir, 'r42.hex'), entry: join(log.dir, 'e42.hex') };
  await writeFile(files.receipt, `${json.receipt}\n`);
  await writeFile(files.entry, json.entry);
  t.is((await verifyReceipt(files, join(log.dir, 'signing.key.pub'))).code, 0, 'the verifier key from a file');
});

/** Writes `bytes` beside the log and returns the path. */
async function scratch(log: FixtureLog, name: string, bytes: Uint8Array): Promise<string> {
  const path = join(log.dir, name);
  await writeFile(path, bytes);
  return path;
}

test('tampered receipts and entries are refused with the reason', async (t) => {
  const { log } = await grown();
  const files = await proveTo(log, 300);
  const receipt = new Uint8Array(await readFile(files.receipt));
  const cases: [string, { receipt: string; entry: string; vkey?: string }, RegExp][] = [
    ['a flipped signature byte', { ...files, receipt: await scratch(log, 'sig.cose', receipt.map((b, i) => (i === receipt.length - 1 ? b ^ 0x80 : b))) }, /BadSignature: the Ed25519 signature does not verify over root/],
    ['another entry', { ...files, entry: await scratch(log, 'e301', log.entries[301]!.bytes) }, /WrongEntry: .*e301 holds entry 301, but .*receipt\.300\.cose proves leaf 300/],
    ['bytes that are no entry', { ...files, entry: await scratch(log, 'junk', Uint8Array.of(1, 2, 3)) }, /WrongEntry: .*junk is not a TAI log entry/],
    ['an entry 300 from a forked log', { ...files, entry: await scratch(log, 'fork300', forkedEntry(log, 300)) }, /BadSignature: .*recomputed from leaf/],
    ['a flipped proof hash', { ...files, receipt: await scratch(log, 'proof.cose', flipProofHash(receipt)) }, /BadSignature/],
    ['another verifier key', { ...files, vkey: (await fixtureLog({ seed: 9 })).verifierKey }, /KeyMismatch: kid [0-9a-f]{8} is not the pinned key's ID [0-9a-f]{8}/],
    ['a truncated receipt', { ...files, receipt: await scratch(log, 'short.cose', receipt.subarray(0, 50)) }, /Malformed: COSE_Sign1: truncated/],
  ];
  for (const [what, c, reason] of cases) {
    const r = await verifyReceipt(c, c.vkey ?? log.verifierKey);
    t.is(r.code, 1, what);
    t.deepEqual(r.out, [], what);
    t.regex(r.err.join('\n'), reason, what);
  }
});

/** The bytes of entry `index` in a log that forked from this one at its start (another first entry). */
function forkedEntry(log: FixtureLog, index: number): Uint8Array {
  const fork = new FixtureLog({ dir: log.dir, seed: 7, origin: log.origin });
  fork.grow(index + 1, (i) => (i === 0 ? { kind: 'lifecycle', body: { event: 'start', version: 'forked' } } : fixtureEntry(i)));
  return fork.entries[index]!.bytes;
}

/** The receipt with the first byte of its first proof hash flipped (found by its position in the encoding). */
function flipProofHash(receipt: Uint8Array): Uint8Array {
  const firstHash = decodeInclusionReceipt(receipt).path[0]!;
  const at = Buffer.from(receipt).indexOf(Buffer.from(firstHash));
  return receipt.map((b, i) => (i === at ? b ^ 1 : b));
}

test('proof findings and usage errors', async (t) => {
  const { log } = await grown();
  const past = await runTai(['log', 'proof', String(SIZE), '--log', log.logDir]);
  t.is(past.code, 1);
  t.regex(past.err.join('\n'), /entry 600 is past the checkpoint \(size 600\)/);
  const one = await fixtureLog();
  await one.grow(1).publish();
  const single = await runTai(['log', 'proof', '0', '--log', one.logDir]);
  t.is(single.code, 1);
  t.regex(single.err.join('\n'), /one entry: its inclusion path is empty and RFC 9942 receipts need one hash/);
  const fraction = await runTai(['log', 'proof', '1.5', '--log', log.logDir]);
  t.is(fraction.code, 2);
  t.regex(fraction.err.join('\n'), /INDEX must be a whole number, got "1\.5"/);
  const wrongKey = await fixtureLog({ seed: 9 });
  const signedByOther = await runTai(['log', 'proof', '3', '--log', log.logDir, '--key', wrongKey.keyPath]);
  t.is(signedByOther.code, 1);
  t.regex(signedByOther.err.join('\n'), /checkpoint: not signed by test\.tai\.dev\/log\+[0-9a-f]{8}/);
  const missing = await runTai(['log', 'verify-receipt', '--receipt', 'x']);
  t.is(missing.code, 2);
  t.regex(missing.err.join('\n'), /--entry is required/);
  t.regex((await runTai(['log', 'proof', '3', '--tenant', 'x'])).err.join('\n'), /--tenant is not an option of tai log proof/);
});

test('proof reads a partial tile the log has since replaced as a prefix of the full one', async (t) => {
  const log = await fixtureLog();
  await log.grow(300).publish();
  await log.grow(SIZE).publish();
  // A reader holding the checkpoint at 300 finds tile/0/001.p/44 and its bundle gone once they are full.
  const leaves = log.entries.slice(0, 300).map((e) => e.leafHash);
  await writeFile(join(log.logDir, 'checkpoint'), signCheckpoint({ origin: log.origin, size: 300, root: treeRoot(300, nodeAtFromLeaves(leaves)) }, log.signerKey));
  await rm(join(log.logDir, tilePath({ level: 0, index: 1, width: 44 })));
  await rm(join(log.logDir, entryBundlePath({ index: 1, width: 44 })));
  const files = await proveTo(log, 299);
  const r = await verifyReceipt({ ...files, checkpoint: join(log.logDir, 'checkpoint') }, log.verifierKey);
  t.is(r.code, 0, r.err.join('\n'));
  t.regex(r.out[0]!, /entry 299 is in the log of 300 entries/);
});
