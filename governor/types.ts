import type { Enforcement, FeatureValue, QuotaKind, ResetMode, WindowUnit } from '../crds/index.ts';

/** One step in how an effective value was reached, e.g. {source: 'SKU/growth', op: 'set', value: 1000000}. */
export interface ProvenanceStep {
  /** The resource that contributed: `SKU/growth`, `Tenant/acme overrides`, `Quota/acme-black-friday`. */
  source: string;
  /** set: replaced the value; add: added to it; or: boolean OR; unset: removed it. */
  op: 'set' | 'add' | 'or' | 'unset';
  value: unknown;
}
export type Trace = readonly ProvenanceStep[];

export interface TracedFeature {
  value: FeatureValue;
  trace: Trace;
}

/** A metered limit after every layer has been applied. Compiled objects are shared between tenants when equal. */
export interface CompiledQuota {
  limit: number;
  kind: QuotaKind;
  window: WindowUnit;
  reset: ResetMode;
  enforcement: Enforcement;
  /** Ascending, de-duplicated percentages. */
  alertAt: readonly number[];
  trace: Trace;
}

export interface CompiledRate {
  perSecond: number;
  burst: number;
  trace: Trace;
}

export interface CompiledResourceCap {
  /** Base units: objects, cores or bytes. */
  value: number;
  /** As written, e.g. "256Gi". */
  quantity: string;
  trace: Trace;
}

/** A tenant's effective entitlements: what every decision reads. Immutable once compiled. */
export interface CompiledTenant {
  name: string;
  generation: number;
  sku: string;
  suspended: boolean;
  /** Milliseconds since the epoch; undefined when the tenant has no billing anchor. */
  billingAnchor: number | undefined;
  labels: Readonly<Record<string, string>>;
  features: Readonly<Record<string, TracedFeature>>;
  quotas: Readonly<Record<string, CompiledQuota>>;
  rates: Readonly<Record<string, CompiledRate>>;
  resources: Readonly<Record<string, CompiledResourceCap>>;
  /** Hex SHA-256 of the effective entitlements; receipts name the policy that decided by it. */
  digest: string;
}
