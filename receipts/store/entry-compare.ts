import { bytesEqual, hashLeaf, toHex } from '../merkle-hash.ts';
import { decodeEntryBundle, entryBundlePath, TILE_WIDTH, tilePath } from '../tlog-tiles.ts';
import type { LogDefect, ReadLogFile } from '../verify-log.ts';
import { auditFrames, type AuditedFrame } from './entry-frames.ts';

/** What comparing the entries file with the published tiles found. */
export interface EntryFileComparison {
  /** The first difference, if any: a published entry the file does not hold byte for byte. */
  defects: LogDefect[];
  /** Published entries the file holds byte for byte. */
  matched: number;
  /** Whole entries past the checkpoint: not yet published (the server publishes within a second). */
  unpublished: number;
  /** Bytes of an unfinished frame at the end past the checkpoint, or of zeros there (cut off at the next start). */
  tornBytes: number;
}

/** One block of 256 published entries: the level-0 tile's hashes and the bundle's entries. */
interface Block {
  k: number;
  tile: string;
  bundle: string;
  hashes: Uint8Array | undefined;
  entries: Uint8Array[] | undefined;
}

async function readBlock(read: ReadLogFile, k: number, size: number): Promise<Block> {
  const width = Math.min(TILE_WIDTH, size - k * TILE_WIDTH);
  const tile = tilePath({ level: 0, index: k, width });
  const bundle = entryBundlePath({ index: k, width });
  const bytes = await read(bundle);
  return { k, tile, bundle, hashes: await read(tile), entries: bytes && decodeEntryBundle(bytes, width) };
}

/** Why published frame `f` is not what the tiles hold, if it is not. */
function frameDefect(f: AuditedFrame, b: Block): LogDefect | undefined {
  const at = f.index % TILE_WIDTH;
  const want = b.hashes?.subarray(at * 32, at * 32 + 32);
  const stored = b.entries?.[at];
  if (want === undefined || stored === undefined) return { index: f.index, path: b.bundle, message: `cannot compare the entries file: ${b.tile} or ${b.bundle} is missing` };
  if (f.bytes === undefined) return { index: f.index, path: 'entries', message: `published, but torn in the entries file at byte ${f.offset}: ${f.problem}` };
  const got = hashLeaf(f.bytes);
  if (!bytesEqual(got, want)) return { index: f.index, path: 'entries', message: `the entries file holds other bytes at byte ${f.offset} (leaf hash ${toHex(got)}; ${b.tile} holds ${toHex(want)})` };
  if (!bytesEqual(f.bytes, stored)) return { index: f.index, path: 'entries', message: `the entries file and ${b.bundle} hold different bytes with the same leaf hash` };
  return undefined;
}

/** An unpublished frame over the entry limit: tai serve refuses to start on it (docs/deploy.md). */
function oversizeDefect(f: AuditedFrame): LogDefect {
  return {
    index: f.index,
    path: 'entries',
    message:
      `not yet published, and unreadable: ${f.problem}. tai serve refuses to start on it. If TAI before the entry limit wrote it, it was never published: ` +
      `cut the file at byte ${f.offset} (docs/deploy.md, "A log written before the entry limit"); otherwise restore the file`,
  };
}

/** Counts frame `f` past the checkpoint into `result`; true when it is a defect (added) that ends the comparison. */
function countUnpublished(f: AuditedFrame, result: EntryFileComparison): boolean {
  if (f.oversize) return result.defects.push(oversizeDefect(f)) > 0;
  // An empty frame is no receipt: zeros where a write's data never reached the disk, cut at the next start.
  if (f.bytes?.length) result.unpublished++;
  else result.tornBytes += f.end - f.offset;
  return false;
}

/**
 * Compares the entries file at `path` (read only) with the published log of `size` entries read through `read`:
 * each of the first `size` frames must have the leaf hash of the level-0 tile and the bytes of the entry bundle,
 * and none may be missing. Frames past `size` are counted, not judged: the server publishes them next, and cuts
 * an unfinished one off when it starts; only a frame over the entry limit, on which the server refuses to start,
 * is a defect there. Stops at the first difference, naming its entry.
 */
export async function compareEntryFile(path: string, c: { size: number; read: ReadLogFile }): Promise<EntryFileComparison> {
  const result: EntryFileComparison = { defects: [], matched: 0, unpublished: 0, tornBytes: 0 };
  let block: Block | undefined;
  for await (const f of auditFrames(path)) {
    if (f.index >= c.size && countUnpublished(f, result)) return result;
    if (f.index >= c.size) continue;
    if (block?.k !== Math.floor(f.index / TILE_WIDTH)) block = await readBlock(c.read, Math.floor(f.index / TILE_WIDTH), c.size);
    const defect = frameDefect(f, block);
    if (defect) return { ...result, defects: [defect] };
    result.matched++;
  }
  if (result.matched < c.size) {
    result.defects.push({ index: result.matched, path: 'entries', message: `published, but missing from the entries file: it holds ${result.matched} of the checkpoint's ${c.size} entries` });
  }
  return result;
}
