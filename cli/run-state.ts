import { readFile, rename, writeFile } from 'node:fs/promises';
import type { PublisherState, ResumePoint } from '../receipts/store/index.ts';
import type { ReplayState } from '../webhook/log-replay.ts';

/**
 * The local snapshot that bounds replay at start (design §5): where the log was, the publisher's partial tiles,
 * and the governor's usage, idempotent answers and last recorded policy at that point. It is an optimisation:
 * anything stale or unreadable is ignored and the whole log is replayed instead.
 */
export interface RunState {
  version: 1;
  log: ResumePoint;
  publisher: PublisherState;
  replay: ReplayState;
}

export async function loadRunState(path: string): Promise<RunState | undefined> {
  try {
    const state = JSON.parse(await readFile(path, 'utf8')) as RunState;
    return state.version === 1 && state.log && state.publisher && state.replay ? state : undefined;
  } catch {
    return undefined;
  }
}

export async function saveRunState(path: string, state: RunState): Promise<void> {
  await writeFile(`${path}.tmp`, JSON.stringify(state));
  await rename(`${path}.tmp`, path);
}
