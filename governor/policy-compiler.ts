import { resourceKey, type Quota, type Sku, type TaiResource, type Tenant } from '../crds/index.ts';
import { compileTenant } from './compile-tenant.ts';
import type { CompileIssue } from './layers.ts';
import { EMPTY_SNAPSHOT, type PolicySnapshot, type ResourceStatus } from './policy-snapshot.ts';
import { grantSelects, isGrantActive, nextGrantBoundary } from './quota-grants.ts';
import { resolveSku, type SkuResolution } from './resolve-sku.ts';
import type { CompiledTenant } from './types.ts';

/** A batch of changes to the policy resources: upserts replace by `Kind/name`, removals name `Kind/name`. */
export interface PolicyChange {
  upsert?: readonly TaiResource[];
  remove?: readonly string[];
}

const READY = 'Compiled';

/**
 * Compiles SKUs, Tenants and Quotas into snapshots, incrementally: a change recompiles only the tenants
 * that depend on it (through an SKU chain, an add-on, or a grant that selects them). Pure: time is passed in.
 */
export class PolicyCompiler {
  #skus = new Map<string, Sku>();
  #tenants = new Map<string, Tenant>();
  #quotas = new Map<string, Quota>();
  #memo = new Map<string, SkuResolution>();
  /** SKU name → tenants whose plan or add-ons go through it (names of missing SKUs included). */
  #dependents = new Map<string, Set<string>>();
  #tenantSkus = new Map<string, readonly string[]>();
  /** Quota → tenant → why the grant could not apply (undefined: applied). */
  #grantIssues = new Map<string, Map<string, CompileIssue | undefined>>();
  #active = new Set<string>();
  #snapshot: PolicySnapshot = EMPTY_SNAPSHOT;

  get snapshot(): PolicySnapshot {
    return this.#snapshot;
  }

