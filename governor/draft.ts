import {
  MAX_LIMIT,
  QUOTA_DEFAULTS,
  parseQuantity,
  type EntitlementsDocument,
  type FeatureValue,
  type QuotaSpec,
  type RateSpec,
  type SkuSpec,
} from '../crds/index.ts';
import type { CompiledQuota, CompiledRate, CompiledResourceCap, ProvenanceStep, Trace, TracedFeature } from './types.ts';

/**
 * Entitlements while layers are being applied: every entry keeps the spec as merged so far and its trace.
 * Drafts are copy-on-write: a layer copies the maps it changes and never mutates an entry in place,
 * so a resolved SKU's draft can be shared by every tenant on it.
 */
export interface Draft {
  features: Map<string, TracedFeature>;
  quotas: Map<string, { spec: QuotaSpec; trace: Trace }>;
  rates: Map<string, { spec: RateSpec; trace: Trace }>;
  resources: Map<string, { quantity: string | number; value: number; trace: Trace }>;
}

export function emptyDraft(): Draft {
  return { features: new Map(), quotas: new Map(), rates: new Map(), resources: new Map() };
}

export function copyDraft(d: Draft): Draft {
  return { features: new Map(d.features), quotas: new Map(d.quotas), rates: new Map(d.rates), resources: new Map(d.resources) };
}

const step = (source: string, op: ProvenanceStep['op'], value: unknown): ProvenanceStep => ({ source, op, value });

/** Sums never pass 2^53-1: past it JSON and YAML round-trips lose precision (a limit that high is "unlimited" anyway). */
const clamp = (n: number): number => (Number.isFinite(n) ? Math.min(n, MAX_LIMIT) : MAX_LIMIT);

const appendStep = (prev: { trace: Trace } | undefined, s: ProvenanceStep): Trace => (prev ? [...prev.trace, s] : [s]);

function eachEntry<T>(o: Readonly<Record<string, T>> | undefined, f: (key: string, value: T) => void): void {
  if (o) for (const [k, v] of Object.entries(o)) f(k, v);
}

/** Merges one SKU's own spec over its parent's draft: entries replace, quota and rate fields merge. */
export function applySkuLayer(parent: Draft, spec: SkuSpec, source: string): Draft {
  const d = copyDraft(parent);
  const set = (v: unknown): ProvenanceStep => step(source, 'set', v);
  eachEntry(spec.features, (k, v) => d.features.set(k, { value: v, trace: appendStep(d.features.get(k), set(v)) }));
  eachEntry(spec.quotas, (k, v) => {
    const prev = d.quotas.get(k);
    d.quotas.set(k, { spec: { ...prev?.spec, ...v }, trace: appendStep(prev, set(v)) });
  });
  eachEntry(spec.rates, (k, v) => {
    const prev = d.rates.get(k);
    d.rates.set(k, { spec: { ...prev?.spec, ...v }, trace: appendStep(prev, set(v)) });
  });
  eachEntry(spec.resources, (k, v) => d.resources.set(k, { quantity: v, value: parseQuantity(v) ?? 0, trace: appendStep(d.resources.get(k), set(v)) }));
  return d;
}

/** Stacks an add-on: numbers add (× quantity), booleans OR, strings and new entries are set. */
export function applyAddOn(base: Draft, addOn: Draft, opts: { quantity: number; source: string }): Draft {
  const d = copyDraft(base);
  const { quantity: n, source } = opts;
  for (const [k, f] of addOn.features) d.features.set(k, stackFeature(d.features.get(k), f.value, { n, source }));
  for (const [k, q] of addOn.quotas) d.quotas.set(k, stackQuota(d.quotas.get(k), q.spec, { n, source }));
  for (const [k, r] of addOn.rates) d.rates.set(k, stackRate(d.rates.get(k), r.spec, { n, source }));
  for (const [k, r] of addOn.resources) {
    const prev = d.resources.get(k);
    const add = clamp(r.value * n);
    const value = clamp((prev?.value ?? 0) + add);
    d.resources.set(k, { quantity: formatQuantity(value), value, trace: appendStep(prev, step(source, prev ? 'add' : 'set', add)) });
  }
  return d;
}

