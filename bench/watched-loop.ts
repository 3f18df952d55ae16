/**
 * A save (or any job) watched for the stalls it causes (issue 19): the event loop's delay, and the most main-thread
 * CPU between two turns of a 1 ms timer, after a full collection. Used by the state-save and publish-stalls scenarios.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

export interface Save {
  /** The longest event-loop delay seen during the save, ms. */
  maxMs: number;
  /**
   * The most main-thread CPU spent between two turns of a 1 ms timer, ms: the longest block the process itself
   * caused, which a loaded machine does not inflate as it does the delay (a starved thread waits, but spends no CPU).
   */
  cpuMaxMs: number;
  p99Ms: number;
  seconds: number;
}

/**
 * A full collection, outside every measured window: the baselines (a 140 MB JSON.stringify) leave hundreds of MB of
 * garbage whose compaction would otherwise land in whichever save runs next.
 */
const collect = ((): (() => void) => {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
})();

/** Runs `save` with the event loop's delay recorded throughout, after a full collection. */
export async function watched(save: () => Promise<unknown>): Promise<Save> {
  collect();
  const delay = monitorEventLoopDelay({ resolution: 1 });
  await new Promise((resolve) => setTimeout(resolve, 20)); // a quiet loop before, so the histogram starts clean
  delay.enable();
  await new Promise((resolve) => setTimeout(resolve, 5)); // the histogram has no sample to be late before its first
  const turns = cpuBetweenTurns();
  const started = performance.now();
  await save();
  const seconds = (performance.now() - started) / 1000;
  await new Promise((resolve) => setTimeout(resolve, 5)); // the last stall is recorded by the next sample
  delay.disable();
  return { maxMs: delay.max / 1e6, p99Ms: delay.percentile(99) / 1e6, cpuMaxMs: turns.stop(), seconds };
}

/** Watches the main thread's CPU time between two turns of a 1 ms timer; `stop` gives the most, ms. */
function cpuBetweenTurns(): { stop(): number } {
  const cpu = (): number => {
    const used = process.threadCpuUsage();
    return (used.user + used.system) / 1000;
  };
  let last = cpu();
  let most = 0;
  const turn = (): void => {
    const now = cpu();
    most = Math.max(most, now - last);
    last = now;
    timer = setTimeout(turn, 1);
  };
  let timer = setTimeout(turn, 1);
  return {
    stop: () => {
      clearTimeout(timer);
      return Math.max(most, cpu() - last);
    },
  };
}

