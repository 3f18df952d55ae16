// The one partial-or-full tile fallback of the tlog-tiles layout, for every reader of a published log (a folder,
// a URL, a bucket): a partial tile of width w is exactly the first w hashes (or entries) of any wider version of
// the same tile, so one superseded and deleted is cut from the full tile or, in a folder, from a wider partial.
import { HASH_SIZE } from '../merkle-hash.ts';
import { decodeEntryBundle, encodeEntryBundle, TILE_WIDTH, tileRefPath, type TileRef } from '../tlog-tiles.ts';
import type { ReadLogFile } from '../verify-log.ts';

/** The tile is not published, nor any wider version of it to cut it from (not published yet, or never). */
export class TileMissingError extends Error {
  override name = 'TileMissingError';
}

/** A tile file whose bytes cannot be the tile its path names (a write cut short, or an altered log). */
export class TileDamagedError extends Error {
  override name = 'TileDamagedError';
}

/**
 * The bytes of `ref`, checked to be the size its path names: the exact file, else cut from the full tile, else
 * (with `widerPartials`, for a folder where a lookup is cheap) from the widest partial there is.
 * @throws TileMissingError when none is there; TileDamagedError when the file found cannot be the tile.
 */
export async function readTile(read: ReadLogFile, ref: TileRef, opts: { widerPartials?: boolean } = {}): Promise<Uint8Array> {
  const exact = await read(tileRefPath(ref));
  if (exact) return checkedTile(ref, exact);
  const lowest = opts.widerPartials ? ref.width + 1 : TILE_WIDTH;
  for (let width = TILE_WIDTH; ref.width < TILE_WIDTH && width >= lowest; width--) {
    const wider = await read(tileRefPath({ ...ref, width }));
    if (!wider) continue;
    checkedTile({ ...ref, width }, wider);
    return ref.kind === 'entries' ? encodeEntryBundle(decodeEntryBundle(wider).slice(0, ref.width)) : wider.subarray(0, ref.width * HASH_SIZE);
  }
  throw new TileMissingError(`${tileRefPath(ref)}: missing (not published)${ref.width < TILE_WIDTH ? ', and no wider version of the tile either' : ''}`);
}

/** `bytes` when they can be the tile `ref` (W hashes, or a bundle of W entries); else a TileDamagedError. */
export function checkedTile(ref: TileRef, bytes: Uint8Array): Uint8Array {
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
