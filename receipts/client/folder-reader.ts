// Reading a published log from its folder (the one `tai serve` writes, or a copy of it).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ReadLogFile } from '../index.ts';

/** Reads a log's files from its folder; a file that is not there reads as undefined. */
export function logFolderReader(dir: string): ReadLogFile {
  return async (path) => {
    try {
      return new Uint8Array(await readFile(join(dir, path)));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  };
}
