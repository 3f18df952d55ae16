import { lstat, mkdir, mkdtemp, readdir, readlink, rename, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/** A ConfigMap's or Secret's data as a volume shows it: path (may hold `/`, from `items[].path`) → text. */
export type VolumePayload = Readonly<Record<string, string>>;

/** Pauses in an update, to look at the volume between kubelet's steps. */
export interface VolumeHooks {
  payloadWritten?: () => Promise<void>;
  swapped?: () => Promise<void>;
}

/**
 * Writes `payload` into `dir` the way kubelet's atomic writer does (kubernetes pkg/volume/util/atomic_writer.go,
 * `AtomicWriter.Write`), with real directories, symlinks and renames:
 * 1. the files go into a new payload directory `..2026_11_23_10_00_00.XXXXXX` (kubelet's `os.MkdirTemp` prefix);
 * 2. `hooks.payloadWritten` runs, if given (kubelet may be slow here; a reader must not act on the payload yet);
 * 3. a symlink `..data_tmp -> ..2026_…` is made and renamed over `..data` — the one atomic step;
 * 4. `hooks.swapped` runs, if given (a reader must act now, before any clean-up below raises more events);
 * 5. each top-level entry gets its symlink `NAME -> ..data/NAME` if it has none, and entries no longer in the
 *    payload lose theirs;
 * 6. the previous payload directory is removed.
 * The first call makes the volume; each later call is an update.
 */
export async function writeKubeletVolume(dir: string, payload: VolumePayload, hooks: VolumeHooks = {}): Promise<void> {
  const previous = await readlink(join(dir, '..data')).catch(() => undefined);
  const stamp = new Date().toISOString().replace(/[-T:]/g, '_').replace(/\.\d+Z$/, '');
  const next = await mkdtemp(join(dir, `..${stamp}.`));
  for (const [path, text] of Object.entries(payload)) {
    await mkdir(dirname(join(next, path)), { recursive: true });
    await writeFile(join(next, path), text);
  }
  await hooks.payloadWritten?.();
  await symlink(next.slice(dir.length + 1), join(dir, '..data_tmp'));
  await rename(join(dir, '..data_tmp'), join(dir, '..data'));
  await hooks.swapped?.();
  await linkTopLevel(dir, payload);
  if (previous) await rm(join(dir, previous), { recursive: true });
}

/** Step 5: the user-visible symlinks, one per top-level name. */
async function linkTopLevel(dir: string, payload: VolumePayload): Promise<void> {
  const wanted = new Set(Object.keys(payload).map((path) => path.split('/')[0]!));
  for (const name of wanted) {
    const exists = await lstat(join(dir, name)).then(() => true, () => false);
    if (!exists) await symlink(`..data/${name}`, join(dir, name));
  }
  for (const name of await readdir(dir)) if (!name.startsWith('..') && !wanted.has(name)) await unlink(join(dir, name));
}
