import { dirname } from 'node:path';
import { CompactRange } from '../compact-range.ts';
import { bytesEqual, hashLeaf, toHex } from '../merkle-hash.ts';
import type { ChainState } from '../receipt-chain.ts';
import { auditFrames, hashFrames } from './entry-frames.ts';

/**
 * A tree head the log has already shown the world: a signed checkpoint (the local one, the anchored one), or
 * only a size (anchor.json while the bucket cannot be read). The entries it covers are history: never trimmed,
 * never rewritten.
 */
export interface PublishedHead {
  /** Where it was read, for messages: `LOG/checkpoint`, `gs://B/P/ORIGIN/checkpoint`, `LOG/anchor.json`. */
  source: string;
  size: number;
  /** Undefined when only the size is known. */
  root: Uint8Array | undefined;
}

/** The tree of the file's first `size` entries, as the audit saw it, and where they end. */
interface Seen {
  root: Uint8Array;
  hashes: string[];
  head: string;
  end: number;
  lastOffset: number;
}

/** Hashes the file's frames up to the largest of `sizes` into a compact range, noting the tree at each of `sizes`. */
async function scan(path: string, sizes: ReadonlySet<number>): Promise<Map<number, Seen>> {
  const upTo = Math.max(0, ...sizes);
  const tree = new CompactRange();
  const at = new Map<number, Seen>();
  if (sizes.has(0)) at.set(0, { root: tree.root(), hashes: [], head: toHex(new Uint8Array(32)), end: 0, lastOffset: -1 });
  if (upTo === 0) return at;
  await hashFrames(path, upTo, (leaf, offset, end) => {
    tree.append(leaf);
    if (sizes.has(tree.size)) at.set(tree.size, { root: tree.root(), hashes: tree.toState().hashes, head: toHex(leaf), end, lastOffset: offset });
  });
  return at;
}

/**
 * How far past its size a checkpoint's root may reach. TAI before issue 15's fix of the publisher could sign, for
 * size n, the root of n plus the few entries that became durable while it wrote the tiles. Such a checkpoint
 * still commits to entries the file holds, so it is honoured at the size whose root it carries.
 */
const MISSIZED_REACH = 4096;

/** The size in (size, size + MISSIZED_REACH] at which the file's entries have `root`, and where they end. */
async function rootReachedLater(path: string, size: number, root: Uint8Array): Promise<{ size: number; end: number } | undefined> {
  const tree = new CompactRange();
  let found: { size: number; end: number } | undefined;
  await hashFrames(path, size + MISSIZED_REACH, (leaf, _offset, end) => {
    tree.append(leaf);
    if (found === undefined && tree.size > size && bytesEqual(tree.root(), root)) found = { size: tree.size, end };
  });
  return found;
}

/** The resume point a previous run saved, as far as the audit checks it: where, and the chain there. */
export interface AuditedResume {
  size: number;
  offset: number;
  lastOffset: number;
  chain: ChainState;
}

/** What the audit established: bytes that must never be cut off, and whether the resume point can be used. */
export interface EntryAudit {
  /** Entries and bytes of the file that published heads cover. */
  coveredSize: number;
  coveredBytes: number;
  /** The resume point names exactly the file's first `resume.size` entries (false without one). */
  resumeMatches: boolean;
  /** What the operator should know though nothing is wrong with the file (a mis-sized checkpoint). */
  notes: string[];
}

/** The entry file cannot be opened as it is: the server refuses to start, and no file was changed. */
export class EntryFileRefusal extends Error {
  override name = 'EntryFileRefusal';
}

/** Published history that the entries file does not hold: starting would rewrite it. Names the entry. */
export class PublishedHistoryError extends EntryFileRefusal {
  override name = 'PublishedHistoryError';
  /** The first entry that differs from (or is missing against) what was published; undefined if not found. */
  readonly index: number | undefined;

  constructor(message: string, index: number | undefined) {
    super(message);
    this.index = index;
  }
}

/** Where the published leaf hashes are (the level-0 tiles): hashes of entries [256k, 256k+width), or undefined. */
export type ReadLeafTile = (k: number, width: number) => Promise<Uint8Array | undefined>;

/**
 * Checks the entries file at `path` against what was published, reading it only (the file is never changed
 * here): its first `head.size` entries must reproduce each head's root (a head without a root: only be whole),
 * and the resume point must name its first `resume.size` entries (its tree and last leaf). Streams the file once,
 * hashing each entry. Throws {@link PublishedHistoryError} naming the first differing entry (found against the
 * level-0 tiles by `leafTile`) when a head is not reproduced.
 */
export async function auditEntryFile(path: string, o: { heads: readonly PublishedHead[]; resume?: AuditedResume | undefined; leafTile: ReadLeafTile }): Promise<EntryAudit> {
  const sizes = new Set(o.heads.map((h) => h.size));
  if (o.resume) sizes.add(o.resume.size);
  const seen = await scan(path, sizes);
  const notes: string[] = [];
  let covered = { size: 0, end: 0 };
  for (const head of [...o.heads].sort((a, b) => a.size - b.size)) {
    const c = await coveredBy({ path, seen, head, leafTile: o.leafTile, notes });
    if (c.size > covered.size) covered = c;
  }
  return { coveredSize: covered.size, coveredBytes: covered.end, resumeMatches: o.resume !== undefined && resumeMatches(seen.get(o.resume.size), o.resume), notes };
}

