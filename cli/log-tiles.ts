// The `tai log` and `tai audit` view of the log client's tree reads (receipts/client/log-tree.ts): a tile that is
// missing or damaged is a finding naming it (exit 1), not a crash.
import { readEntry as clientReadEntry, TileDamagedError, TileMissingError, withTiles as clientWithTiles } from '../receipts/client/index.ts';
import type { NodeAt, ReadLogFile } from '../receipts/index.ts';
import { LogFinding } from './log-subcommand.ts';

/** receipts/client `withTiles`, a missing or damaged tile a LogFinding. */
export async function withTiles<T>(read: ReadLogFile, size: number, compute: (nodeAt: NodeAt) => T, loaded?: Map<string, Uint8Array>): Promise<T> {
  return findingFor(() => clientWithTiles(read, size, compute, loaded));
}

/** receipts/client `readEntry`, a missing or damaged entry bundle a LogFinding. */
export async function readEntry(read: ReadLogFile, index: number, size: number): Promise<Uint8Array> {
  return findingFor(() => clientReadEntry(read, index, size));
}

async function findingFor<T>(readIt: () => Promise<T>): Promise<T> {
  try {
    return await readIt();
  } catch (e) {
    if (e instanceof TileMissingError) throw new LogFinding(`${e.message} (if the log is growing, run again)`);
    if (e instanceof TileDamagedError) throw new LogFinding(e.message);
    throw e;
  }
}