type Stack = { n: number; source: string };

function stackQuota(prev: { spec: QuotaSpec; trace: Trace } | undefined, spec: QuotaSpec, o: Stack): { spec: QuotaSpec; trace: Trace } {
  const add = clamp(spec.limit * o.n);
  if (!prev) return { spec: { ...spec, limit: add }, trace: [step(o.source, 'set', { ...spec, limit: add })] };
  return { spec: { ...prev.spec, limit: clamp(prev.spec.limit + add) }, trace: appendStep(prev, step(o.source, 'add', { limit: add })) };
}

function stackRate(prev: { spec: RateSpec; trace: Trace } | undefined, spec: RateSpec, o: Stack): { spec: RateSpec; trace: Trace } {
  const add = { perSecond: clamp(spec.perSecond * o.n), burst: clamp((spec.burst ?? spec.perSecond) * o.n) };
  if (!prev) return { spec: add, trace: [step(o.source, 'set', add)] };
  const burst = clamp((prev.spec.burst ?? prev.spec.perSecond) + add.burst);
  return { spec: { perSecond: clamp(prev.spec.perSecond + add.perSecond), burst }, trace: appendStep(prev, step(o.source, 'add', add)) };
}

function stackFeature(prev: TracedFeature | undefined, value: FeatureValue, o: Stack): TracedFeature {
  const both = (type: string): boolean => typeof prev?.value === type && typeof value === type;
  if (both('number')) return { value: clamp((prev!.value as number) + (value as number) * o.n), trace: appendStep(prev, step(o.source, 'add', clamp((value as number) * o.n))) };
  if (both('boolean')) return { value: (prev!.value as boolean) || (value as boolean), trace: appendStep(prev, step(o.source, 'or', value)) };
  const v = typeof value === 'number' ? clamp(value * o.n) : value;
  return { value: v, trace: appendStep(prev, step(o.source, 'set', v)) };
}

function formatQuantity(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(3).replace(/\.?0+$/, '');
}

/** The plain document a merge patch applies to (no traces, no defaults). */
export function draftToDocument(d: Draft): EntitlementsDocument {
  return {
    features: Object.fromEntries([...d.features].map(([k, v]) => [k, v.value])),
    quotas: Object.fromEntries([...d.quotas].map(([k, v]) => [k, v.spec])),
    rates: Object.fromEntries([...d.rates].map(([k, v]) => [k, v.spec])),
    resources: Object.fromEntries([...d.resources].map(([k, v]) => [k, v.quantity])),
  };
}

/** Final form with compiler defaults filled in. */
export interface FinalEntitlements {
  features: Record<string, TracedFeature>;
  quotas: Record<string, CompiledQuota>;
  rates: Record<string, CompiledRate>;
  resources: Record<string, CompiledResourceCap>;
}

export function finalizeDraft(d: Draft): FinalEntitlements {
  return {
    features: Object.fromEntries(d.features),
    quotas: Object.fromEntries([...d.quotas].map(([k, q]) => [k, compileQuota(q.spec, q.trace)])),
    rates: Object.fromEntries(
      [...d.rates].map(([k, r]) => [k, { perSecond: r.spec.perSecond, burst: r.spec.burst ?? r.spec.perSecond, trace: r.trace }]),
    ),
    resources: Object.fromEntries(
      [...d.resources].map(([k, r]) => [k, { value: r.value, quantity: String(r.quantity), trace: r.trace }]),
    ),
  };
}

function compileQuota(spec: QuotaSpec, trace: Trace): CompiledQuota {
  const kind = spec.kind ?? QUOTA_DEFAULTS.kind;
  return {
    limit: spec.limit,
    kind,
    window: kind === 'gauge' ? 'none' : (spec.window ?? QUOTA_DEFAULTS.window),
    reset: spec.reset ?? QUOTA_DEFAULTS.reset,
    enforcement: spec.enforcement ?? QUOTA_DEFAULTS.enforcement,
    alertAt: [...new Set(spec.alertAt ?? QUOTA_DEFAULTS.alertAt)].sort((a, b) => a - b),
    trace,
  };
}
