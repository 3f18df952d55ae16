// Go's golang.org/x/mod sumdb/tlog and sumdb/note as a second, independent verifier of TAI's log
// (hack/tlog-verify: built once per machine from the Go module proxy; hack/test.sh builds it before the tests).
import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const SCRIPT = resolve(import.meta.dirname, '../../hack/tlog-verify.sh');

/** What x/mod checked: signed checkpoints whose roots the tiles prove, proofs between them, entries hashed. */
export interface TlogVerified {
  checkpoints: number;
  consistencyProofs: number;
  entries: number;
  size: number;
}

let binary: Promise<string> | undefined;

/**
 * Verifies `checkpoints` (signed notes) against the tiles at `log` (a folder or an http(s) base URL) with x/mod:
 * each root must be the root of its size, each checkpoint a prefix of the next, and (with `entries`) every entry
 * of the largest must hash to its leaf. Rejects with x/mod's own words when anything fails.
 */
export async function tlogVerify(o: { vkey: string; log: string; checkpoints: readonly Uint8Array[]; entries?: boolean }): Promise<TlogVerified> {
  binary ??= run('bash', [SCRIPT]).then((r) => r.stdout.trim());
  const dir = await mkdtemp(join(tmpdir(), 'tai-tlog-verify-'));
  const files = await Promise.all(o.checkpoints.map(async (note, i) => {
    const file = join(dir, `checkpoint-${i}`);
    await writeFile(file, note);
    return file;
  }));
  const args = ['-vkey', o.vkey, '-log', o.log, ...(o.entries ? ['-entries'] : []), ...files];
  const { stdout } = await run(await binary, args, { maxBuffer: 1 << 20 }).catch((e: { stdout?: string; message: string }) => {
    throw new Error(`x/mod tlog: ${e.stdout?.trim() || e.message}`);
  });
  return JSON.parse(stdout) as TlogVerified;
}
