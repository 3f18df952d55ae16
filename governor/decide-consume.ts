import type { CompiledQuota, CompiledTenant } from './types.ts';
import type { ConsumeDecision, ConsumeReason, ConsumeRequest, ThresholdCrossing } from './decide-types.ts';
import type { ReserveRequest, ReserveResult, UsageKey, UsageStore, WindowStart } from './usage.ts';
import { DecisionInputError, assertIdempotencyKey, assertSafeInteger } from './decision-input-error.ts';
import { own } from './own.ts';
import { percentUsed, thresholdCrossing } from './thresholds.ts';
import { WindowCache } from './window-cache.ts';

export interface ConsumeContext {
  now: number;
  usage: UsageStore;
  /** The windows already placed (the Governor keeps one); without it each call places its window afresh. */
  windows?: WindowCache;
}

/** One quota of one tenant, placed in the window that contains `now`. */
export interface Meter {
  quota: CompiledQuota;
  /** The tenant is suspended: the decision reads usage and denies. */
  suspended: boolean;
  key: UsageKey;
  windowStart: WindowStart;
  resetsAt: string | null;
  policy: string;
}

/** What a decision found, before it is shaped into a ConsumeDecision. */
export interface Outcome {
  allowed: boolean;
  reason: ConsumeReason;
  used: number;
  crossing?: ThresholdCrossing | undefined;
  rearmed?: number | undefined;
}

/**
 * Throws DecisionInputError unless the request is well formed for this tenant: amount a safe integer, not
 * negative for a counter (only gauges release), idempotency key 1-256 characters. Batches call it for every
 * item before deciding any, so a bad item changes nothing.
 */
export function assertConsumeRequest(tenant: CompiledTenant | undefined, request: ConsumeRequest): void {
  const { amount, metric } = request;
  assertSafeInteger('amount', amount);
  assertIdempotencyKey(request.idempotencyKey);
  const quota = tenant === undefined ? undefined : own(tenant.quotas, metric);
  if (quota?.kind === 'counter' && amount < 0) {
    throw new DecisionInputError(
      'amount',
      `must be 0 or more for counter metric "${metric}" (only gauges take negative amounts, to release), got ${amount}`,
    );
  }
}

/**
 * May the tenant consume `amount` units of `metric`? Counts them if so (design §3).
 *
 * - amount 0 peeks: counts nothing, fires nothing; allowed = used < limit under hard enforcement, always
 *   under soft and observe (soft answers AllowedOverage once used ≥ limit: the next unit would be overage).
 * - hard: denied (QuotaExceeded) when used + amount > limit; a denied call counts nothing.
 * - soft: allowed and counted; AllowedOverage when usage ends past the limit. observe: allowed and counted.
 * - gauges take negative amounts (release), always allowed, flooring usage at 0.
 * - the limit is read from the policy on every call, so raising it mid-window applies at once.
 * - a threshold crossing, if any, is returned in `crossing` and recorded in the usage store.
 *
 * Idempotency keys are not handled here but by the Governor, which remembers decisions.
 */
export function decideConsume(
  tenant: CompiledTenant | undefined,
  request: ConsumeRequest,
  context: ConsumeContext,
): ConsumeDecision {
  const plan = planConsume(tenant, request, context);
  if (plan.meter === undefined) return plan.decision;
  const { meter } = plan;
  const { usage } = context;
  if (readsOnly(meter, request.amount)) return consumeDecision(request, meter, readOutcome(meter, usage.read(meter.key, meter.windowStart).used));
  const reserved = usage.reserve(reserveRequest(meter, request.amount));
  if (reserved.reservation !== undefined) usage.commit(reserved.reservation);
  const { outcome, mark } = reservedOutcome(meter, reserved);
  if (mark !== undefined) usage.setFired(meter.key, meter.windowStart, mark.next);
  return consumeDecision(request, meter, outcome);
}

// The steps of a consume, shared by the in-process decision above and the one on shared counters
// (shared-governor.ts): the rules live here once, only where usage is read and counted differs.

/** A decision made without usage (unknown tenant or metric), or the meter a decision counts on. */
export type ConsumePlan = { decision: ConsumeDecision; meter?: undefined } | { meter: Meter; decision?: undefined };

/** Validates the request (DecisionInputError) and places it: the decision when no usage is involved, else its meter. */
export function planConsume(tenant: CompiledTenant | undefined, request: ConsumeRequest, context: Pick<ConsumeContext, 'now' | 'windows'>): ConsumePlan {
  assertConsumeRequest(tenant, request);
  if (tenant === undefined) return { decision: unmetered(request, undefined, 'UnknownTenant') };
  const quota = own(tenant.quotas, request.metric);
  if (quota === undefined) return { decision: unmetered(request, tenant, tenant.suspended ? 'TenantSuspended' : 'UnknownMetric') };
  return { meter: meterOf(tenant, quota, request, context) };
}

/** Whether the decision only reads usage: a suspended tenant, or a peek (amount 0). */
export function readsOnly(meter: Meter, amount: number): boolean {
  return meter.suspended || amount === 0;
}

