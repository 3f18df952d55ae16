import { quotaWindow, rfc3339, type CompiledQuota, type CompiledTenant, type UsageStore } from '../governor/index.ts';
import type { ConditionState } from './conditions.ts';

/** One row of `status.usage`. */
export interface UsageRow {
  metric: string;
  used: number;
  limit: number;
  percent: number;
  resetsAt?: string;
}

/** The usage part of a Tenant's status: rows, the highest percent, and the two conditions they imply. */
export interface UsageStatus {
  usage: UsageRow[];
  usagePercent: number;
  conditions: [ConditionState, ConditionState];
}

/** Reads a tenant's usage in each quota's current window, as the governor would count it now. Pure. */
export function usageStatus(tenant: CompiledTenant, usage: UsageStore, now: number): UsageStatus {
  const metrics = Object.keys(tenant.quotas).sort();
  const rows = metrics.map((metric) => usageRow(tenant, metric, { usage, now }));
  const exhausted = rows.filter((r) => isExhausted(r, tenant.quotas[r.metric]!)).map((r) => `${r.metric} ${r.used}/${r.limit}`);
  const warned = rows.filter((r) => !isExhausted(r, tenant.quotas[r.metric]!) && isWarned(r, tenant.quotas[r.metric]!)).map((r) => `${r.metric} ${r.percent}%`);
  return {
    usage: rows,
    usagePercent: Math.max(0, ...rows.map((r) => r.percent)),
    conditions: [
      exhausted.length > 0
        ? { type: 'QuotaExhausted', status: 'True', reason: 'HardLimitReached', message: `denying further use: ${exhausted.join(', ')}` }
        : { type: 'QuotaExhausted', status: 'False', reason: 'WithinLimits', message: 'every hard quota has room' },
      warned.length > 0
        ? { type: 'QuotaWarning', status: 'True', reason: 'ThresholdCrossed', message: `past an alert threshold: ${warned.join(', ')}` }
        : { type: 'QuotaWarning', status: 'False', reason: 'BelowThresholds', message: 'no quota past its first alert threshold' },
    ],
  };
}

function usageRow(tenant: CompiledTenant, metric: string, at: { usage: UsageStore; now: number }): UsageRow {
  const q = tenant.quotas[metric]!;
  // Gauges are a current allocation: no window (as the governor counts them).
  const window = q.kind === 'gauge' ? undefined : quotaWindow({ now: at.now, unit: q.window, reset: q.reset, anchor: tenant.billingAnchor });
  const { used } = at.usage.read({ tenant: tenant.name, metric }, window?.start ?? null);
  const row: UsageRow = { metric, used, limit: q.limit, percent: percentOf(used, q.limit) };
  if (window) row.resetsAt = rfc3339(window.end); // as decisions state it
  return row;
}

function percentOf(used: number, limit: number): number {
  if (limit > 0) return Math.floor((used * 100) / limit);
  return used > 0 ? 100 : 0;
}

const isExhausted = (r: UsageRow, q: CompiledQuota): boolean => q.enforcement === 'hard' && r.used >= r.limit;
const isWarned = (r: UsageRow, q: CompiledQuota): boolean => q.alertAt.length > 0 && r.percent >= q.alertAt[0]!;
