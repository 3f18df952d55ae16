import { dirname } from 'node:path';
import { CompactRange } from '../compact-range.ts';
import { bytesEqual, hashLeaf, toHex } from '../merkle-hash.ts';
import type { ChainState } from '../receipt-chain.ts';
import { readFrameAtPath } from './entry-file.ts';
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

/**
 * Hashes the file's frames up to the largest of `sizes` into a compact range, noting the tree at each of `sizes`.
 * From `from` (a resume point whose prefix is known good) it starts with that tree and hashes only what follows.
 */
async function scan(path: string, sizes: ReadonlySet<number>, from?: AuditedResume): Promise<{ at: Map<number, Seen>; hashed: number }> {
  const upTo = Math.max(0, ...sizes);
  const tree = from ? CompactRange.fromState(from.chain.tree) : new CompactRange();
  const at = new Map<number, Seen>();
  if (from) at.set(from.size, { root: tree.root(), hashes: from.chain.tree.hashes, head: from.chain.head, end: from.offset, lastOffset: from.lastOffset });
  else if (sizes.has(0)) at.set(0, { root: tree.root(), hashes: [], head: toHex(new Uint8Array(32)), end: 0, lastOffset: -1 });
  const start = tree.size;
  if (upTo <= start) return { at, hashed: 0 };
  await hashFrames(
    path,
    upTo - start,
    (leaf, offset, end) => {
      tree.append(leaf);
      if (sizes.has(tree.size)) at.set(tree.size, { root: tree.root(), hashes: tree.toState().hashes, head: toHex(leaf), end, lastOffset: offset });
    },
    from?.offset,
  );
  return { at, hashed: tree.size - start };
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
  /** SHA-256 (hex) of the file's first `offset` bytes when the point was taken (state.json's, unsigned). */
  digest?: string | undefined;
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
  /** Entries hashed: every one up to the largest head or resume size, or only those after a resume point whose prefix digest matched. */
  hashedFrames: number;
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
 * hashing each entry; or, when `prefixDigest` (the SHA-256 of the file's first `resume.offset` bytes, read now)
 * is the resume point's digest, only the entries after it (see {@link fromResume}). Throws
 * {@link PublishedHistoryError} naming the first differing entry (found against the level-0 tiles by
 * `leafTile`) when a head is not reproduced.
 */
export async function auditEntryFile(path: string, o: { heads: readonly PublishedHead[]; resume?: AuditedResume | undefined; leafTile: ReadLeafTile; prefixDigest?: string | undefined }): Promise<EntryAudit> {
  const fast = await fromResume(path, o);
  if (fast) return fast;
  const sizes = new Set(o.heads.map((h) => h.size));
  if (o.resume) sizes.add(o.resume.size);
  const { at: seen, hashed } = await scan(path, sizes);
  const notes: string[] = [];
  let covered = { size: 0, end: 0 };
  for (const head of [...o.heads].sort((a, b) => a.size - b.size)) {
    const c = await coveredBy({ path, seen, head, leafTile: o.leafTile, notes });
    if (c.size > covered.size) covered = c;
  }
  return { coveredSize: covered.size, coveredBytes: covered.end, resumeMatches: o.resume !== undefined && resumeMatches(seen.get(o.resume.size), o.resume), notes, hashedFrames: hashed };
}

/**
 * The audit of a start over bytes this server wrote itself: the file's first `resume.offset` bytes are, byte for
 * byte, those the previous run had durable when it took the resume point (`prefixDigest` is its `digest`), and it
 * had audited and published them. So the scan starts from the resume point's tree and hashes only the entries
 * after it; the resume point's last leaf is checked against its frame, and its tree against a signed root: every
 * head with a root must be at or past the resume size, and at least one must be, each reproduced from that tree.
 * Undefined whenever it cannot conclude so (no or another digest, an older signed head, a root not reproduced):
 * the full scan then decides, and names what differs.
 */
async function fromResume(path: string, o: { heads: readonly PublishedHead[]; resume?: AuditedResume | undefined; prefixDigest?: string | undefined }): Promise<EntryAudit | undefined> {
  const r = o.resume;
  if (r === undefined || !(await prefixUnchanged(path, { ...o, resume: r }))) return undefined;
  const sizes = new Set(o.heads.filter((h) => h.size >= r.size).map((h) => h.size));
  const { at, hashed } = await scan(path, sizes, r).catch(() => ({ at: new Map<number, Seen>(), hashed: 0 }));
  let covered = { size: r.size, end: r.offset }; // never cut off: EntryFile.open reads on from the resume point
  for (const head of o.heads) {
    if (head.size < r.size) continue; // a size-only head inside the prefix: its entries are whole
    const seen = at.get(head.size);
    if (seen === undefined || (head.root !== undefined && !bytesEqual(seen.root, head.root))) return undefined;
    if (head.size > covered.size) covered = { size: head.size, end: seen.end };
  }
  return { coveredSize: Math.max(covered.size, ...o.heads.map((h) => h.size)), coveredBytes: covered.end, resumeMatches: true, notes: [], hashedFrames: hashed };
}

/** Whether the fast path applies: the digest matches, the last leaf is the chain head's, a signed root is at or past the resume size and none before it. */
async function prefixUnchanged(path: string, o: { heads: readonly PublishedHead[]; resume: AuditedResume; prefixDigest?: string | undefined }): Promise<boolean> {
  const r = o.resume;
  if (r.digest === undefined || o.prefixDigest !== r.digest || r.chain.tree.size !== r.size) return false;
  const rooted = o.heads.filter((h) => h.root !== undefined);
  return rooted.length > 0 && rooted.every((h) => h.size >= r.size) && (await lastLeafIs(path, r));
}

/** Whether the frame at the resume point's `lastOffset` ends at its `offset` and hashes to its chain head. */
async function lastLeafIs(path: string, r: AuditedResume): Promise<boolean> {
  if (r.size === 0) return r.offset === 0;
  const bytes = await readFrameAtPath(path, r.lastOffset).catch(() => undefined);
  return bytes !== undefined && r.lastOffset + 4 + bytes.length === r.offset && toHex(hashLeaf(bytes)) === r.chain.head;
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
