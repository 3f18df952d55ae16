import { verifyCheckpoint, type Checkpoint } from './checkpoint.ts';
import { bytesEqual, toHex } from './merkle-hash.ts';
import { ReceiptChain, type ChainedEntry } from './receipt-chain.ts';
import { TileBuilder, type TileFile } from './tile-builder.ts';
import { decodeEntryBundle, entryBundlePath, TILE_WIDTH } from './tlog-tiles.ts';
import { checkBundleRange, RangeStitcher, type LogDefect } from './verify-range.ts';

/** Reads one file of the published layout (`checkpoint`, `tile/…`); undefined when it is missing. */
export type ReadLogFile = (path: string) => Promise<Uint8Array | undefined>;

export type { LogDefect } from './verify-range.ts';

export interface LogVerification {
  ok: boolean;
  checkpoint?: Checkpoint;
  /** Entries checked. */
  entries: number;
  defects: LogDefect[];
}

/**
 * Verifies a published log without trusting its publisher (design §5): the checkpoint's signature by the pinned
 * verifier key, every entry's strict encoding, index and `prev` link, every hash tile byte for byte against the
 * hashes recomputed from the entries, and the tree root against the checkpoint. Stops at the first bad entry,
 * naming its index. `onEntry` sees every good entry (for queries and reports).
 */
export async function verifyLog(opts: { read: ReadLogFile; verifierKey: string; onEntry?: (e: ChainedEntry) => void }): Promise<LogVerification> {
  const checkpoint = await openCheckpoint(opts.read, opts.verifierKey);
  return 'defects' in checkpoint ? checkpoint : verifyEntries({ read: opts.read, checkpoint, onEntry: opts.onEntry });
}

/** verifyLog past its checkpoint: the entries, tiles, root and staleness, in one thread. */
export async function verifyEntries(c: { read: ReadLogFile; checkpoint: Checkpoint; onEntry?: ((e: ChainedEntry) => void) | undefined }): Promise<LogVerification> {
  const { checkpoint, read } = c;
  if (c.onEntry === undefined) return verifyBundles(read, checkpoint);
  const chain = new ReceiptChain();
  const tiles = new TileBuilder({ bundles: false });
  const defects: LogDefect[] = [];
  for (let bundle = 0; bundle * TILE_WIDTH < checkpoint.size && defects.length === 0; bundle++) {
    const width = Math.min(TILE_WIDTH, checkpoint.size - bundle * TILE_WIDTH);
    defects.push(...(await checkBundle({ read, bundle, width, chain, tiles, onEntry: c.onEntry })));
    const last = bundle * TILE_WIDTH + width >= checkpoint.size;
    if (defects.length === 0) defects.push(...(await compareTiles(read, tiles.drain(), last)));
  }
  if (defects.length > 0) return { ok: false, checkpoint, entries: chain.size, defects };
  return finishVerification({ read, checkpoint, root: chain.root() });
}

/**
 * verifyEntries when no one wants the entries: bundle by bundle through the range checks the workers use
 * (verify-range.ts: a fast yes/no per entry, decoded only to name a defect), with the same result and defects.
 */
async function verifyBundles(read: ReadLogFile, checkpoint: Checkpoint): Promise<LogVerification> {
  const { size } = checkpoint;
  const stitcher = new RangeStitcher(size);
  let prev: Uint8Array | undefined;
  for (let bundle = 0; bundle * TILE_WIDTH < size; bundle++) {
    const bytes = await read(entryBundlePath({ index: bundle, width: Math.min(TILE_WIDTH, size - bundle * TILE_WIDTH) }));
    const check = checkBundleRange({ size, first: bundle, bundles: [bytes], prev });
    const defects: LogDefect[] = [];
    for (const outcome of check.bundles) {
      defects.push(...(await compareTiles(read, stitcher.add(outcome), true)));
      prev = outcome.leaves.subarray(outcome.leaves.length - 32);
    }
    if (check.defect && defects.length === 0) defects.push(check.defect);
    if (defects.length > 0) return { ok: false, checkpoint, entries: defects[0]!.index ?? stitcher.entries, defects };
  }
  return finishVerification({ read, checkpoint, root: stitcher.root() });
}

