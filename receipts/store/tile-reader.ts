import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { HASH_SIZE } from '../merkle-hash.ts';
import { decodeEntryBundle, encodeEntryBundle, TILE_WIDTH, tileRefPath, type TileRef } from '../tlog-tiles.ts';

/** The tile is not in the folder, nor any wider version of it to cut it from (not published yet, or never). */
export class TileMissingError extends Error {
  override name = 'TileMissingError';
}

/** A tile file whose bytes cannot be the tile its path names (a write cut short, or an altered folder). */
export class TileDamagedError extends Error {
  override name = 'TileDamagedError';
}

/**
 * The bytes of `ref` from a published log folder, checked to be the size its path names. A superseded partial
 * tile the publisher has since deleted (after its retention time) is cut from the full tile or the current wider
 * partial: a partial tile of width w is exactly the first w hashes (or entries) of any wider version of the same
 * tile, so the answer is the same bytes either way.
 */
export async function readTileAt(logDir: string, ref: TileRef): Promise<Uint8Array> {
  const exact = await readIfExists(join(logDir, tileRefPath(ref)));
  if (exact) return checked(ref, exact);
  if (ref.width === TILE_WIDTH) throw new TileMissingError(`${tileRefPath(ref)}: missing from ${logDir}`);
  for (let width = TILE_WIDTH; width > ref.width; width--) {
    const wider = await readIfExists(join(logDir, tileRefPath({ ...ref, width })));
    if (!wider) continue;
    checked({ ...ref, width }, wider);
    return ref.kind === 'entries' ? encodeEntryBundle(decodeEntryBundle(wider).slice(0, ref.width)) : wider.subarray(0, ref.width * HASH_SIZE);
  }
  throw new TileMissingError(`${tileRefPath(ref)}: missing from ${logDir}, and no wider version of the tile either`);
}

/** `bytes` when they can be the tile `ref` (W hashes, or a bundle of W entries); else a TileDamagedError. */
function checked(ref: TileRef, bytes: Uint8Array): Uint8Array {
  const path = tileRefPath(ref);
  if (ref.kind === 'hash') {
    if (bytes.length !== ref.width * HASH_SIZE) throw new TileDamagedError(`${path} is ${bytes.length} bytes, want ${ref.width * HASH_SIZE}: the file is damaged`);
    return bytes;
  }
  try {
    decodeEntryBundle(bytes, ref.width);
  } catch (e) {
    throw new TileDamagedError(`${path} is not a bundle of ${ref.width} entries (${(e as Error).message}): the file is damaged`);
  }
  return bytes;
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
