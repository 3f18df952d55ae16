import mergePatch from 'json-merge-patch';
import { entitlementsDocument, FORBIDDEN_KEYS, isRecord, parseQuantity, type EntitlementsDocument, type QuotaGrantSpec } from '../crds/index.ts';
import { draftToDocument, type Draft } from './draft.ts';
import type { ProvenanceStep, Trace } from './types.ts';

/** A compile problem on one resource: becomes its Ready=False condition. */
export interface CompileIssue {
  reason: string;
  /** Field path in the resource, e.g. `spec.overrides.quotas.api-calls.limit`. */
  path: string;
  message: string;
}

/** Finds a __proto__/constructor/prototype key anywhere in a patch; returns its path. */
export function forbiddenKeyPath(value: unknown, path: string[] = []): string[] | undefined {
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) {
      const found = forbiddenKeyPath(v, [...path, String(i)]);
      if (found) return found;
    }
    return undefined;
  }
  if (!isRecord(value)) return undefined;
  for (const key of Object.keys(value)) {
    if (FORBIDDEN_KEYS.has(key)) return [...path, key];
    const found = forbiddenKeyPath(value[key], [...path, key]);
    if (found) return found;
  }
  return undefined;
}

/**
 * Applies a Tenant's overrides (RFC 7396) over the draft and re-validates the result. Entries the patch
 * leaves equal keep their trace; changed ones gain a step from `source`.
 */
export function applyOverrides(d: Draft, patch: Record<string, unknown>, source: string): Draft | CompileIssue {
  const bad = forbiddenKeyPath(patch);
  if (bad) return { reason: 'InvalidOverrides', path: ['spec', 'overrides', ...bad].join('.'), message: `key "${bad.at(-1)}" is not allowed: it names a JavaScript prototype property` };
  const before = draftToDocument(d);
  const patched = mergePatch.apply(structuredClone(before), structuredClone(patch));
  const parsed = entitlementsDocument.safeParse(patched);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { reason: 'InvalidOverrides', path: ['spec', 'overrides', ...(issue?.path.map(String) ?? [])].join('.'), message: `the patched entitlements are invalid: ${issue?.message ?? 'unknown problem'}` };
  }
  return rebuild(d, { patch, after: parsed.data, source });
}

type Section = 'features' | 'quotas' | 'rates' | 'resources';

/** Every entry the patch names gains a step (even when the value is unchanged: the override is still why). */
function rebuild(d: Draft, c: { patch: Record<string, unknown>; after: EntitlementsDocument; source: string }): Draft {
  const traceOf = (section: Section, key: string, old: Trace | undefined): Trace => {
    const touched = c.patch[section];
    if (old && !(isRecord(touched) && Object.hasOwn(touched, key))) return old;
    return [...(old ?? []), { source: c.source, op: 'set', value: isRecord(touched) ? touched[key] : undefined } satisfies ProvenanceStep];
  };
  const entries = <T>(o: Record<string, T> | undefined): [string, T][] => Object.entries(o ?? {});
  return {
    features: new Map(entries(c.after.features).map(([k, v]) => [k, { value: v, trace: traceOf('features', k, d.features.get(k)?.trace) }])),
    quotas: new Map(entries(c.after.quotas).map(([k, v]) => [k, { spec: v, trace: traceOf('quotas', k, d.quotas.get(k)?.trace) }])),
    rates: new Map(entries(c.after.rates).map(([k, v]) => [k, { spec: v, trace: traceOf('rates', k, d.rates.get(k)?.trace) }])),
    resources: new Map(
      entries(c.after.resources).map(([k, v]) => [k, { quantity: v, value: parseQuantity(v) ?? 0, trace: traceOf('resources', k, d.resources.get(k)?.trace) }]),
    ),
  };
}

/** Applies one active Quota grant: replace sets the limit, add adds to it. The metric must exist. */
export function applyGrant(d: Draft, grant: { name: string; spec: QuotaGrantSpec }): Draft | CompileIssue {
  const entry = d.quotas.get(grant.spec.metric);
  if (!entry) {
    return { reason: 'UnknownMetric', path: 'spec.metric', message: `metric "${grant.spec.metric}" is not among the tenant's quotas (${[...d.quotas.keys()].join(', ') || 'none'})` };
  }
  const replace = grant.spec.mode === 'replace';
  const limit = replace ? grant.spec.limit : Math.min(entry.spec.limit + grant.spec.limit, Number.MAX_SAFE_INTEGER);
  const quotas = new Map(d.quotas);
  quotas.set(grant.spec.metric, {
    spec: { ...entry.spec, limit },
    trace: [...entry.trace, { source: `Quota/${grant.name}`, op: replace ? 'set' : 'add', value: { limit: grant.spec.limit } }],
  });
  return { ...d, quotas };
}

export function isIssue(v: unknown): v is CompileIssue {
  return isRecord(v) && typeof v.reason === 'string' && typeof v.message === 'string';
}
