// Reading the published tree for proofs: hash tiles and entry bundles of the tlog-tiles layout, fetched as
// proofs.ts asks for nodes. A partial tile the publisher has since replaced (the log grew) is read as a prefix
// of the full tile, which holds the same hashes.
import {
  HASH_SIZE,
  TILE_WIDTH,
  decodeEntryBundle,
  entryBundlePath,
  nodeAtFromTiles,
  tilePath,
  type HashTile,
  type NodeAt,
  type ReadLogFile,
} from '../receipts/index.ts';
import { LogFinding } from './log-subcommand.ts';

/** Bytes of hash tile `tile` at its width: the partial file, or the first width × 32 bytes of the full one. */
export async function readHashTile(read: ReadLogFile, tile: HashTile): Promise<Uint8Array> {
  const path = tilePath(tile);
  const exact = await read(path);
  if (exact !== undefined) return exact;
  const full = tile.width < TILE_WIDTH ? await read(tilePath({ level: tile.level, index: tile.index })) : undefined;
  if (full !== undefined) return full.subarray(0, tile.width * HASH_SIZE);
  throw new LogFinding(`${path}: hash tile missing (if the log is growing, run again)`);
}

/** Bytes of entry `index` in the tree of `size` entries, from its entry bundle. */
export async function readEntry(read: ReadLogFile, index: number, size: number): Promise<Uint8Array> {
  const bundle = Math.floor(index / TILE_WIDTH);
  const width = Math.min(TILE_WIDTH, size - bundle * TILE_WIDTH);
  const path = entryBundlePath({ index: bundle, width });
  let bytes = await read(path);
  let entries: Uint8Array[];
  try {
    if (bytes === undefined && width < TILE_WIDTH) bytes = await read(entryBundlePath({ index: bundle }));
    if (bytes === undefined) throw new LogFinding(`${path}: entry bundle for entry ${index} missing (if the log is growing, run again)`);
    entries = decodeEntryBundle(bytes);
  } catch (e) {
    if (e instanceof LogFinding) throw e;
    throw new LogFinding(`${path}: unreadable entry bundle: ${(e as Error).message}`);
  }
  const entry = entries[index % TILE_WIDTH];
  if (entry === undefined || entries.length < width) throw new LogFinding(`${path}: holds ${entries.length} entries, want ${width}`);
  return entry;
}

const NEED_TILE = Symbol('need a tile');

/**
 * Runs `compute` over the tree of `size` leaves served from hash tiles, reading each tile it touches once.
 * `nodeAtFromTiles` reads synchronously, so a tile not yet loaded stops `compute`, is fetched, and `compute`
 * runs again (a proof touches a few tiles per 8 levels, so it runs a handful of times). The tiles are not
 * trusted by this: compare `treeRoot(size, nodeAt)` with a verified checkpoint inside `compute`. Calls for the
 * same tree may share `loaded`, so several proofs read each tile once.
 */
export async function withTiles<T>(read: ReadLogFile, size: number, compute: (nodeAt: NodeAt) => T, loaded = new Map<string, Uint8Array>()): Promise<T> {
  const need: { tile?: HashTile } = {};
  for (;;) {
    need.tile = undefined;
    const nodeAt = nodeAtFromTiles(size, (tile) => {
      const bytes = loaded.get(tilePath(tile));
      if (bytes !== undefined) return bytes;
      need.tile = tile;
      throw NEED_TILE;
    });
    try {
      return compute(nodeAt);
    } catch (e) {
      if (e !== NEED_TILE || need.tile === undefined) throw e;
    }
    loaded.set(tilePath(need.tile), await readHashTile(read, need.tile));
  }
}
