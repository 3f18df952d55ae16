import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TileRef } from '../index.ts';
import { readTile, TileMissingError } from './tile-read.ts';

/**
 * The bytes of `ref` from a published log folder (tile-read.ts: checked, and a deleted partial cut from
 * the full tile or the widest partial in the folder). Missing: TileMissingError naming the folder.
 */
export async function readTileAt(logDir: string, ref: TileRef): Promise<Uint8Array> {
  try {
    return await readTile((path) => readIfExists(join(logDir, path)), ref, { widerPartials: true });
  } catch (e) {
    if (e instanceof TileMissingError) throw new TileMissingError(`${e.message} in ${logDir}`);
    throw e;
  }
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
