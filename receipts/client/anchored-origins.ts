// The logs anchored under one bucket prefix: every log keeps its latest checkpoint at `<origin>/checkpoint`
// (docs/gcs.md), and an origin may itself contain "/", so the origins are the names ending in "/checkpoint".
// Per-size copies are `checkpoints/<size>` and tiles `tile/…`: neither ends so.
import { treeRoot } from '../proofs.ts';
import type { ReadLogFile } from '../verify-log.ts';
import { withTiles } from './log-tree.ts';

/** What listing the origins needs of a bucket (receipts/anchor's GcsBucket is one). */
export interface ListableBucket {
  readonly location: string;
  list(prefix: string): Promise<readonly { name: string }[]>;
}

/** The origins anchored under the bucket's prefix (those starting with `under`), sorted; '' when the prefix is itself one log. */
export async function anchoredOrigins(bucket: ListableBucket, under = ''): Promise<string[]> {
  const names = (await bucket.list(under)).map((o) => o.name);
  const origins = names.filter((n) => n === 'checkpoint' || n.endsWith('/checkpoint')).map((n) => n.slice(0, -'checkpoint'.length).replace(/\/$/, ''));
  return [...new Set(origins)].sort();
}

/**
 * The Merkle root of the first `size` entries of a published log of `logSize` entries, from its hash tiles: what
 * a successor recorded as its predecessor's last checkpoint is checked against this. Trust the tiles only once
 * the log verified against its checkpoint.
 */
export function rootAtSize(read: ReadLogFile, size: number, logSize: number): Promise<Uint8Array> {
  return withTiles(read, logSize, (nodeAt) => treeRoot(size, nodeAt));
}
