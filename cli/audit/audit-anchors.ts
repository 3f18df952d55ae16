// The anchors section of the audit report: the bucket's checkpoints, checked as `tai log verify` checks them,
// each with when it was stored and how long after its last entry.
import { decodeReceipt, toHex, type Checkpoint, type LogDefect, type ReadLogFile } from '../../receipts/index.ts';
import type { AnchorBucket } from '../../receipts/anchor/index.ts';
import { checkBucketAnchors } from '../log-anchors.ts';
import { readEntry } from '../log-tiles.ts';
import type { AnchorRecord } from './audit-model.ts';

/** Anchors found, checked against the verified log; defects when any is not a prefix of it (or past it). */
export async function anchorRecords(c: { bucket: AnchorBucket; verifierKey: string; own: boolean; latest: Checkpoint; read: ReadLogFile }): Promise<{ records: AnchorRecord[]; defects: LogDefect[] }> {
  const { anchors, defects } = await checkBucketAnchors(c);
  const records: AnchorRecord[] = [];
  for (const a of anchors) {
    const { size, root } = a.checkpoint;
    const record: AnchorRecord = { size, root: toHex(root) };
    if (a.storedAt !== undefined) record.storedAt = new Date(a.storedAt).toISOString();
    if (a.storedAt !== undefined && size > 0 && size <= c.latest.size) {
      const last = decodeReceipt(await readEntry(c.read, size - 1, c.latest.size));
      record.lagSeconds = Math.max(0, (a.storedAt * 1000 - last.time) / 1e6);
    }
    records.push(record);
  }
  return { records, defects };
}
