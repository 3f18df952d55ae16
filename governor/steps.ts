/**
 * Work that can be run a piece at a time: a generator that yields between pieces of a few microseconds each and
 * returns its result. The pure core only says where it may be paused; a driver at the edge decides when to pause
 * (`runInSlices` in recording/), and `runSteps` runs it all at once.
 */
export type Steps<T> = Generator<void, T, void>;

/** Runs `steps` to the end in one go and returns their result. */
export function runSteps<T>(steps: Steps<T>): T {
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}
