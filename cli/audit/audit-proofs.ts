// Inclusion proofs for the report's sampled entries, built from the published hash tiles as `tai log proof`
// builds them, and each verified against the checkpoint before the report shows it. I/O: reads tiles.
import { ProofError, bytesEqual, fromHex, inclusionProof, toHex, treeRoot, verifyInclusion, type Checkpoint, type ReadLogFile } from '../../receipts/index.ts';
import { LogFinding } from '../log-subcommand.ts';
import { withTiles } from '../log-tiles.ts';
import type { SampleCandidate } from '../../ledger/index.ts';
import type { SampleProof } from './audit-model.ts';

/**
 * RFC 9162 inclusion proofs of `samples` (leaf hashes from the verified entries) in the tree `checkpoint`
 * signs. The tiles must give the checkpoint's root; a proof that does not verify is a LogFinding.
 */
export async function sampleProofs(c: { read: ReadLogFile; checkpoint: Checkpoint; samples: SampleCandidate[] }): Promise<SampleProof[]> {
  const { checkpoint } = c;
  if (c.samples.length === 0) return [];
  const paths = await withTiles(c.read, checkpoint.size, (nodeAt) => {
    const root = treeRoot(checkpoint.size, nodeAt);
    if (!bytesEqual(root, checkpoint.root)) throw new LogFinding(`hash tiles give root ${toHex(root)}, not the checkpoint's ${toHex(checkpoint.root)}: run tai log verify`);
    return c.samples.map((s) => inclusionProof(s.index, checkpoint.size, nodeAt));
  });
  return c.samples.map((s, i) => {
    const path = paths[i]!;
    try {
      verifyInclusion({ index: s.index, size: checkpoint.size, leafHash: fromHex(s.leafHash), proof: path, root: checkpoint.root });
    } catch (e) {
      if (e instanceof ProofError) throw new LogFinding(`entry ${s.index}: its inclusion proof does not verify against the checkpoint: ${e.message}`);
      throw e;
    }
    return { ...s, treeSize: checkpoint.size, root: toHex(checkpoint.root), path: path.map(toHex), verified: true };
  });
}