/** The outcome of a decision that only reads usage (`readsOnly`), from the usage read. */
export function readOutcome(meter: Meter, used: number): Outcome {
  return meter.suspended ? { allowed: false, reason: 'TenantSuspended', used } : peek(meter, used);
}

/** What a consume that counts asks of the usage store: a hard quota's limit is the cap. */
export function reserveRequest(meter: Meter, amount: number): ReserveRequest {
  const { quota, key, windowStart } = meter;
  return { key, windowStart, amount, cap: quota.enforcement === 'hard' ? quota.limit : undefined };
}

/**
 * The outcome of a reserve, and the window's fired mark to move when it changed (`mark`): the crossing, if any,
 * is announced by whoever moves the mark from `expected` to `next`.
 */
export function reservedOutcome(meter: Meter, reserved: ReserveResult): { outcome: Outcome; mark: { expected: number; next: number } | undefined } {
  if (reserved.reservation === undefined) return { outcome: { allowed: false, reason: 'QuotaExceeded', used: reserved.used }, mark: undefined };
  const { quota } = meter;
  const used = reserved.used;
  const before = used - reserved.reservation.applied;
  const { crossing, rearmed, fired } = announce(meter, { before, after: used, fired: reserved.fired });
  const reason = quota.enforcement === 'soft' && used > quota.limit ? 'AllowedOverage' : 'Allowed';
  return { outcome: { allowed: true, reason, used, crossing, rearmed }, mark: fired === reserved.fired ? undefined : { expected: reserved.fired, next: fired } };
}

/** The outcome when another replica moved the fired mark first: the crossing (or re-arming) is its to announce. */
export function unannounced(outcome: Outcome): Outcome {
  return { allowed: outcome.allowed, reason: outcome.reason, used: outcome.used };
}

function meterOf(tenant: CompiledTenant, quota: CompiledQuota, request: ConsumeRequest, context: Pick<ConsumeContext, 'now' | 'windows'>): Meter {
  const windows = context.windows ?? new WindowCache();
  // Gauges are a current allocation: they have no window, whatever `window` says.
  const window = quota.kind === 'gauge' ? undefined : windows.at({ now: context.now, unit: quota.window, reset: quota.reset, anchor: tenant.billingAnchor });
  return {
    quota,
    suspended: tenant.suspended,
    key: { tenant: tenant.name, metric: request.metric },
    windowStart: window === undefined ? null : window.start,
    resetsAt: window === undefined ? null : window.resetsAt,
    policy: tenant.digest,
  };
}

function peek(meter: Meter, used: number): Outcome {
  const { enforcement, limit } = meter.quota;
  if (enforcement === 'hard') return used < limit ? { allowed: true, reason: 'Allowed', used } : { allowed: false, reason: 'QuotaExceeded', used };
  return { allowed: true, reason: enforcement === 'soft' && used >= limit ? 'AllowedOverage' : 'Allowed', used };
}

/**
 * Works out the threshold crossed and the new fired mark, and describes the crossing — or, when a gauge fell
 * back far enough to re-arm thresholds and none fired, the lowered mark (`rearmed`), so replay can restore it.
 */
function announce(meter: Meter, change: { before: number; after: number; fired: number }): Pick<Outcome, 'crossing' | 'rearmed'> & { fired: number } {
  const { quota } = meter;
  const outcome = thresholdCrossing({
    alertAt: quota.alertAt,
    limit: quota.limit,
    ...change,
    rearm: quota.kind === 'gauge' ? 'hysteresis' : 'window',
  });
  const { fired } = outcome;
  if (outcome.fire === undefined) return outcome.fired < change.fired ? { rearmed: outcome.fired, fired } : { fired };
  const used = change.after;
  return { crossing: { threshold: outcome.fire, percent: percentUsed(used, quota.limit), used, limit: quota.limit, windowStart: meter.windowStart }, fired };
}

/** The decision, shaped from its meter and outcome. */
export function consumeDecision(request: ConsumeRequest, meter: Meter, outcome: Outcome): ConsumeDecision {
  const { limit } = meter.quota;
  const result: ConsumeDecision = {
    op: 'consume',
    tenant: request.tenant,
    metric: request.metric,
    amount: request.amount,
    allowed: outcome.allowed,
    reason: outcome.reason,
    used: outcome.used,
    limit,
    remaining: Math.max(0, limit - outcome.used),
    resetsAt: meter.resetsAt,
    windowStart: meter.windowStart,
    policy: meter.policy,
  };
  if (outcome.crossing !== undefined) result.crossing = outcome.crossing;
  if (outcome.rearmed !== undefined) result.rearmed = outcome.rearmed;
  return result;
}

/** A denial without a quota to report on: unknown tenant or metric (or suspended with an unknown metric). */
function unmetered(request: ConsumeRequest, tenant: CompiledTenant | undefined, reason: ConsumeReason): ConsumeDecision {
  const result: ConsumeDecision = {
    op: 'consume',
    tenant: request.tenant,
    metric: request.metric,
    amount: request.amount,
    allowed: false,
    reason,
    used: 0,
    limit: 0,
    remaining: 0,
    resetsAt: null,
    windowStart: null,
  };
  if (tenant !== undefined) result.policy = tenant.digest;
  return result;
}
