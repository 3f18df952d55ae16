/** Runs a load generator (bench/load/cannon.ts or paced.ts) in a child process on its own CPU and returns what it measured. */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type autocannon from 'autocannon';
import { pinnedCommand } from '../cpu-pin.ts';
import type { CannonResult } from './cannon.ts';

const CANNON = fileURLToPath(new URL('./cannon.ts', import.meta.url));
const PACED = fileURLToPath(new URL('./paced.ts', import.meta.url));
/** The load generator's CPU; servers under test go on the other one. */
export const LOAD_CORE = 0;
export const SERVER_CORE = 1;

/**
 * autocannon at saturation (closed loop: each connection sends its next request when answered), on CPU `core`,
 * or wherever the scheduler puts it with `'any'`.
 */
export function runCannon(options: autocannon.Options, core: number | 'any' = LOAD_CORE): Promise<CannonResult> {
  return runLoad(CANNON, options, core);
}

/** bench/load/paced.ts: an evenly paced open-loop load of `rate` requests/s. */
export function runPaced(options: { url: string; body: string; rate: number; duration: number; connections: number }): Promise<CannonResult> {
  return runLoad(PACED, options, LOAD_CORE);
}

async function runLoad(script: string, options: object, core: number | 'any'): Promise<CannonResult> {
  const argv = [script, JSON.stringify(options)];
  const [cmd, args] = core === 'any' ? [process.execPath, argv] : pinnedCommand(core, process.execPath, argv);
  const { stdout } = await promisify(execFile)(cmd, args, { maxBuffer: 1 << 20 });
  return JSON.parse(stdout) as CannonResult;
}
