// The anchors of a log: the per-size checkpoints the anchorer stored in the bucket (checkpoints/<size>) and its
// latest `checkpoint`. Each is a signed commitment to the first <size> entries, so each must be a prefix of the
// log being verified: a larger one means a rollback, a different root a rewrite or a split view.
import {
  ProofError,
  bytesEqual,
  consistencyProof,
  toHex,
  treeRoot,
  verifyConsistency,
  type Checkpoint,
  type LogDefect,
  type NodeAt,
  type ReadLogFile,
} from '../receipts/index.ts';
import type { AnchorBucket } from '../receipts/anchor/index.ts';
import { readCheckpointFile, type CheckpointRead } from '../receipts/client/index.ts';
import { LogFinding } from './log-subcommand.ts';
import { withTiles } from './log-tiles.ts';

/** A signed checkpoint found in the bucket. */
export interface Anchor {
  /** Its object name under the bucket prefix: `checkpoints/<size>` or `checkpoint`. */
  name: string;
  checkpoint: Checkpoint;
  /** When the bucket stored it (ms since the epoch), when the bucket says. */
  storedAt: number | undefined;
}

const PER_SIZE = /^checkpoints\/(0|[1-9][0-9]{0,15})$/;
/** Reads in flight while fetching anchors: a bucket with months of checkpoints has many small objects. */
const FETCHES = 16;

/** The bucket's anchors, smallest first (the latest `checkpoint` last), each signed by the pinned key and named by its size. */
export async function readAnchors(bucket: AnchorBucket, verifierKey: string): Promise<{ anchors: Anchor[]; defects: LogDefect[] }> {
  const objects = [...(await bucket.list('checkpoints/')), ...(await bucket.list('checkpoint')).filter((o) => o.name === 'checkpoint')];
  const readFile: ReadLogFile = (path) => bucket.get(path);
  const anchors: Anchor[] = [];
  const defects: LogDefect[] = [];
  for (let i = 0; i < objects.length; i += FETCHES) {
    const batch = objects.slice(i, i + FETCHES);
    const files = await Promise.all(batch.map((o) => readCheckpointFile(readFile, { verifierKey, path: o.name })));
    batch.forEach((o, j) => {
      const read = readAnchor(o.name, files[j]);
      if ('defect' in read) defects.push({ path: o.name, message: read.defect });
      else anchors.push({ name: o.name, checkpoint: read.checkpoint, storedAt: o.storedAt });
    });
  }
  anchors.sort((a, b) => a.checkpoint.size - b.checkpoint.size || Number(a.name === 'checkpoint') - Number(b.name === 'checkpoint'));
  return { anchors, defects };
}

function readAnchor(name: string, file: CheckpointRead | undefined): { checkpoint: Checkpoint } | { defect: string } {
  const labelled = PER_SIZE.exec(name);
  if (name !== 'checkpoint' && !labelled) return { defect: 'not a per-size checkpoint name (checkpoints/<size>): something other than the anchorer wrote here' };
  if (file === undefined) return { defect: 'listed but gone when read' };
  if ('invalid' in file) return { defect: `not a checkpoint signed by the pinned key: ${file.invalid.message} (rewritten?)` };
  const { checkpoint } = file;
  if (labelled && Number(labelled[1]) !== checkpoint.size) return { defect: `named for size ${labelled[1]} but signs size ${checkpoint.size}: rewritten` };
  return { checkpoint };
}

/**
 * What needs no tiles: every anchor is for this log's origin and no larger than its `latest` checkpoint (a
 * larger one means entries were removed after they were anchored: a rollback).
 */
export function anchorConflicts(o: { latest: Checkpoint; latestName: string; anchors: readonly Anchor[] }): LogDefect[] {
  const defects: LogDefect[] = [];
  for (const a of o.anchors) {
    const cp = a.checkpoint;
    if (cp.origin !== o.latest.origin) defects.push({ path: a.name, message: `anchors origin ${JSON.stringify(cp.origin)}, not this log's ${JSON.stringify(o.latest.origin)}: another log writes here` });
    else if (cp.size > o.latest.size) {
      defects.push({ path: a.name, message: `rollback: ${a.name} anchored ${cp.size} entries, but ${o.latestName} signs only ${o.latest.size}: entries were removed after they were anchored` });
    }
  }
  return defects;
}

