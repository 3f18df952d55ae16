import { pauseForIo, type Pause } from '../crds/index.ts';
import type { PolicyChange, PolicyCompiler, PolicySnapshot, Steps } from '../governor/index.ts';

/** How a driver slices work. */
export interface SliceOptions {
  /** Between slices (default `pauseForIo`: a turn of the event loop). */
  pause?: Pause;
  /** Milliseconds of work in one slice before it pauses (default 4: well under the 10 ms a decision may wait). */
  budgetMs?: number;
  /** A monotonic clock in ms (default `performance.now`). */
  now?: () => number;
}

const SLICE_BUDGET_MS = 4;

/**
 * Runs steps a slice at a time: as many steps as fit in `budgetMs`, then `pause`, until they return. The steps'
 * own code decides where a pause may fall (see governor/steps.ts); this decides when.
 */
export async function runInSlices<T>(steps: Steps<T>, o: SliceOptions = {}): Promise<T> {
  const pause = o.pause ?? pauseForIo;
  const now = o.now ?? (() => performance.now());
  const budget = o.budgetMs ?? SLICE_BUDGET_MS;
  for (let started = now(); ; ) {
    const r = steps.next();
    if (r.done) return r.value;
    if (now() - started < budget) continue;
    await pause();
    started = now();
  }
}

/**
 * `compiler.apply(change, now)` in slices: decisions meanwhile are answered from the current snapshot, and the
 * new one is made current in one step at the end, after its reconcile receipts (the compiler's `onCompiled`).
 * The compiler takes one change at a time: the caller queues the next until this one resolves.
 */
export async function applyInSlices(compiler: PolicyCompiler, change: PolicyChange, now: number, o: SliceOptions = {}): Promise<PolicySnapshot> {
  return await runInSlices(compiler.changing(change, now), o);
}
