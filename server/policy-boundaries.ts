import type { Tenant } from '../crds/index.ts';
import type { Clock, PolicyCompiler, PolicySnapshot } from '../governor/index.ts';
import type { PolicyReceipts } from '../recording/policy-receipts.ts';

/** Runs `fire` once after `ms` ms; returns a function that cancels it. Tests pass one they fire themselves. */
export type Schedule = (fire: () => void, ms: number) => () => void;

/** setTimeout's longest delay (2³¹ − 1 ms, about 24.8 days); a longer wait is taken in several. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/** `Schedule` on real timers that do not keep the process alive. */
export const scheduleTimeout: Schedule = (fire, ms) => {
  const timer = setTimeout(fire, Math.min(Math.max(0, ms), MAX_TIMEOUT_MS)).unref();
  return () => clearTimeout(timer);
};

export interface PolicyRecordingOptions {
  compiler: PolicyCompiler;
  receipts: PolicyReceipts;
  /** The Tenant as the feed last applied it (the receipt names its generation and spec digest). */
  tenantResource: (name: string) => Tenant | undefined;
  clock: Clock;
  /** Default `scheduleTimeout`. */
  schedule?: Schedule;
  /** Hears a timer's refresh that threw (its receipt could not be appended: it stays pending). */
  onError: (error: unknown) => void;
}

/**
 * Records every new snapshot of the compiler as reconcile receipts, whatever made it: a feed's apply, a decision
 * that found a Quota's `validFrom`/`validUntil` passed (the receipt is appended before that decision's), or the
 * timer this sets for the next such boundary, so the change is recorded when it takes effect even when no
 * decision comes. Subscribe before the feed's first load. Returns a function that stops both.
 */
export function recordPolicyChanges(o: PolicyRecordingOptions): () => void {
  const unsubscribe = o.compiler.onSnapshot((snapshot) => o.receipts.record(snapshot, o.tenantResource));
  // A change's receipts are appended in its last steps, before it is made current: a change applied in slices
  // (runInSlices) records many tenants over several turns, and `record` then has only what they left.
  const unprepare = o.compiler.onCompiled((next) => o.receipts.recordAhead(next, o.tenantResource));
  const unfollow = followPolicyBoundaries(o);
  return () => {
    unsubscribe();
    unprepare();
    unfollow();
  };
}

/**
 * Refreshes the compiler at each validity boundary of its snapshot (`expiresAt`), re-armed by every new
 * snapshot and after each firing (a timer that fired early, or a boundary past setTimeout's range, waits again).
 */
export function followPolicyBoundaries(o: Pick<PolicyRecordingOptions, 'compiler' | 'clock' | 'schedule' | 'onError'>): () => void {
  const schedule = o.schedule ?? scheduleTimeout;
  let cancel = (): void => undefined;
  const arm = (snapshot: PolicySnapshot): void => {
    cancel();
    cancel = () => undefined;
    if (snapshot.expiresAt !== undefined) cancel = schedule(fire, snapshot.expiresAt - o.clock.now());
  };
  const fire = (): void => {
    // A change being applied in slices makes a snapshot at its end, which re-arms the timer.
    if (o.compiler.applying) return;
    const before = o.compiler.snapshot;
    try {
      o.compiler.refresh(o.clock.now());
    } catch (e) {
      o.onError(e);
    }
    // A new snapshot re-armed the timer already; an unchanged one (fired early) waits again.
    if (o.compiler.snapshot === before) arm(before);
  };
  const unsubscribe = o.compiler.onSnapshot(arm);
  arm(o.compiler.snapshot);
  return () => {
    unsubscribe();
    cancel();
  };
}
