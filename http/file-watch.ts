import { watch, type FSWatcher } from 'node:fs';
import { dirname, resolve } from 'node:path';

export interface FileWatchOptions {
  /** Interval of the poll that catches what directory events miss, in ms (default 10 000; 0 turns it off). */
  pollMs?: number;
  /** Quiet time after the last directory event before `check` runs, in ms (default 100). */
  debounceMs?: number;
  /** Whether to watch the directories at all (default true); false leaves the poll alone, for mounts without events. */
  watch?: boolean;
}

/**
 * Runs `check` whenever any of `files` may have changed: after events in their directories (debounced) and on
 * every poll. `check` reads the files and compares them itself, so a spurious run costs one read.
 *
 * The directories are watched, not the files, because Kubernetes updates Secret and ConfigMap volumes by
 * swapping a `..data` symlink: the file's own inode never changes, and an editor's save-by-rename replaces it.
 * The poll covers filesystems without events and watchers that died with their directory.
 *
 * Runs of `check` never overlap; a trigger during a run causes one more run after it. A rejected `check` is
 * ignored (it reports its own errors). Returns a function that stops everything; nothing keeps the process alive.
 */
export function watchFiles(files: readonly string[], check: () => Promise<void>, opts: FileWatchOptions = {}): () => void {
  const run = serialized(check);
  const watchers = opts.watch === false ? [] : watchDirectories(files, debounced(run.trigger, opts.debounceMs ?? 100));
  const pollMs = opts.pollMs ?? 10_000;
  const poll = pollMs > 0 ? setInterval(run.trigger, pollMs).unref() : undefined;
  return () => {
    run.stop();
    clearInterval(poll);
    for (const w of watchers) w.close();
  };
}

interface Trigger {
  trigger(): void;
  stop(): void;
}

/** One run at a time; triggers during a run coalesce into a single run after it. */
function serialized(check: () => Promise<void>): Trigger {
  let running = false;
  let again = false;
  let stopped = false;
  const trigger = (): void => {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = true;
    again = false;
    void check()
      .catch(() => undefined)
      .finally(() => {
        running = false;
        if (again) trigger();
      });
  };
  return { trigger, stop: () => void (stopped = true) };
}

function debounced(fire: () => void, ms: number): Trigger {
  let timer: NodeJS.Timeout | undefined;
  return {
    trigger: () => {
      clearTimeout(timer);
      timer = setTimeout(fire, ms).unref();
    },
    stop: () => clearTimeout(timer),
  };
}

/** A watcher per distinct directory; a directory that cannot be watched (missing, no inotify) is left to the poll. */
function watchDirectories(files: readonly string[], debounce: Trigger): { close(): void }[] {
  const handles: { close(): void }[] = [{ close: debounce.stop }];
  for (const dir of new Set(files.map((f) => dirname(resolve(f))))) {
    let watcher: FSWatcher;
    try {
      watcher = watch(dir, { persistent: false }, debounce.trigger);
    } catch {
      continue;
    }
    watcher.on('error', () => watcher.close());
    handles.push(watcher);
  }
  return handles;
}
