// What the `tai log` subcommands share: their shape, findings (exit 1), and reading checkpoints and files.
import { readFile } from 'node:fs/promises';
import { fromHex, type Checkpoint, type LogDefect, type ReadLogFile } from '../receipts/index.ts';
import { readCheckpointFile } from '../receipts/client/index.ts';
import type { CommandIO } from './io.ts';
import type { LogFlag } from './log-flags.ts';

/** Parsed flags of `tai log`, by name. */
export type LogOptionValues = Record<string, string | boolean | string[] | undefined>;

/** One `tai log` subcommand: the flags it takes, its positional arguments (named as in the usage) and its run. */
export interface LogSubcommand {
  flags: readonly LogFlag[];
  args: readonly string[];
  /** The last argument may be repeated (at least `args.length` arguments). */
  moreArgs?: true;
  run(c: { args: string[]; values: LogOptionValues; io: CommandIO }): Promise<number>;
}

/** A finding about the log or a receipt (exit 1): printed as `✗ message`. */
export class LogFinding extends Error {
  override name = 'LogFinding';
}

/** A verification defect as one line: entry and/or file, and what is wrong. */
export function defectLine(d: LogDefect): string {
  return `✗ ${d.index !== undefined ? `entry ${d.index}` : d.path}: ${d.message}${d.path && d.index !== undefined ? ` (${d.path})` : ''}`;
}

/** Reads the log's `checkpoint` and verifies it with `verifierKey`; a missing or unverified one is a finding. */
export async function readVerifiedCheckpoint(read: ReadLogFile, verifierKey: string, location: string): Promise<Checkpoint> {
  const file = await readCheckpointFile(read, { verifierKey });
  if (file === undefined) throw new LogFinding(`${location}: no checkpoint: nothing has been published`);
  if ('invalid' in file) throw new LogFinding(`${location}/checkpoint: not signed by ${verifierKey.split('+').slice(0, 2).join('+')} or malformed: ${file.invalid.message}`);
  return file.checkpoint;
}

/** A file's bytes; a file holding only hex (what `tai log proof` prints) is decoded from hex. */
export async function readBytesOrHex(path: string): Promise<Uint8Array> {
  const bytes = new Uint8Array(await readFile(path));
  const text = new TextDecoder().decode(bytes).trim();
  return text.length > 0 && text.length % 2 === 0 && /^[0-9a-fA-F]+$/.test(text) ? fromHex(text) : bytes;
}

export { jsonSafe } from '../ledger/index.ts';

/** The 4-byte big-endian form of a signed-note key ID, used as the COSE kid. */
export function keyIdBytes(keyId: number): Uint8Array {
  const kid = new Uint8Array(4);
  new DataView(kid.buffer).setUint32(0, keyId);
  return kid;
}

/** `name+hex8` of a verifier key, how output names a key. */
export function keyName(verifierKey: string): string {
  return verifierKey.split('+').slice(0, 2).join('+');
}
