// `tai log verify-receipt`: checks an RFC 9942 receipt of inclusion offline, and says what it proved. The
// signature covers the Merkle root only (RFC 9942 §5.2: alg and vds are protected, the inclusion proof with its
// tree size and leaf index is not), so without a trusted checkpoint the tree size is a claim; with
// --checkpoint the checkpoint's size and root must be the receipt's.
import { readFile } from 'node:fs/promises';
import { decodeReceipt, parseVerifierKey, toHex, verifyCheckpoint, type Checkpoint } from '../receipts/index.ts';
import { CoseReceiptError, decodeInclusionReceipt, matchCheckpoint, verifyInclusionReceipt, type VerifiedInclusion } from '../receipts/cose-receipt.ts';
import { EXIT, UsageError, stringOption, type CommandIO } from './io.ts';
import { LogFinding, keyIdBytes, keyName, readBytesOrHex, type LogSubcommand } from './log-subcommand.ts';
import { verifierKeyFrom } from './log-source.ts';

function required(values: Record<string, unknown>, flag: string): string {
  const v = stringOption(values, flag);
  if (v === undefined || v === '') throw new UsageError(`--${flag} is required`);
  return v;
}

/** The entry file as a receipt whose index is the leaf the receipt proves. */
async function entryFor(path: string, receiptPath: string, receipt: Uint8Array): Promise<Uint8Array> {
  const entry = await readBytesOrHex(path);
  const leafIndex = decodeInclusionReceipt(receipt).leafIndex;
  let held: number;
  try {
    held = decodeReceipt(entry).index;
  } catch (e) {
    throw new LogFinding(`WrongEntry: ${path} is not a TAI log entry: ${(e as Error).message}`);
  }
  if (held !== leafIndex) throw new LogFinding(`WrongEntry: ${path} holds entry ${held}, but ${receiptPath} proves leaf ${leafIndex}`);
  return entry;
}

/** The checkpoint file, verified with the pinned key: the only way a receipt's tree size becomes proven. */
async function trustedCheckpoint(path: string, verifierKey: string): Promise<Checkpoint> {
  let note: Uint8Array;
  try {
    note = new Uint8Array(await readFile(path));
  } catch (e) {
    throw new UsageError(`--checkpoint ${path}: ${(e as Error).message}`);
  }
  try {
    return verifyCheckpoint(note, verifierKey).checkpoint;
  } catch (e) {
    throw new LogFinding(`${path}: checkpoint: not signed by ${keyName(verifierKey)} or malformed: ${(e as Error).message}`);
  }
}

interface VerifyReceiptRun {
  receiptPath: string;
  entryPath: string;
  vkey: string;
  checkpointPath: string | undefined;
}

/** What was established, in words that claim no more than the signature and the checkpoint cover. */
function report(io: CommandIO, v: VerifiedInclusion, c: { signer: string; checkpointPath: string | undefined }): void {
  const details = `  leaf hash ${toHex(v.leafHash)}, inclusion path of ${v.path.length} hashes (RFC 9162, vds RFC9162_SHA256, alg EdDSA)`;
  if (c.checkpointPath !== undefined) {
    io.out(`✓ entry ${v.leafIndex} is in the log of ${v.treeSize} entries with root ${toHex(v.root)}: proven by the checkpoint ${c.checkpointPath} signed by ${c.signer}`);
    io.out(details);
    return;
  }
  io.out(`✓ entry ${v.leafIndex} is a leaf of the Merkle tree with root ${toHex(v.root)}, signed by ${c.signer}`);
  io.out(details);
  io.out(`  the entry states its index ${v.leafIndex}; the inclusion proof is consistent with a tree whose root is that root`);
  io.out(`  not proven: the tree size ${v.treeSize} is claimed by the receipt's unsigned header (RFC 9942 signs the root only);`);
  io.out(`  pass --checkpoint FILE, a checkpoint of this log signed by the same key, to prove the size and that the root is the log's`);
}

async function verifyReceipt(c: VerifyReceiptRun, io: CommandIO): Promise<number> {
  const verifierKey = await verifierKeyFrom(c.vkey, '.');
  let verifier;
  try {
    verifier = parseVerifierKey(verifierKey);
  } catch (e) {
    throw new UsageError(`--vkey: ${(e as Error).message}`);
  }
  const checkpoint = c.checkpointPath === undefined ? undefined : await trustedCheckpoint(c.checkpointPath, verifierKey);
  const receipt = await readBytesOrHex(c.receiptPath);
  try {
    const entry = await entryFor(c.entryPath, c.receiptPath, receipt);
    const v = verifyInclusionReceipt({ receipt, entry, publicKey: verifier.publicKey, keyId: keyIdBytes(verifier.keyId) });
    if (checkpoint) matchCheckpoint(v, checkpoint, `the checkpoint ${c.checkpointPath}`);
    report(io, v, { signer: keyName(verifierKey), checkpointPath: c.checkpointPath });
    return EXIT.ok;
  } catch (e) {
    if (e instanceof CoseReceiptError) throw new LogFinding(`${c.receiptPath}: ${e.message}`);
    throw e;
  }
}

export const verifyReceiptCommand: LogSubcommand = {
  flags: ['receipt', 'entry', 'vkey', 'checkpoint'],
  args: [],
  run({ values, io }) {
    const run = { receiptPath: required(values, 'receipt'), entryPath: required(values, 'entry'), vkey: required(values, 'vkey'), checkpointPath: stringOption(values, 'checkpoint') };
    return verifyReceipt(run, io);
  },
};
