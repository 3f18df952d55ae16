// Reading the published tree for proofs: hash tiles and entry bundles of the tlog-tiles layout, fetched as
// proofs.ts asks for nodes, through tile-read.ts (a deleted partial tile is cut from the full one).
// A tile that is missing or damaged is a TileMissingError or TileDamagedError naming it; the CLI maps them to
// findings (cli/log-tree.ts).
import {
  TILE_WIDTH,
  decodeEntryBundle,
  nodeAtFromTiles,
  tilePath,
  type HashTile,
  type NodeAt,
  type ReadLogFile,
} from '../index.ts';
import { readTile, TileDamagedError } from './tile-read.ts';

/** Bytes of hash tile `tile` at its width (the partial file, or cut from the full one). */
export async function readHashTile(read: ReadLogFile, tile: HashTile): Promise<Uint8Array> {
  return labelDamage(() => readTile(read, tile), `hash tile ${tilePath(tile)}`);
}

/** Bytes of entry `index` in the tree of `size` entries, from its entry bundle. */
export async function readEntry(read: ReadLogFile, index: number, size: number): Promise<Uint8Array> {
  const bundle = Math.floor(index / TILE_WIDTH);
  const width = Math.min(TILE_WIDTH, size - bundle * TILE_WIDTH);
  const bytes = await labelDamage(() => readTile(read, { kind: 'entries', index: bundle, width }), `entry bundle for entry ${index}`);
  return decodeEntryBundle(bytes, width)[index % TILE_WIDTH]!;
}

/** A damaged tile names what was read (`what` unreadable: …); a missing one names its path already. */
async function labelDamage(readIt: () => Promise<Uint8Array>, what: string): Promise<Uint8Array> {
  try {
    return await readIt();
  } catch (e) {
    if (e instanceof TileDamagedError) throw new TileDamagedError(`${what} unreadable: ${e.message}`);
    throw e;
  }
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
