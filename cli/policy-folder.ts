import { watch, type FSWatcher } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { isManifestFile, type ManifestFile } from '../crds/index.ts';

/** Reads every TAI manifest under the given files and folders (recursively), names relative to `cwd`. */
export async function readManifestFiles(paths: readonly string[], cwd = process.cwd()): Promise<ManifestFile[]> {
  const files: ManifestFile[] = [];
  for (const path of paths) {
    const info = await stat(path);
    const names = info.isDirectory()
      ? (await readdir(path, { recursive: true })).filter(isManifestFile).map((n) => join(path, n))
      : [path];
    for (const file of names.sort()) files.push({ file: relative(cwd, file) || file, text: await readFile(file, 'utf8') });
  }
  return files;
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
    if (name === null || isManifestFile(String(name))) fire();
  });
  watcher.on('error', () => fire());
  return () => {
    clearTimeout(timer);
    watcher.close();
  };
}
