// Logs for the ledger's tests: a gauge that crosses 100 %, falls back and crosses again; peeks; unknown names.
import { ReceiptChain, decisionBody, reconcileBody, thresholdBody, type ChainedEntry, type ReceiptBody, type ReceiptKind } from '../receipts/index.ts';

export const T0 = Date.UTC(2027, 0, 15, 8, 0, 0) * 1000;

/** Entries chained in order, one second apart from T0. */
export function chained(items: readonly { kind: ReceiptKind; body: ReceiptBody }[]): ChainedEntry[] {
  const chain = new ReceiptChain();
  return items.map((it, i) => chain.append(it.kind, it.body, T0 + i * 1_000_000));
}

const seats = (c: { amount: number; used: number; threshold?: number; rearmed?: number }): { kind: ReceiptKind; body: ReceiptBody } => ({
  kind: 'decision',
  body: decisionBody({ tenant: 'acme', op: 'consume', subject: 'seats', amount: c.amount, allowed: true, reason: 'Allowed', used: c.used, limit: 10, windowStart: null, resetsAt: null, threshold: c.threshold, rearmed: c.rearmed }),
});
const crossed = (used: number): { kind: ReceiptKind; body: ReceiptBody } => ({ kind: 'threshold', body: thresholdBody({ tenant: 'acme', metric: 'seats', threshold: 100, percent: used * 10, used, limit: 10, windowStart: null }) });

/**
 * acme's seats gauge (limit 10, alert at 100 %): filled (entries 0-1: crossing), 5 released (2: re-armed, none
 * still fired), filled again (3-4: crossing); a peek at the full gauge (5); a decision about an unknown name
 * (6); a policy change (7); a denied consume (8).
 */
export function gaugeLog(): ChainedEntry[] {
  return chained(gaugeItems());
}

/** The receipts of {@link gaugeLog}, to append to a log of one's own. */
export function gaugeItems(): { kind: ReceiptKind; body: ReceiptBody }[] {
  return [
    seats({ amount: 10, used: 10, threshold: 100 }),
    crossed(10),
    seats({ amount: -5, used: 5, rearmed: 0 }),
    seats({ amount: 5, used: 10, threshold: 100 }),
    crossed(10),
    { kind: 'decision', body: decisionBody({ tenant: 'acme', op: 'consume', subject: 'seats', amount: 0, allowed: false, reason: 'QuotaExceeded', used: 10, limit: 10, windowStart: null, resetsAt: null }) },
    { kind: 'decision', body: decisionBody({ tenant: 'nobody', op: 'check', subject: 'sso', allowed: false, reason: 'UnknownTenant' }) },
    { kind: 'reconcile', body: reconcileBody({ resource: 'Tenant/acme', generation: 2, specDigest: '00'.repeat(32), patch: { quotas: { seats: { limit: 12 } } } }) },
    { kind: 'decision', body: decisionBody({ tenant: 'acme', op: 'consume', subject: 'seats', amount: 3, allowed: false, reason: 'QuotaExceeded', used: 10, limit: 10, windowStart: null, resetsAt: null }) },
  ];
}
