import { isRecord } from '../crds/index.ts';
import type { CompiledTenant, Trace } from './types.ts';

/** A value with the sentence that says where it came from. */
export interface Explained {
  value: unknown;
  explain: string;
  trace: Trace;
}

export interface TenantExplanation {
  tenant: string;
  sku: string;
  suspended: boolean;
  digest: string;
  features: Record<string, Explained>;
  quotas: Record<string, Explained & { policy: { kind: string; window: string; reset: string; enforcement: string; alertAt: readonly number[] } }>;
  rates: Record<string, Explained & { burst: number }>;
  resources: Record<string, Explained>;
}

/**
 * Renders provenance as sentences such as
 * `limit 7000000 = SKU/growth 1000000, Tenant/acme overrides 2000000, Quota/acme-black-friday +5000000`.
 */
export function explainTenant(t: CompiledTenant): TenantExplanation {
  const map = <T, R>(o: Readonly<Record<string, T>>, f: (k: string, v: T) => R): Record<string, R> =>
    Object.fromEntries(Object.entries(o).map(([k, v]) => [k, f(k, v)]));
  return {
    tenant: t.name,
    sku: t.sku,
    suspended: t.suspended,
    digest: t.digest,
    features: map(t.features, (k, f) => ({ value: f.value, trace: f.trace, explain: sentence(k, f.value, f.trace) })),
    quotas: map(t.quotas, (k, q) => ({
      value: q.limit,
      trace: q.trace,
      explain: sentence(`${k} limit`, q.limit, q.trace, 'limit'),
      policy: { kind: q.kind, window: q.window, reset: q.reset, enforcement: q.enforcement, alertAt: q.alertAt },
    })),
    rates: map(t.rates, (k, r) => ({ value: r.perSecond, burst: r.burst, trace: r.trace, explain: sentence(`${k} perSecond`, r.perSecond, r.trace, 'perSecond') })),
    resources: map(t.resources, (k, r) => ({ value: r.quantity, trace: r.trace, explain: sentence(k, r.quantity, r.trace) })),
  };
}

/** `name value = source v, source +v, …`; `field` picks one field out of object-valued steps. */
export function sentence(name: string, value: unknown, trace: Trace, field?: string): string {
  const parts = trace.flatMap((s) => {
    const v = field && isRecord(s.value) ? s.value[field] : field ? undefined : s.value;
    if (v === undefined && s.op !== 'unset') return [];
    const shown = s.op === 'add' ? `+${String(v)}` : s.op === 'or' ? `OR ${String(v)}` : String(v);
    return [`${s.source} ${shown}`];
  });
  return `${name} ${String(value)} = ${parts.join(', ')}`;
}
