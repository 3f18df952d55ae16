// `tai log consistency`: proves that the log's current checkpoint extends an old one an auditor kept
// (RFC 9162 §2.1.4), from the published hash tiles; names a rollback or a split view otherwise.
import { readFile } from 'node:fs/promises';
import {
  ProofError,
  bytesEqual,
  consistencyProof,
  toHex,
  treeRoot,
  verifyCheckpoint,
  verifyConsistency,
  type Checkpoint,
  type ReadLogFile,
} from '../receipts/index.ts';
import { EXIT, stringOption, type CommandIO } from './io.ts';
import { LogFinding, keyName, readVerifiedCheckpoint, type LogSubcommand } from './log-subcommand.ts';
import { DEFAULT_LOG_DIR } from '../server/index.ts';
import { logReader, verifierKeyFrom } from './log-source.ts';
import { withTiles } from './log-tiles.ts';

/** The old checkpoint file, verified with the pinned key. */
async function oldCheckpoint(file: string, verifierKey: string): Promise<Checkpoint> {
  const note = await readFile(file);
  try {
    return verifyCheckpoint(new Uint8Array(note), verifierKey).checkpoint;
  } catch (e) {
    throw new LogFinding(`${file}: not a checkpoint signed by ${keyName(verifierKey)}: ${(e as Error).message}`);
  }
}

/** Checks what needs no proof: same log, no rollback. */
function comparable(file: string, old: Checkpoint, cur: Checkpoint): void {
  if (old.origin !== cur.origin) throw new LogFinding(`different logs: ${file} is for origin ${JSON.stringify(old.origin)}, the log's checkpoint for ${JSON.stringify(cur.origin)}`);
  if (old.size > cur.size) {
    throw new LogFinding(`rollback: ${file} signs ${old.size} entries, the log's checkpoint only ${cur.size}: entries were removed, or this is another view of the log`);
  }
}

interface ConsistencyResult {
  proof: Uint8Array[];
  /** The root the published tiles give for the old size. */
  oldRootFromTiles: Uint8Array;
}

/** The proof from old to cur, from tiles that must give cur's root. Sizes 0 < old ≤ cur. */
function prove(read: ReadLogFile, old: Checkpoint, cur: Checkpoint): Promise<ConsistencyResult> {
  return withTiles(read, cur.size, (nodeAt) => {
    const root = treeRoot(cur.size, nodeAt);
    if (!bytesEqual(root, cur.root)) throw new LogFinding(`hash tiles give root ${toHex(root)}, not the checkpoint's ${toHex(cur.root)}: run tai log verify`);
    return { proof: consistencyProof(old.size, cur.size, nodeAt), oldRootFromTiles: treeRoot(old.size, nodeAt) };
  });
}

function check(file: string, old: Checkpoint, cur: Checkpoint, r: ConsistencyResult): void {
  try {
    verifyConsistency({ size1: old.size, size2: cur.size, root1: old.root, root2: cur.root, proof: r.proof });
  } catch (e) {
    if (!(e instanceof ProofError)) throw e;
    throw new LogFinding(
      `split view: the log at size ${cur.size} does not extend ${file} (size ${old.size}): ${file} signs root ${toHex(old.root)}, ` +
        `the log's first ${old.size} entries give ${toHex(r.oldRootFromTiles)} (${e.code})`,
    );
  }
}

function report(c: { file: string; old: Checkpoint; cur: Checkpoint; proof: Uint8Array[]; json: boolean; io: CommandIO }): void {
  const { old, cur, proof, io } = c;
  if (c.json) {
    const json = { consistent: true, origin: cur.origin, old: { size: old.size, root: toHex(old.root) }, new: { size: cur.size, root: toHex(cur.root) }, proof: proof.map(toHex) };
    io.out(JSON.stringify(json, null, 2));
    return;
  }
  io.out(`✓ consistent: the log at size ${cur.size} extends ${c.file} (size ${old.size})`);
  io.out(`  origin ${cur.origin}`);
  io.out(`  old    size ${old.size}, root ${toHex(old.root)}`);
  io.out(`  new    size ${cur.size}, root ${toHex(cur.root)}`);
  io.out(`  proof  ${proof.length} hashes (RFC 9162 §2.1.4)${proof.length ? ':' : ''}`);
  for (const h of proof) io.out(`    ${toHex(h)}`);
}

export const consistencyCommand: LogSubcommand = {
  flags: ['log', 'vkey', 'json'],
  args: ['OLD_CHECKPOINT_FILE'],
  async run({ args, values, io }) {
    const file = args[0]!;
    const location = stringOption(values, 'log') ?? DEFAULT_LOG_DIR;
    const verifierKey = await verifierKeyFrom(stringOption(values, 'vkey'), location);
    const old = await oldCheckpoint(file, verifierKey);
    const read = logReader(location);
    const cur = await readVerifiedCheckpoint(read, verifierKey, location);
    comparable(file, old, cur);
    // The empty tree is a prefix of every tree; RFC 9162 defines no proof from it.
    const result = old.size === 0 ? { proof: [], oldRootFromTiles: old.root } : await prove(read, old, cur);
    if (old.size > 0) check(file, old, cur, result);
    report({ file, old, cur, proof: result.proof, json: values.json === true, io });
    return EXIT.ok;
  },
};
