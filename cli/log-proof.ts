// `tai log proof`: an RFC 9942 COSE Receipt of inclusion for one log entry, signed by the log's checkpoint key
// over the root of the current checkpoint (verified offline by `tai log verify-receipt`, log-verify-receipt.ts).
import { readFile, writeFile } from 'node:fs/promises';
import {
  ProofError,
  bytesEqual,
  decodeReceipt,
  hashLeaf,
  inclusionProof,
  parseSignerKey,
  toHex,
  treeRoot,
  verifyInclusion,
  type Checkpoint,
  type NoteSigner,
  type ReadLogFile,
} from '../receipts/index.ts';
import { issueInclusionReceipt } from '../receipts/cose-receipt.ts';
import { EXIT, UsageError, stringOption } from './io.ts';
import { LogFinding, keyIdBytes, readVerifiedCheckpoint, type LogSubcommand } from './log-subcommand.ts';
import { DEFAULT_LOG_DIR, signingKeyPathFor } from '../server/index.ts';
import { logReader } from './log-source.ts';
import { readEntry, withTiles } from './log-tiles.ts';

/** INDEX as a whole number, or a UsageError. */
export function parseIndex(text: string): number {
  const index = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(index)) throw new UsageError(`INDEX must be a whole number, got ${JSON.stringify(text)}`);
  return index;
}

async function loadSigner(path: string): Promise<NoteSigner> {
  const text = (await readFile(path, 'utf8')).trim();
  try {
    return parseSignerKey(text);
  } catch (e) {
    throw new UsageError(`--key ${path}: not a signed-note signer key (PRIVATE+KEY+…): ${(e as Error).message}`);
  }
}

/** The audit path of `index`, from tiles that must give the checkpoint's root. */
async function auditPath(read: ReadLogFile, index: number, checkpoint: Checkpoint): Promise<Uint8Array[]> {
  return withTiles(read, checkpoint.size, (nodeAt) => {
    const root = treeRoot(checkpoint.size, nodeAt);
    if (!bytesEqual(root, checkpoint.root)) throw new LogFinding(`hash tiles give root ${toHex(root)}, not the checkpoint's ${toHex(checkpoint.root)}: run tai log verify`);
    return inclusionProof(index, checkpoint.size, nodeAt);
  });
}

/** Reads entry `index` and checks it is that entry and in the signed tree, before anything is signed. */
async function provenEntry(read: ReadLogFile, index: number, checkpoint: Checkpoint): Promise<{ entry: Uint8Array; path: Uint8Array[] }> {
  const entry = await readEntry(read, index, checkpoint.size);
  const held = decodeReceipt(entry).index;
  if (held !== index) throw new LogFinding(`entry ${index}: the bundle holds a receipt with index ${held}: run tai log verify`);
  const path = await auditPath(read, index, checkpoint);
  try {
    verifyInclusion({ index, size: checkpoint.size, leafHash: hashLeaf(entry), proof: path, root: checkpoint.root });
  } catch (e) {
    if (e instanceof ProofError) throw new LogFinding(`entry ${index} is not in the tree the checkpoint signs: ${e.message}: run tai log verify`);
    throw e;
  }
  return { entry, path };
}

export const proofCommand: LogSubcommand = {
  flags: ['log', 'key', 'out'],
  args: ['INDEX'],
  async run({ args, values, io }) {
    const index = parseIndex(args[0]!);
    const location = stringOption(values, 'log') ?? DEFAULT_LOG_DIR;
    const keyPath = stringOption(values, 'key') ?? signingKeyPathFor(location);
    const signer = await loadSigner(keyPath);
    const read = logReader(location);
    const note = await read('checkpoint'); // read once: the checkpoint saved beside the receipt is the one it proves
    const checkpoint = await readVerifiedCheckpoint(() => Promise.resolve(note), signer.verifierKey, location);
    if (index >= checkpoint.size) throw new LogFinding(`entry ${index} is past the checkpoint (size ${checkpoint.size})`);
    if (checkpoint.size < 2) throw new LogFinding('the checkpoint covers one entry: its inclusion path is empty and RFC 9942 receipts need one hash; ask again once the log has grown');
    const { entry, path } = await provenEntry(read, index, checkpoint);
    const receipt = issueInclusionReceipt({ treeSize: checkpoint.size, leafIndex: index, path, root: checkpoint.root, privateKey: signer.privateKey, kid: keyIdBytes(signer.keyId) });
    const out = stringOption(values, 'out');
    if (out === undefined) {
      const json = { index, treeSize: checkpoint.size, root: toHex(checkpoint.root), leafHash: toHex(hashLeaf(entry)), receipt: toHex(receipt), entry: toHex(entry) };
      io.out(JSON.stringify(json, null, 2));
      return EXIT.ok;
    }
    await writeFile(out, receipt);
    await writeFile(`${out}.entry`, entry);
    await writeFile(`${out}.checkpoint`, note!);
    io.out(`✓ receipt of inclusion for entry ${index} at tree size ${checkpoint.size}, root ${toHex(checkpoint.root)}`);
    io.out(`  receipt     ${out} (${receipt.length} bytes, RFC 9942 COSE_Sign1)`);
    io.out(`  entry       ${out}.entry (${entry.length} bytes)`);
    io.out(`  checkpoint  ${out}.checkpoint (the signed checkpoint of size ${checkpoint.size}: it proves the tree size)`);
    io.out(`  verify      tai log verify-receipt --receipt ${out} --entry ${out}.entry --checkpoint ${out}.checkpoint --vkey ${signer.verifierKey}`);
    return EXIT.ok;
  },
};