  /** The resources as last applied, by kind. */
  get resources(): { skus: ReadonlyMap<string, Sku>; tenants: ReadonlyMap<string, Tenant>; quotas: ReadonlyMap<string, Quota> } {
    return { skus: this.#skus, tenants: this.#tenants, quotas: this.#quotas };
  }

  /** Applies a change and returns the new snapshot (also kept as `snapshot`). */
  apply(change: PolicyChange, now: number): PolicySnapshot {
    const affected = new Set<string>();
    const touchedQuotas = new Set<string>();
    let skusChanged = false;
    for (const key of change.remove ?? []) skusChanged = this.#remove(key, { affected, touchedQuotas }) || skusChanged;
    for (const r of change.upsert ?? []) skusChanged = this.#upsert(r, { affected, touchedQuotas }) || skusChanged;
    if (skusChanged) this.#memo.clear();
    return this.#rebuild({ affected, touchedQuotas, skusChanged, now });
  }

  /** Recompiles what a time-boxed grant starting or ending since the last compile changes. */
  refresh(now: number): PolicySnapshot {
    const { expiresAt } = this.#snapshot;
    if (expiresAt === undefined || now < expiresAt) return this.#snapshot;
    const affected = new Set<string>();
    const touchedQuotas = new Set<string>();
    for (const q of this.#quotas.values()) {
      if (isGrantActive(q, now) === this.#active.has(q.metadata.name)) continue;
      touchedQuotas.add(q.metadata.name);
      this.#selected(q, affected);
    }
    return this.#rebuild({ affected, touchedQuotas, skusChanged: false, now });
  }

  #upsert(r: TaiResource, acc: { affected: Set<string>; touchedQuotas: Set<string> }): boolean {
    const name = r.metadata.name;
    if (r.kind === 'SKU') {
      this.#skus.set(name, r);
      for (const t of this.#dependents.get(name) ?? []) acc.affected.add(t);
      return true;
    }
    if (r.kind === 'Tenant') {
      this.#quotasSelecting(this.#tenants.get(name), acc.touchedQuotas);
      this.#tenants.set(name, r);
      this.#quotasSelecting(r, acc.touchedQuotas);
      acc.affected.add(name);
      return false;
    }
    const old = this.#quotas.get(name);
    if (old) this.#selected(old, acc.affected);
    this.#quotas.set(name, r);
    this.#selected(r, acc.affected);
    acc.touchedQuotas.add(name);
    return false;
  }

  #remove(key: string, acc: { affected: Set<string>; touchedQuotas: Set<string> }): boolean {
    const [kind, name = ''] = key.split('/', 2);
    if (kind === 'SKU') {
      for (const t of this.#dependents.get(name) ?? []) acc.affected.add(t);
      return this.#skus.delete(name);
    }
    if (kind === 'Tenant') {
      this.#quotasSelecting(this.#tenants.get(name), acc.touchedQuotas);
      if (this.#tenants.delete(name)) acc.affected.add(name);
      return false;
    }
    const old = this.#quotas.get(name);
    if (old) {
      this.#selected(old, acc.affected);
      this.#quotas.delete(name);
      acc.touchedQuotas.add(name);
    }
    return false;
  }

  /** Adds the names of the quotas that name or select the tenant: their status counts it. */
  #quotasSelecting(t: Tenant | undefined, into: Set<string>): void {
    if (!t) return;
    for (const q of this.#quotas.values()) if (q.spec.tenant === t.metadata.name || grantSelects(q, t)) into.add(q.metadata.name);
  }

  /** Adds the names of the tenants a grant selects. */
  #selected(q: Quota, into: Set<string>): void {
    if (q.spec.tenant !== undefined) {
      into.add(q.spec.tenant);
      return;
    }
    for (const t of this.#tenants.values()) if (grantSelects(q, t)) into.add(t.metadata.name);
  }

  #rebuild(c: { affected: Set<string>; touchedQuotas: Set<string>; skusChanged: boolean; now: number }): PolicySnapshot {
    const tenants = new Map(this.#snapshot.tenants);
    const statuses = new Map(this.#snapshot.statuses);
    const sku = (n: string): SkuResolution => resolveSku(n, this.#skus, this.#memo);
    for (const name of c.affected) {
      for (const q of this.#compileTenantInto(name, { tenants, statuses, sku, now: c.now })) c.touchedQuotas.add(q);
    }
    if (c.skusChanged) this.#skuStatuses(statuses, sku);
    for (const q of c.touchedQuotas) this.#quotaStatus(q, { statuses, now: c.now });
    this.#snapshot = {
      generation: this.#snapshot.generation + 1,
      tenants,
      statuses,
      expiresAt: nextGrantBoundary(this.#quotas.values(), c.now),
    };
    return this.#snapshot;
  }

  /** Compiles one tenant into the maps being built; returns the quotas whose status may have changed. */
  #compileTenantInto(
    name: string,
    c: { tenants: Map<string, CompiledTenant>; statuses: Map<string, ResourceStatus>; sku: (n: string) => SkuResolution; now: number },
  ): Iterable<string> {
    this.#forgetDependencies(name);
    const tenant = this.#tenants.get(name);
    const touched = new Set<string>();
    for (const [q, issues] of this.#grantIssues) if (issues.delete(name)) touched.add(q);
    if (!tenant) {
      c.tenants.delete(name);
      c.statuses.delete(`Tenant/${name}`);
      return touched;
    }
    const grants = [...this.#quotas.values()].filter((q) => grantSelects(q, tenant) && isGrantActive(q, c.now));
    const result = compileTenant({ tenant, sku: c.sku, grants });
    this.#recordDependencies(name, result.skus);
    for (const [q, issue] of result.grantIssues) {
      touched.add(q);
      this.#grantIssueMap(q).set(name, issue);
    }
    if (result.compiled) c.tenants.set(name, result.compiled);
    c.statuses.set(resourceKey(tenant), statusOf(result.issue, tenant.metadata.generation));
    return touched;
  }

  #grantIssueMap(q: string): Map<string, CompileIssue | undefined> {
    let m = this.#grantIssues.get(q);
    if (!m) this.#grantIssues.set(q, (m = new Map()));
    return m;
  }

  #recordDependencies(tenant: string, skus: readonly string[]): void {
    this.#tenantSkus.set(tenant, skus);
    for (const s of skus) {
      let set = this.#dependents.get(s);
      if (!set) this.#dependents.set(s, (set = new Set()));
      set.add(tenant);
    }
  }

  #forgetDependencies(tenant: string): void {
    for (const s of this.#tenantSkus.get(tenant) ?? []) this.#dependents.get(s)?.delete(tenant);
    this.#tenantSkus.delete(tenant);
  }

  #skuStatuses(statuses: Map<string, ResourceStatus>, sku: (n: string) => SkuResolution): void {
    for (const key of [...statuses.keys()]) if (key.startsWith('SKU/') && !this.#skus.has(key.slice(4))) statuses.delete(key);
    for (const s of this.#skus.values()) {
      const r = sku(s.metadata.name);
      statuses.set(resourceKey(s), statusOf(r.ok ? undefined : r.issue, s.metadata.generation));
    }
  }

  #quotaStatus(name: string, c: { statuses: Map<string, ResourceStatus>; now: number }): void {
    const q = this.#quotas.get(name);
    if (!q) {
      c.statuses.delete(`Quota/${name}`);
      this.#grantIssues.delete(name);
      this.#active.delete(name);
      return;
    }
    const active = isGrantActive(q, c.now);
    if (active) this.#active.add(name);
    else this.#active.delete(name);
    const issues = this.#grantIssues.get(name) ?? new Map<string, CompileIssue | undefined>();
    const [badTenant, issue] = [...issues].find(([, i]) => i !== undefined) ?? [];
    const missing = q.spec.tenant !== undefined && !this.#tenants.has(q.spec.tenant);
    const problem: CompileIssue | undefined = missing
      ? { reason: 'TenantNotFound', path: 'spec.tenant', message: `spec.tenant names tenant "${q.spec.tenant}", which does not exist` }
      : issue && { ...issue, message: `tenant ${badTenant}: ${issue.message}` };
    const tenants = missing ? 0 : q.spec.tenant !== undefined ? 1 : [...this.#tenants.values()].filter((t) => grantSelects(q, t)).length;
    c.statuses.set(resourceKey(q), { ...statusOf(problem, q.metadata.generation), active, tenants });
  }
}

function statusOf(issue: CompileIssue | undefined, generation: number | undefined): ResourceStatus {
  if (!issue) return { ready: true, reason: READY, message: 'compiled into the governor', generation: generation ?? 0 };
  return { ready: false, reason: issue.reason, message: issue.message, path: issue.path, generation: generation ?? 0 };
}
