/** Timing and heap helpers. Only the bench reads the real clock; the governor is given a fixed one. */

export function median(xs: readonly number[]): number {
  if (xs.length === 0) throw new Error('median of no samples');
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The p-th percentile (nearest rank) of some samples, e.g. percentile(xs, 99). */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) throw new Error('percentile of no samples');
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** Milliseconds `work` takes, once. */
export function timeMs(work: () => void): number {
  const start = process.hrtime.bigint();
  work();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/** Runs `work` `runs` times and returns each run's milliseconds. */
export function sampleMs(runs: number, work: (run: number) => void): number[] {
  const out: number[] = [];
  for (let r = 0; r < runs; r++) out.push(timeMs(() => work(r)));
  return out;
}

export interface PairedPlan {
  runs: number;
  warmupRuns: number;
}

/**
 * Times a subject and its baseline in alternating runs (so drift in the machine hits both alike), after
 * untimed warm-up runs of each. Each run function does its own loop and returns ns per operation.
 */
export function pairedRuns(subject: () => number, baseline: () => number, plan: PairedPlan): { subject: number[]; baseline: number[] } {
  for (let w = 0; w < plan.warmupRuns; w++) {
    subject();
    baseline();
  }
  const out = { subject: [] as number[], baseline: [] as number[] };
  for (let r = 0; r < plan.runs; r++) {
    out.subject.push(subject());
    out.baseline.push(baseline());
  }
  return out;
}

/** Whether a full GC can be forced (the process runs with --expose-gc). */
export const canCollect = typeof globalThis.gc === 'function';

/** heapUsed after a forced full GC (twice: the first can leave weak references for the second). */
export function settledHeap(): number {
  globalThis.gc?.();
  globalThis.gc?.();
  return process.memoryUsage().heapUsed;
}