/**
 * An RFC 9162 consistency proof, from the tiles of `read` (which verifyLog has checked against `latest`), from
 * each anchor to the latest checkpoint. Every anchor a prefix of the latest makes them prefixes of each other,
 * so this covers every pair of stored checkpoints. Anchors past the latest are left to anchorConflicts.
 */
export async function proveAnchors(o: { read: ReadLogFile; latest: Checkpoint; anchors: readonly Anchor[] }): Promise<{ defects: LogDefect[]; proofs: number }> {
  const defects: LogDefect[] = [];
  const tiles = new Map<string, Uint8Array>();
  let proofs = 0;
  for (const a of o.anchors) {
    if (a.checkpoint.size === 0 || a.checkpoint.size > o.latest.size || a.checkpoint.origin !== o.latest.origin) continue;
    const message = await withTiles(o.read, o.latest.size, (nodeAt) => inconsistency(a, o.latest, nodeAt), tiles);
    if (message) defects.push({ path: a.name, message });
    proofs++;
  }
  return { defects, proofs };
}

/** Why `a` is not a prefix of the tree of `latest` (served by `nodeAt`), or undefined when a proof shows it is. */
function inconsistency(a: Anchor, latest: Checkpoint, nodeAt: NodeAt): string | undefined {
  const { size, root } = a.checkpoint;
  const prefixRoot = treeRoot(size, nodeAt);
  if (size === latest.size) return bytesEqual(root, latest.root) ? undefined : splitView(a, latest, prefixRoot);
  try {
    verifyConsistency({ size1: size, size2: latest.size, root1: root, root2: latest.root, proof: consistencyProof(size, latest.size, nodeAt) });
    return undefined;
  } catch (e) {
    if (!(e instanceof ProofError)) throw e;
    return splitView(a, latest, prefixRoot);
  }
}

function splitView(a: Anchor, latest: Checkpoint, prefixRoot: Uint8Array): string {
  return (
    `split view: ${a.name} signs root ${toHex(a.checkpoint.root)} for ${a.checkpoint.size} entries, but the first ${a.checkpoint.size} ` +
    `entries of the log at size ${latest.size} give ${toHex(prefixRoot)}: the log was rewritten after it was anchored, or two logs share this key`
  );
}

/**
 * A bucket's anchors checked against a verified log whose latest checkpoint is `latest`: signed, named by size,
 * no rollback and, when `read` serves the log's (verified) tiles, each a prefix of it by consistency proof.
 * `own`: the bucket holds the log itself (gs://…), whose latest checkpoint must have its per-size twin.
 * Defect paths are full gs:// object names.
 */
export async function checkBucketAnchors(c: { bucket: AnchorBucket; verifierKey: string; own: boolean; latest: Checkpoint; read: ReadLogFile | undefined }): Promise<{ anchors: Anchor[]; defects: LogDefect[]; proofs: number }> {
  const { bucket, latest } = c;
  const found = await readAnchors(bucket, c.verifierKey).catch((e: unknown) => {
    throw new LogFinding(`cannot read the anchors in ${bucket.location}: ${(e as Error).message}`);
  });
  const anchors = c.own ? found.anchors.filter((a) => a.name !== 'checkpoint') : found.anchors;
  const defects = [...found.defects, ...anchorConflicts({ latest, latestName: c.own ? 'checkpoint' : 'the local checkpoint', anchors })];
  if (c.own && latest.size > 0 && !anchors.some((a) => a.checkpoint.size === latest.size)) {
    defects.push({ path: 'checkpoint', message: `no checkpoints/${latest.size} beside it: the anchorer always stores one first, so it was deleted or another writer put this checkpoint here` });
  }
  const proven = c.read ? await proveAnchors({ read: c.read, latest, anchors }) : { defects: [], proofs: 0 };
  defects.push(...proven.defects);
  return { anchors, defects: defects.map((d) => ({ ...d, path: `${bucket.location}/${d.path ?? ''}` })), proofs: proven.proofs };
}
