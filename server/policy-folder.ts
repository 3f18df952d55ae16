import { createHash } from 'node:crypto';
import { watch, type FSWatcher, type Stats } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { isManifestFile, type ManifestFile } from '../crds/index.ts';

/**
 * Kubelet's own entries in a ConfigMap or Secret volume: the payload directory `..2026_11_23_10_00_00.123…`,
 * the `..data` symlink to it and the `..data_tmp` it is swapped through. The user's files are the top-level
 * symlinks into `..data`, so anything under a `..` name is a second path to a file already read, or a
 * half-written next version.
 */
export function isKubeletEntry(name: string): boolean {
  return name.startsWith('..');
}

/**
 * Reads every TAI manifest under the given files and folders (recursively, following symlinks, skipping
 * kubelet's `..` entries), names relative to `cwd`.
 */
export async function readManifestFiles(paths: readonly string[], cwd = process.cwd()): Promise<ManifestFile[]> {
  const files: ManifestFile[] = [];
  for (const path of paths) {
    const info = await stat(path);
    const names = info.isDirectory() ? await listManifests(path) : [path];
    for (const file of names.sort()) files.push({ file: relative(cwd, file) || file, text: await readFile(file, 'utf8') });
  }
  return files;
}

/** Manifest files under `dir`, through symlinked folders; a dangling symlink (a key kubelet is removing) is skipped. */
async function listManifests(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (isKubeletEntry(entry.name)) continue;
    const path = join(dir, entry.name);
    const target = entry.isSymbolicLink() ? await statIfPresent(path) : entry;
    if (target?.isDirectory()) out.push(...(await listManifests(path)));
    else if (target?.isFile() && isManifestFile(entry.name)) out.push(path);
  }
  return out;
}

async function statIfPresent(path: string): Promise<Stats | undefined> {
  try {
    return await stat(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/**
 * Whether a watch event (a name relative to the watched folder) can change what `readManifestFiles` reads:
 * a manifest file outside kubelet's entries, or kubelet's `..data` swap — which on Linux is reported as a
 * `rename` of `..data` alone, with no event for the top-level symlinks that now lead to new files. Writes into
 * the next payload directory come before the swap, and reading then would still see the old version.
 */
export function isPolicyEvent(name: string): boolean {
  const parts = name.split(/[\\/]/);
  const kubelet = parts.findIndex(isKubeletEntry);
  if (kubelet === -1) return isManifestFile(name);
  return kubelet === parts.length - 1 && parts[kubelet] === '..data';
}

/**
 * Calls `onChange` after files under `dir` change, debounced: an editor's save is several events.
 * Returns a function that stops watching.
 */
export function watchPolicyFolder(dir: string, onChange: () => void, debounceMs = 75): () => void {
  let timer: NodeJS.Timeout | undefined;
  const fire = (): void => {
    clearTimeout(timer);
    timer = setTimeout(onChange, debounceMs);
  };
  const watcher: FSWatcher = watch(dir, { recursive: true }, (_event, name) => {
    if (name === null || isPolicyEvent(String(name))) fire();
  });
  watcher.on('error', () => fire());
  return () => {
    clearTimeout(timer);
    watcher.close();
  };
}

/**
 * What a read of the folder found, as one value: equal digests mean the same files with the same text, so a
 * reload would change nothing. SHA-256 over the JSON of the (file, text) pairs in order.
 */
export function digestOfManifests(files: readonly ManifestFile[]): string {
  return createHash('sha256')
    .update(JSON.stringify(files.map((f) => [f.file, f.text])))
    .digest('hex');
}
