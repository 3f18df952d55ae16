import { CountersUnavailableError } from '../governor/index.ts';

/** Hears one call's round trip: how long it took (ms) and, when it failed, why. */
export type CallObserver = (ms: number, error: CountersUnavailableError | undefined) => void;

/** How every call to the store is bounded and observed. */
export interface CallGuard {
  timeoutMs: number;
  observe: CallObserver;
}

/**
 * The reply, or CountersUnavailableError when the store refuses (disconnected) or has not answered within
 * `timeoutMs` (stalled). A command that timed out may still run: `late` hears its reply then, so the caller can
 * undo what it did.
 */
export function guarded<T>(reply: Promise<T>, guard: CallGuard, late?: (reply: T) => void): Promise<T> {
  const started = performance.now();
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const fail = (error: CountersUnavailableError): void => {
      settled = true;
      guard.observe(performance.now() - started, error);
      reject(error);
    };
    const timer = setTimeout(() => fail(new CountersUnavailableError(`shared counters unavailable: no answer within ${guard.timeoutMs} ms`)), guard.timeoutMs);
    reply.then(
      (value) => {
        clearTimeout(timer);
        if (settled) return late?.(value);
        settled = true;
        guard.observe(performance.now() - started, undefined);
        resolve(value);
      },
      (e: unknown) => {
        clearTimeout(timer);
        if (!settled) fail(new CountersUnavailableError(`shared counters unavailable: ${e instanceof Error ? e.message : String(e)}`, { cause: e }));
      },
    );
  });
}
