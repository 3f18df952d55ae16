import { link, mkdir, open, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * Writes `bytes` to `file` whole or not at all: they go to a temporary file beside it, which is fsync'd, then
 * renamed over `file` (`exclusive: false`) or hard-linked to it (`exclusive: true`: an existing file is left as
 * it is, and 'exists' says so). A full disk or a crash therefore never leaves a short or empty file at `file`,
 * which readers (and HTTP caches, for immutable tiles) would otherwise take as the real thing. `bytes` may come
 * in chunks (a large file made a slice at a time), each written before the next is asked for.
 */
export async function writeWholeFile(file: string, bytes: Uint8Array | AsyncIterable<Uint8Array>, opts: { exclusive: boolean }): Promise<'written' | 'exists'> {
  await mkdir(dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.tmp`;
  const handle = await open(temp, 'w');
  try {
    if (bytes instanceof Uint8Array) await handle.writeFile(bytes);
    else for await (const chunk of bytes) await handle.write(chunk);
    await handle.datasync();
  } catch (e) {
    await handle.close();
    await unlink(temp).catch(() => undefined);
    throw e;
  }
  await handle.close();
  if (!opts.exclusive) {
    await rename(temp, file);
    return 'written';
  }
  try {
    await link(temp, file);
    return 'written';
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return 'exists';
    throw e;
  } finally {
    await unlink(temp).catch(() => undefined);
  }
}
