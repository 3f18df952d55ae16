import { open, type FileHandle } from 'node:fs/promises';
import { CompactRange } from '../compact-range.ts';
import { bytesEqual, hashLeaf, toHex } from '../merkle-hash.ts';
import type { ChainState } from '../receipt-chain.ts';
import { readFrames } from './entry-file.ts';

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

/** One frame of the entries file as the audit sees it: `bytes` undefined when it is torn or unreadable. */
export interface AuditedFrame {
  index: number;
  offset: number;
  end: number;
  bytes: Uint8Array | undefined;
  /** Why `bytes` is undefined. */
  problem?: string;
}

/**
 * The frames of the entries file at `path` in order (none when the file does not exist), read only. A frame the
 * file ends inside, or one claiming an impossible length, comes last with `bytes` undefined and a `problem`.
 */
export async function* auditFrames(path: string): AsyncGenerator<AuditedFrame> {
  const handle = await open(path, 'r').catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return undefined;
    throw e;
  });
  if (handle === undefined) return;
  try {
    yield* framesOf(handle, (await handle.stat()).size);
  } finally {
    await handle.close();
  }
}

async function* framesOf(handle: FileHandle, fileLength: number): AsyncGenerator<AuditedFrame> {
  let index = 0;
  let offset = 0;
  try {
    for await (const f of readFrames(handle, fileLength, 0)) {
      if (f.bytes === undefined) return yield { index, offset, end: f.end, bytes: undefined, problem: `the file ends inside it (${f.end - offset} of its bytes are there)` };
      yield { index: index++, offset, end: f.end, bytes: f.bytes };
      offset = f.end;
    }
  } catch (e) {
    yield { index, offset, end: fileLength, bytes: undefined, problem: (e as Error).message };
  }
}

/** The tree of the file's first `size` entries, as the audit saw it. */
interface Seen {
  root: Uint8Array;
  hashes: string[];
  head: string;
  end: number;
  lastOffset: number;
}

/** What one pass over the file found: how far it is whole, and the tree at each size asked for. */
interface Scan {
  size: number;
  /** The first frame that is torn or unreadable, if the pass stopped at one. */
  broken: AuditedFrame | undefined;
  at: Map<number, Seen>;
}

/** Hashes every frame up to the largest of `sizes` into a compact range, noting the tree at each of `sizes`. */
async function scan(path: string, sizes: ReadonlySet<number>): Promise<Scan> {
  const upTo = Math.max(0, ...sizes);
  const tree = new CompactRange();
  const at = new Map<number, Seen>();
  if (sizes.has(0)) at.set(0, { root: tree.root(), hashes: [], head: toHex(new Uint8Array(32)), end: 0, lastOffset: -1 });
  if (upTo === 0) return { size: 0, broken: undefined, at };
  for await (const f of auditFrames(path)) {
    if (f.bytes === undefined) return { size: tree.size, broken: f, at };
    const leaf = hashLeaf(f.bytes);
    tree.append(leaf);
    if (sizes.has(tree.size)) at.set(tree.size, { root: tree.root(), hashes: tree.toState().hashes, head: toHex(leaf), end: f.end, lastOffset: f.offset });
    if (tree.size === upTo) break;
  }
  return { size: tree.size, broken: undefined, at };
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
}

/** Published history that the entries file does not hold: starting would rewrite it. Names the entry. */
export class PublishedHistoryError extends Error {
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
  const s = await scan(path, sizes);
  const failed = [...o.heads].sort((a, b) => a.size - b.size).find((h) => !reproduces(s, h));
  if (failed) throw await historyError(path, failed, o.leafTile);
  const covered = Math.max(0, ...o.heads.map((h) => h.size));
  return { coveredSize: covered, coveredBytes: s.at.get(covered)?.end ?? 0, resumeMatches: o.resume !== undefined && resumeMatches(s, o.resume) };
}

function reproduces(s: Scan, head: PublishedHead): boolean {
  const seen = s.at.get(head.size);
  return seen !== undefined && (head.root === undefined || bytesEqual(seen.root, head.root));
}

function resumeMatches(s: Scan, r: AuditedResume): boolean {
  const seen = s.at.get(r.size);
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
  const what = diff?.index !== undefined ? `entry ${diff.index} ${diff.detail}` : `its entries do not reproduce that root, though each matches the level-0 tiles ${diff?.detail ?? ''}`.trim();
  return new PublishedHistoryError(
    `${path} does not hold the ${head.size} entries already published in ${head.source}${head.root ? ` (root ${toHex(head.root)})` : ''}: ${what}. ` +
      'Starting would rewrite published history, so the server refuses and leaves every file as it is. ' +
      `Restore ${path} from a backup or rebuild it from the published entry bundles (tile/entries/… in the log folder or the anchor bucket), then start again.`,
    diff?.index,
  );
}
