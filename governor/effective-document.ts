import type { CompiledTenant } from './types.ts';

/**
 * A tenant's effective entitlements as plain JSON, without provenance: what reconcile receipts diff. It holds no
 * nulls, because an RFC 7396 merge patch cannot express a null value (null means "remove").
 */
export interface EffectiveDocument {
  sku: string;
  suspended: boolean;
  billingAnchor?: string;
  features: Record<string, unknown>;
  quotas: Record<string, { limit: number; kind: string; window: string; reset: string; enforcement: string; alertAt: readonly number[] }>;
  rates: Record<string, { perSecond: number; burst: number }>;
  resources: Record<string, string>;
}

export function effectiveDocument(t: CompiledTenant): EffectiveDocument {
  const map = <T, R>(o: Readonly<Record<string, T>>, f: (v: T) => R): Record<string, R> => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, f(v)]));
  return {
    sku: t.sku,
    suspended: t.suspended,
    ...(t.billingAnchor === undefined ? {} : { billingAnchor: new Date(t.billingAnchor).toISOString() }),
    features: map(t.features, (f) => f.value),
    quotas: map(t.quotas, ({ trace: _t, ...q }) => q),
    rates: map(t.rates, (r) => ({ perSecond: r.perSecond, burst: r.burst })),
    resources: map(t.resources, (r) => r.quantity),
  };
}
