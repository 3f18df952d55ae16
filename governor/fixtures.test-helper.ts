// Hand-built compiled entitlements for the governor's tests (not a test file itself).
import type { CompiledQuota, CompiledRate, CompiledTenant } from './types.ts';
import type { Clock, PolicySource } from './governor.ts';

export const T0 = Date.parse('2026-11-15T12:00:00Z');

export function quota(fields: Partial<CompiledQuota> = {}): CompiledQuota {
  return {
    limit: 100,
    kind: 'counter',
    window: 'month',
    reset: 'calendar',
    enforcement: 'hard',
    alertAt: [70, 90, 100],
    trace: [{ source: 'SKU/test', op: 'set', value: fields.limit ?? 100 }],
    ...fields,
  };
}

export function rate(fields: Partial<CompiledRate> = {}): CompiledRate {
  return { perSecond: 10, burst: 20, trace: [{ source: 'SKU/test', op: 'set', value: 10 }], ...fields };
}

export function tenant(fields: Partial<CompiledTenant> = {}): CompiledTenant {
  return {
    name: 'acme',
    generation: 1,
    sku: 'growth',
    suspended: false,
    billingAnchor: undefined,
    labels: {},
    features: {
      sso: { value: true, trace: [] },
      audit: { value: false, trace: [] },
      'max-projects': { value: 0, trace: [] },
      support: { value: '', trace: [] },
    },
    quotas: { 'api-calls': quota() },
    rates: { requests: rate() },
    resources: {},
    digest: 'd1gest-acme',
    ...fields,
  };
}

/** A clock the test moves by hand. */
export class ManualClock implements Clock {
  ms: number;
  constructor(ms = T0) {
    this.ms = ms;
  }
  now(): number {
    return this.ms;
  }
  advance(ms: number): void {
    this.ms += ms;
  }
}

/** A policy source whose tenants the test replaces between calls, as a snapshot swap would. */
export class MutablePolicy implements PolicySource {
  readonly tenants = new Map<string, CompiledTenant>();
  constructor(...tenants: CompiledTenant[]) {
    for (const t of tenants) this.set(t);
  }
  set(t: CompiledTenant): void {
    this.tenants.set(t.name, t);
  }
  /** Replaces one quota of a tenant (a new compiled object, like a recompile). */
  setQuota(name: string, metric: string, q: CompiledQuota): void {
    const t = this.tenants.get(name);
    if (t === undefined) throw new Error(`no tenant ${name}`);
    this.set({ ...t, quotas: { ...t.quotas, [metric]: q }, digest: `${t.digest}+` });
  }
  tenant(name: string): CompiledTenant | undefined {
    return this.tenants.get(name);
  }
}
