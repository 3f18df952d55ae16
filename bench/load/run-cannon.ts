/** Runs bench/load/cannon.ts in a child process on its own CPU and returns what it measured. */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type autocannon from 'autocannon';
import { pinnedCommand } from '../cpu-pin.ts';
import type { CannonResult } from './cannon.ts';

const CANNON = fileURLToPath(new URL('./cannon.ts', import.meta.url));
/** The load generator's CPU; servers under test go on the other one. */
export const LOAD_CORE = 0;
export const SERVER_CORE = 1;

export async function runCannon(options: autocannon.Options): Promise<CannonResult> {
  const [cmd, args] = pinnedCommand(LOAD_CORE, process.execPath, [CANNON, JSON.stringify(options)]);
  const { stdout } = await promisify(execFile)(cmd, args, { maxBuffer: 1 << 20 });
  return JSON.parse(stdout) as CannonResult;
}
