/** Starts running `tick` every `intervalMs`; returns a function that stops it. */
export type Poller = (intervalMs: number, tick: () => Promise<void>) => () => void;

/** setTimeout's longest delay (2³¹ − 1 ms, about 24.8 days); a longer one fires at once. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/**
 * Runs `tick` every `intervalMs` ms (precondition: 0 < intervalMs ≤ 2³¹ − 1), never two at once: the next wait
 * starts when a tick has settled, so a slow read of a network mount does not pile up. A rejected tick is ignored
 * (it reports its own errors). The timer does not keep the process alive.
 *
 * @example
 * const stop = pollEvery(5_000, async () => void (await policy.reload()));
 */
export const pollEvery: Poller = (intervalMs, tick) => {
  if (!(intervalMs > 0 && intervalMs <= MAX_TIMEOUT_MS)) throw new RangeError(`pollEvery: interval must be in (0, ${MAX_TIMEOUT_MS}] ms, got ${intervalMs}`);
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const next = (): void => {
    if (!stopped) timer = setTimeout(() => void tick().then(next, next), intervalMs).unref();
  };
  next();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
};
