/**
 * Pins a benchmark's child process to one CPU core with `taskset`, so the server under test and the load or the
 * bench itself do not take turns on the same core. Where pinning is not possible (no taskset, one CPU) the
 * command is returned unchanged, and `pinning` says so for the figure notes.
 *
 * @example
 * const [cmd, args] = pinnedCommand(1, process.execPath, ['cli/tai.ts', 'serve', ...flags]);
 * const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'] });
 */
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';

/** Whether `taskset` runs here (checked once). */
const hasTaskset = ((): boolean => {
  try {
    return spawnSync('taskset', ['--version'], { stdio: 'ignore' }).status === 0;
  } catch {
    return false;
  }
})();

/** Whether `core` can be pinned to: taskset exists and the machine has more CPUs than `core`, and at least 2. */
export function canPin(core: number): boolean {
  const cpus = availableParallelism();
  return hasTaskset && cpus >= 2 && core >= 0 && core < cpus;
}

/** `[cmd, args]` run on CPU `core` only (`taskset -c core cmd args…`), or unchanged where that is not possible. */
export function pinnedCommand(core: number, cmd: string, args: readonly string[]): [string, string[]] {
  return canPin(core) ? ['taskset', ['-c', String(core), cmd, ...args]] : [cmd, [...args]];
}

/** For a figure note: "pinned to CPU 1 (taskset)" or why not. */
export function pinning(core: number): string {
  if (canPin(core)) return `pinned to CPU ${core} (taskset)`;
  const cpus = availableParallelism();
  return hasTaskset ? `not pinned (CPU ${core} of ${cpus} CPU${cpus === 1 ? '' : 's'})` : 'not pinned (no taskset)';
}

/**
 * Moves a running process, every thread of it, onto CPU `core`, or back onto all CPUs with `'any'`
 * (`taskset -a -p`): for a server the bench did not spawn itself, such as a redis-server from test/support.
 * Returns false where pinning is not possible.
 */
export function pinProcess(pid: number, core: number | 'any'): boolean {
  const cpus = availableParallelism();
  if (core === 'any' ? !hasTaskset || cpus < 2 : !canPin(core)) return false;
  const list = core === 'any' ? `0-${cpus - 1}` : String(core);
  return spawnSync('taskset', ['-a', '-p', '-c', list, String(pid)], { stdio: 'ignore' }).status === 0;
}