/** The entries `head` covers: its size, or the size whose root a mis-sized checkpoint carries; throws if neither. */
async function coveredBy(c: { path: string; seen: Map<number, Seen>; head: PublishedHead; leafTile: ReadLeafTile; notes: string[] }): Promise<{ size: number; end: number }> {
  const { head } = c;
  const at = c.seen.get(head.size);
  if (at && (head.root === undefined || bytesEqual(at.root, head.root))) return { size: head.size, end: at.end };
  const later = at && head.root ? await rootReachedLater(c.path, head.size, head.root) : undefined;
  if (later === undefined) throw await historyError(c.path, head, c.leafTile);
  c.notes.push(`${head.source} names ${head.size} entries but signs the root of the first ${later.size}, which the entry file holds (published while entries arrived, by a TAI without the fix of issue 15)`);
  return later;
}

function resumeMatches(seen: Seen | undefined, r: AuditedResume): boolean {
  if (seen === undefined || r.chain.tree.size !== r.size) return false;
  const sameTree = seen.hashes.length === r.chain.tree.hashes.length && seen.hashes.every((h, i) => h === r.chain.tree.hashes[i]);
  return sameTree && seen.end === r.offset && (r.size === 0 || (seen.head === r.chain.head && seen.lastOffset === r.lastOffset));
}

/** The first entry below `size` whose leaf hash is not the published one, or that the file does not hold whole. */
export async function firstDifference(path: string, size: number, leafTile: ReadLeafTile): Promise<{ index: number; detail: string } | undefined> {
  let tile: { k: number; hashes: Uint8Array | undefined } = { k: -1, hashes: undefined };
  let next = 0;
  for await (const f of auditFrames(path)) {
    if (f.index >= size) return undefined;
    if (f.bytes === undefined) return { index: f.index, detail: `is torn at byte ${f.offset}: ${f.problem}` };
    const k = Math.floor(f.index / 256);
    if (tile.k !== k) tile = { k, hashes: await leafTile(k, Math.min(256, size - k * 256)) };
    if (tile.hashes === undefined) return { index: f.index, detail: 'cannot be compared: its level-0 tile is missing' };
    const want = tile.hashes.subarray((f.index % 256) * 32, (f.index % 256) * 32 + 32);
    const got = hashLeaf(f.bytes);
    if (!bytesEqual(got, want)) return { index: f.index, detail: `at byte ${f.offset} has leaf hash ${toHex(got)}, but the published one is ${toHex(want)}` };
    next = f.index + 1;
  }
  return next < size ? { index: next, detail: `is missing: the file ends after ${next} entries` } : undefined;
}

async function historyError(path: string, head: PublishedHead, leafTile: ReadLeafTile): Promise<PublishedHistoryError> {
  const diff = await firstDifference(path, head.size, leafTile).catch((e: unknown) => ({ index: undefined, detail: `(the tiles could not be read: ${(e as Error).message})` }));
  const published = `${path} does not hold the ${head.size} entries already published in ${head.source}${head.root ? ` (root ${toHex(head.root)})` : ''}`;
  const refusal = 'Starting would rewrite published history, so the server refuses and leaves every file as it is.';
  if (diff?.index === 0 && diff.detail.startsWith('is missing')) return lostError(path, head);
  if (diff?.index === undefined) {
    return new PublishedHistoryError(
      `${published}: its entries do not reproduce that root, though each matches the level-0 tiles ${diff?.detail ?? ''}`.trim() +
        `. ${refusal} The checkpoint or the tiles were changed: compare ${head.source} with the anchored copies (checkpoints/<size> in the bucket) or a backup, and restore what differs.`,
      undefined,
    );
  }
  return new PublishedHistoryError(
    `${published}: entry ${diff.index} ${diff.detail}. ${refusal} ` +
      `Restore ${path} from a backup, or rebuild it from the published copy: tai log rebuild-entries ${dirname(path)} (--from gs://… for the anchor bucket's), then start again.`,
    diff.index,
  );
}

/** The file holds none of what was published: the log folder was lost, or another one is in its place. */
function lostError(path: string, head: PublishedHead): PublishedHistoryError {
  const where = head.source.startsWith('gs://') ? `${head.source.replace(/\/checkpoint$/, '')} anchors` : `${head.source} covers`;
  return new PublishedHistoryError(
    `${where} ${head.size} entries of this log, but the local log holds 0: the log folder was lost or replaced. ` +
      `Restore it (${path} and the rest of the folder) from a backup or from the published copy, or start a new log under another --origin; starting here would publish a different history under the same name (a split view)`,
    0,
  );
}
