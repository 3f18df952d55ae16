import { createHash } from 'node:crypto';
import type { Quota, Tenant } from '../crds/index.ts';
import { applyAddOn, finalizeDraft, type Draft, type FinalEntitlements } from './draft.ts';
import { applyGrant, applyOverrides, isIssue, type CompileIssue } from './layers.ts';
import type { SkuResolution } from './resolve-sku.ts';
import type { CompiledTenant } from './types.ts';

export interface TenantInputs {
  tenant: Tenant;
  /** Resolves an SKU by name (memoised by the caller). */
  sku: (name: string) => SkuResolution;
  /** Quota grants that select this tenant and are active now, in any order. */
  grants: readonly Quota[];
}

export interface TenantCompilation {
  /** Undefined when the tenant itself is broken. */
  compiled: CompiledTenant | undefined;
  issue: CompileIssue | undefined;
  /** SKUs the result depends on (chains of the plan and of every add-on), for incremental recompiles. */
  skus: readonly string[];
  /** Per grant: undefined when applied, or why it could not be. */
  grantIssues: ReadonlyMap<string, CompileIssue | undefined>;
}

/**
 * Effective entitlements of one tenant (design §2): SKU chain → add-ons → overrides → replace Quotas →
 * add Quotas, each ordered by name. Pure; shares the SKU's compiled objects when nothing else applies.
 */
export function compileTenant(inputs: TenantInputs): TenantCompilation {
  const { tenant } = inputs;
  const plan = inputs.sku(tenant.spec.sku);
  const skus = new Set(plan.ok ? plan.sku.chain : plan.chain);
  const fail = (issue: CompileIssue): TenantCompilation => ({ compiled: undefined, issue, skus: [...skus], grantIssues: new Map() });
  if (!plan.ok) return fail(unusableSku(tenant.spec.sku, plan, 'spec.sku'));

  const layered = applyTenantLayers(tenant, { draft: plan.sku.draft, sku: inputs.sku, skus });
  if (isIssue(layered)) return fail(layered);
  const draft = layered;
  const { draft: granted, grantIssues } = applyGrants(draft, inputs.grants);
  const final = granted === plan.sku.draft ? plan.sku.final : finalizeDraft(granted);
  return { compiled: assemble(tenant, final), issue: undefined, skus: [...skus], grantIssues };
}

/** Add-ons then overrides; records the SKUs the add-ons go through in `skus`. */
function applyTenantLayers(tenant: Tenant, c: { draft: Draft; sku: TenantInputs['sku']; skus: Set<string> }): Draft | CompileIssue {
  let draft = c.draft;
  for (const [i, addOn] of (tenant.spec.addOns ?? []).entries()) {
    const resolved = c.sku(addOn.sku);
    for (const s of resolved.ok ? resolved.sku.chain : resolved.chain) c.skus.add(s);
    if (!resolved.ok) return unusableSku(addOn.sku, resolved, `spec.addOns.${i}.sku`);
    const quantity = addOn.quantity ?? 1;
    draft = applyAddOn(draft, resolved.sku.draft, { quantity, source: `SKU/${addOn.sku}×${quantity}` });
  }
  const overrides = tenant.spec.overrides as Record<string, unknown> | undefined;
  if (!overrides || Object.keys(overrides).length === 0) return draft;
  return applyOverrides(draft, overrides, `Tenant/${tenant.metadata.name} overrides`);
}

/** The tenant-side issue for an SKU it names that does not resolve. */
function unusableSku(name: string, r: Extract<SkuResolution, { ok: false }>, path: string): CompileIssue {
  const missing = r.issue.reason === 'SKUNotFound' && r.chain.length === 1;
  const message = missing ? `SKU "${name}" not found: create it or correct ${path}` : `SKU "${name}" is not usable: ${r.issue.message}`;
  return { reason: r.issue.reason, path, message };
}

function applyGrants(draft: Draft, grants: readonly Quota[]): { draft: Draft; grantIssues: Map<string, CompileIssue | undefined> } {
  const grantIssues = new Map<string, CompileIssue | undefined>();
  const ordered = [...grants].sort((a, b) => {
    const byMode = Number(a.spec.mode === 'add' || a.spec.mode === undefined) - Number(b.spec.mode === 'add' || b.spec.mode === undefined);
    return byMode || a.metadata.name.localeCompare(b.metadata.name);
  });
  for (const q of ordered) {
    const next = applyGrant(draft, { name: q.metadata.name, spec: q.spec });
    if (isIssue(next)) grantIssues.set(q.metadata.name, next);
    else {
      grantIssues.set(q.metadata.name, undefined);
      draft = next;
    }
  }
  return { draft, grantIssues };
}

function assemble(tenant: Tenant, final: FinalEntitlements): CompiledTenant {
  const { spec, metadata } = tenant;
  const suspended = spec.suspended ?? false;
  const billingAnchor = spec.billingAnchor ? Date.parse(spec.billingAnchor) : undefined;
  return {
    name: metadata.name,
    generation: metadata.generation ?? 0,
    sku: spec.sku,
    suspended,
    billingAnchor,
    labels: metadata.labels ?? {},
    ...final,
    digest: policyDigest({ sku: spec.sku, suspended, billingAnchor, final }),
  };
}

/** Digest of a FinalEntitlements, computed once per object: tenants sharing their SKU's objects share it. */
const finalDigests = new WeakMap<FinalEntitlements, string>();

function entitlementsDigest(final: FinalEntitlements): string {
  let digest = finalDigests.get(final);
  if (digest === undefined) {
    const values = {
      features: Object.fromEntries(Object.entries(final.features).map(([k, v]) => [k, v.value])),
      quotas: Object.fromEntries(Object.entries(final.quotas).map(([k, { trace: _t, ...q }]) => [k, q])),
      rates: Object.fromEntries(Object.entries(final.rates).map(([k, { trace: _t, ...r }]) => [k, r])),
      resources: Object.fromEntries(Object.entries(final.resources).map(([k, r]) => [k, r.quantity])),
    };
    digest = createHash('sha256').update(JSON.stringify(values)).digest('hex');
    finalDigests.set(final, digest);
  }
  return digest;
}

/** SHA-256 over the values (not the traces) that decide: two tenants with equal policy share a digest. */
function policyDigest(p: { sku: string; suspended: boolean; billingAnchor: number | undefined; final: FinalEntitlements }): string {
  const tenantPart = JSON.stringify([p.sku, p.suspended, p.billingAnchor ?? null, entitlementsDigest(p.final)]);
  return createHash('sha256').update(tenantPart).digest('hex');
}
