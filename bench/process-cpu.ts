/**
 * CPU time a process has used, read from /proc/PID/stat (user + system, all its threads), so the bench can say
 * where a machine's cores went while a load ran: in the server under test, in a store beside it, in the load
 * generator. Linux only; elsewhere it throws and says so.
 *
 * @example
 * const before = cpuMsOf(server.child.pid!);
 * await runCannon(options);
 * const microsPerRequest = ((cpuMsOf(server.child.pid!) - before) * 1000) / result.requests;
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Clock ticks per second of utime and stime (`getconf CLK_TCK`; 100 on every Linux we run on). */
const TICKS_PER_SECOND = ((): number => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** utime + stime of process `pid` so far, in ms (10 ms resolution at 100 ticks per second). */
export function cpuMsOf(pid: number): number {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch (error) {
    throw new Error(`the CPU time of process ${pid} needs /proc/${pid}/stat (Linux): ${(error as Error).message}`, { cause: error });
  }
  // The command name (field 2) may hold spaces and parentheses: the fields after its last ')' start at field 3.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]); // fields 14 (utime) and 15 (stime)
  return (ticks * 1000) / TICKS_PER_SECOND;
}

/**
 * CPU time the whole machine has spent busy so far (every CPU, every process and the kernel: /proc/stat's `cpu`
 * line less idle, iowait and steal), in ms: beside the watched processes' own, what everything else took.
 */
export function machineBusyMs(): number {
  let stat: string;
  try {
    stat = readFileSync('/proc/stat', 'utf8');
  } catch (error) {
    throw new Error(`the machine's CPU time needs /proc/stat (Linux): ${(error as Error).message}`, { cause: error });
  }
  // cpu user nice system idle iowait irq softirq steal …: steal is the host's, guest time is inside user and nice.
  const [user, nice, system, , , irq, softirq] = stat.slice(0, stat.indexOf('\n')).trim().split(/\s+/).slice(1).map(Number);
  const ticks = [user, nice, system, irq, softirq].reduce<number>((sum, t) => sum + (t ?? 0), 0);
  return (ticks * 1000) / TICKS_PER_SECOND;
}
