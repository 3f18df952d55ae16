import { readFile } from 'node:fs/promises';
import { parseVerifierKey, type ReadLogFile } from '../receipts/index.ts';
import { bucketLogReader, httpLogReader, logFolderReader, LogReadError, readCheckpointFile } from '../receipts/client/index.ts';
import { gcsBucket, verifierKeyPathFor } from '../server/index.ts';
import { UsageError } from './io.ts';
import { LogFinding } from './log-subcommand.ts';

/**
 * Reads the published log from a folder, an http(s) URL (e.g. http://127.0.0.1:8080/log) or its anchors in a
 * bucket (gs://BUCKET/PREFIX, through an emulator at `gcsEndpoint` when given), through receipts/client/.
 */
export function logReader(location: string, opts: { gcsEndpoint?: string | undefined } = {}): ReadLogFile {
  if (location.startsWith('gs://')) return findingOnReadError(bucketLogReader(gcsBucket(location, opts.gcsEndpoint)));
  if (/^https?:\/\//.test(location)) return findingOnReadError(httpLogReader(location));
  if (/^[a-z]+:\/\//.test(location)) throw new UsageError(`unsupported log location ${location}: use a folder, an http(s) URL or gs://BUCKET/PREFIX`);
  return logFolderReader(location);
}

/** A log that cannot be read is not verified: a finding (exit 1) naming the object, not a crash. */
function findingOnReadError(read: ReadLogFile): ReadLogFile {
  return (path) =>
    read(path).catch((e: unknown) => {
      throw e instanceof LogReadError ? new LogFinding(e.message) : e;
    });
}

/**
 * The verifier key to pin: `--vkey` as a key string or a file holding one; by default, for a folder, the key
 * `tai serve` wrote for that log (signing.key.pub beside the folder: log-key.ts); a URL or bucket needs `--vkey`.
 */
export async function verifierKeyFrom(vkey: string | undefined, location: string): Promise<string> {
  const candidate = vkey ?? verifierKeyPathFor(location);
  if (candidate === undefined) throw new UsageError(`--vkey is required for a log at ${location}: pin the verifier key the operator published`);
  try {
    return parseVerifierKey(candidate).key; // a key string (names such as tai.dev/embedded/host contain "/")
  } catch {
    // not a key string: a file holding one
  }
  try {
    return (await readFile(candidate, 'utf8')).trim();
  } catch {
    throw new UsageError(`--vkey: ${candidate} is neither a verifier key (name+hex8+base64) nor a readable file`);
  }
}

/**
 * {@link verifierKeyFrom}, where a file may hold several keys, one a line (the replicas of a deployment may each
 * sign with their own): the one that verifies the log's checkpoint, else the first, so that verifying names
 * the failure.
 */
export async function verifierKeyFor(vkey: string | undefined, location: string, read: ReadLogFile): Promise<string> {
  const keys = (await verifierKeyFrom(vkey, location)).split('\n').map((k) => k.trim()).filter(Boolean);
  if (keys.length <= 1) return keys[0] ?? '';
  for (const key of keys) {
    const file = await readCheckpointFile(read, { verifierKey: key }).catch(() => undefined);
    if (file !== undefined && 'checkpoint' in file) return key;
  }
  return keys[0]!;
}
