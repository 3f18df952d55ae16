import { readFile } from 'node:fs/promises';
import { jsonSlices } from './json-slices.ts';
import { writeWholeFile } from './whole-file.ts';
import type { PublisherState } from './log-publisher.ts';
import type { ResumePoint } from './receipt-log.ts';

/**
 * The local snapshot that bounds replay at start (design §5): where the log was, the publisher's partial tiles,
 * and what the log's user replays from it (`replay`: the governor's usage, idempotent answers and last recorded
 * policy at that point, recording/log-replay.ts), opaque to the store. It is an optimisation:
 * anything stale or unreadable is ignored and the whole log is replayed instead.
 */
export interface RunState<R = unknown> {
  version: 1;
  log: ResumePoint;
  publisher: PublisherState;
  replay: R;
}

export async function loadRunState<R>(path: string): Promise<RunState<R> | undefined> {
  try {
    const state = JSON.parse(await readFile(path, 'utf8')) as RunState<R>;
    return state.version === 1 && state.log && state.publisher && state.replay ? state : undefined;
  } catch {
    return undefined;
  }
}

/** The save being written (or last written) per file: saves to one file run one after the other. */
const saving = new Map<string, Promise<void>>();

/**
 * Writes `state` to `path` whole (a temporary file, fdatasync'd, renamed over it). Saves to the same path run one
 * after the other, in call order, each after the previous one ended (failed or not): two at once would share the
 * temporary file, leaving mixed JSON or failing the second rename. The JSON is made and written a slice at a time
 * (json-slices.ts): at 1M entries it is tens of megabytes, which one JSON.stringify would stall the event loop
 * for (~150–200 ms, issue 19). So `state` must not change until the save ends: the capture
 * (recording/log-replay.ts) copies cells, answers' wrappers and the effective record, and the answers and
 * documents they hold are replaced in the governor, never changed in place.
 */
export function saveRunState(path: string, state: RunState<unknown>): Promise<void> {
  const previous = saving.get(path) ?? Promise.resolve();
  const save = previous.then(() => writeWholeFile(path, jsonSlices(state), { exclusive: false })).then(() => undefined);
  const settled = save.catch(() => undefined);
  saving.set(path, settled);
  void settled.then(() => {
    if (saving.get(path) === settled) saving.delete(path);
  });
  return save;
}
