import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { HASH_SIZE } from '../merkle-hash.ts';
import { decodeEntryBundle, encodeEntryBundle, TILE_WIDTH, tileRefPath, type TileRef } from '../tlog-tiles.ts';

/**
 * The bytes of `ref` from a published log folder. A partial tile is removed by the publisher once a wider one
 * replaces it — which at thousands of entries a second happens while an anchoring pass runs — so a missing
 * partial is cut from the full tile or the current wider partial: a partial tile of width w is exactly the first
 * w hashes (or entries) of any wider version of the same tile.
 */
export async function readTileAt(logDir: string, ref: TileRef): Promise<Uint8Array> {
  const exact = await readIfExists(join(logDir, tileRefPath(ref)));
  if (exact) return exact;
  if (ref.width === TILE_WIDTH) throw new Error(`${tileRefPath(ref)}: missing from ${logDir}`);
  for (let width = TILE_WIDTH; width > ref.width; width--) {
    const wider = await readIfExists(join(logDir, tileRefPath({ ...ref, width })));
    if (wider) return ref.kind === 'entries' ? encodeEntryBundle(decodeEntryBundle(wider).slice(0, ref.width)) : wider.subarray(0, ref.width * HASH_SIZE);
  }
  throw new Error(`${tileRefPath(ref)}: missing from ${logDir}, and no wider version of the tile either`);
}

/** A file's bytes, or undefined when it does not exist. */
export async function readIfExists(path: string): Promise<Uint8Array | undefined> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}