/** The checkpoint, verified by the pinned key; or the verification failed at it. */
export async function openCheckpoint(read: ReadLogFile, verifierKey: string): Promise<Checkpoint | LogVerification> {
  const note = await read('checkpoint');
  if (note === undefined) return fail({ path: 'checkpoint', message: 'missing: nothing has been published' });
  try {
    return verifyCheckpoint(note, verifierKey).checkpoint;
  } catch (e) {
    return fail({ path: 'checkpoint', message: `not signed by the pinned key or malformed: ${(e as Error).message}` });
  }
}

/** After every entry and tile checked: the tree root against the checkpoint, then staleness. */
export async function finishVerification(c: { read: ReadLogFile; checkpoint: Checkpoint; root: Uint8Array }): Promise<LogVerification> {
  const { checkpoint, root } = c;
  const defects: LogDefect[] = [];
  if (!bytesEqual(root, checkpoint.root)) {
    defects.push({ path: 'checkpoint', message: `root ${toHex(checkpoint.root)} is not the root of the ${checkpoint.size} entries (${toHex(root)})` });
  }
  if (defects.length === 0) defects.push(...(await staleness(c.read, checkpoint.size)));
  return { ok: defects.length === 0, checkpoint, entries: checkpoint.size, defects };
}

/**
 * A checkpoint older than the published entries (an old, validly signed checkpoint put back to hide what came
 * after it): the first bundle past what it covers, full or partial, must not exist. The publisher writes tiles
 * before the checkpoint, so a verify racing a publish can see this for a moment; verifying again settles it.
 */
async function staleness(read: ReadLogFile, size: number): Promise<LogDefect[]> {
  const bundle = Math.floor(size / TILE_WIDTH);
  const covered = size % TILE_WIDTH;
  for (let width = covered + 1; width <= TILE_WIDTH; width++) {
    const path = entryBundlePath({ index: bundle, width });
    if ((await read(path)) !== undefined) {
      return [{ index: size, path: 'checkpoint', message: `stale: ${path} holds entries up to ${bundle * TILE_WIDTH + width - 1}, but the checkpoint covers only ${size} (or it is being published right now: verify again)` }];
    }
  }
  return [];
}

function fail(d: LogDefect): LogVerification {
  return { ok: false, entries: 0, defects: [d] };
}

interface BundleCheck {
  read: ReadLogFile;
  bundle: number;
  width: number;
  chain: ReceiptChain;
  tiles: TileBuilder;
  onEntry?: ((e: ChainedEntry) => void) | undefined;
}

async function checkBundle(c: BundleCheck): Promise<LogDefect[]> {
  const path = entryBundlePath({ index: c.bundle, width: c.width });
  const first = c.bundle * TILE_WIDTH;
  const bytes = await c.read(path);
  if (bytes === undefined) return [{ index: first, path, message: `entry bundle missing (entries ${first}–${first + c.width - 1})` }];
  let entries: Uint8Array[];
  try {
    entries = decodeEntryBundle(bytes, c.width);
  } catch (e) {
    return [{ index: first, path, message: `entry bundle unreadable: ${(e as Error).message}` }];
  }
  for (const entry of entries) {
    try {
      const chained = c.chain.replay(entry);
      c.tiles.add(chained);
      c.onEntry?.(chained);
    } catch (e) {
      return [{ index: c.chain.size, path, message: (e as Error).message }];
    }
  }
  return [];
}

/** Compares recomputed tiles with the stored ones; partial tiles only at the end of the tree. */
export async function compareTiles(read: ReadLogFile, files: TileFile[], last: boolean): Promise<LogDefect[]> {
  for (const f of files) {
    if (!f.full && !last) continue;
    if (f.path.startsWith('tile/entries/')) continue; // bundles were just read and checked entry by entry
    const stored = await read(f.path);
    if (stored === undefined) return [{ path: f.path, message: 'hash tile missing' }];
    if (!bytesEqual(stored, f.bytes)) return [{ path: f.path, message: `hash tile differs from the hashes of the entries${firstDiff(stored, f.bytes)}` }];
  }
  return [];
}

function firstDiff(stored: Uint8Array, want: Uint8Array): string {
  for (let i = 0; i < Math.max(stored.length, want.length); i += 32) {
    if (!bytesEqual(stored.subarray(i, i + 32), want.subarray(i, i + 32))) return ` at hash ${i / 32} of the tile`;
  }
  return '';
}
