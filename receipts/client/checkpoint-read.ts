// Reading a log's signed checkpoint, wherever the log is (its folder, a URL, the bucket it is anchored in).
import { parseCheckpoint, parseNote, verifyCheckpoint, type Checkpoint, type ReadLogFile } from '../index.ts';

/** A checkpoint file as read: the checkpoint, or why its note is not one of this log (damaged, another key's). */
export type CheckpointRead = { checkpoint: Checkpoint } | { invalid: Error };

/**
 * Reads a log's `checkpoint` (or an anchor, `checkpoints/<size>`, with `path`) through `read`: verified with
 * `verifierKey`, or only parsed where no key is pinned. Missing: undefined. Unreadable: the reader's error, as
 * thrown. A note that does not parse or verify is returned as `invalid`, for each caller to judge (skip it,
 * report it, refuse to start).
 *
 * @example
 * const read = await readCheckpointFile(logFolderReader(dir), { verifierKey: undefined });
 * if (read !== undefined && 'checkpoint' in read) console.log(read.checkpoint.size);
 */
export async function readCheckpointFile(read: ReadLogFile, o: { verifierKey: string | undefined; path?: string }): Promise<CheckpointRead | undefined> {
  const note = await read(o.path ?? 'checkpoint');
  if (note === undefined) return undefined;
  try {
    return { checkpoint: o.verifierKey === undefined ? parseCheckpoint(parseNote(note).text) : verifyCheckpoint(note, o.verifierKey).checkpoint };
  } catch (e) {
    return { invalid: e as Error };
  }
}
