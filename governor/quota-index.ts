import type { Quota, Tenant } from '../crds/index.ts';
import { grantSelects } from './quota-grants.ts';

/**
 * Which Quotas apply to which tenants, kept up to date as either side changes, so neither a tenant compile
 * nor a Quota status has to scan every resource of the other kind.
 */
export class QuotaIndex {
  readonly #quotas = new Map<string, Quota>();
  /** Tenant name → quotas naming it in spec.tenant (the tenant need not exist). */
  readonly #byTenant = new Map<string, Set<string>>();
  /** Selector quota → the existing tenants it selects. */
  readonly #selected = new Map<string, Set<string>>();

  get quotas(): ReadonlyMap<string, Quota> {
    return this.#quotas;
  }

  /** Adds or replaces a quota; returns the tenants whose grants may have changed (old and new selection). */
  upsertQuota(q: Quota, tenants: Iterable<Tenant>): Set<string> {
    const affected = this.removeQuota(q.metadata.name);
    const name = q.metadata.name;
    this.#quotas.set(name, q);
    if (q.spec.tenant !== undefined) {
      setOf(this.#byTenant, q.spec.tenant).add(name);
      affected.add(q.spec.tenant);
      return affected;
    }
    const selected = new Set<string>();
    for (const t of tenants) if (grantSelects(q, t)) selected.add(t.metadata.name);
    this.#selected.set(name, selected);
    for (const t of selected) affected.add(t);
    return affected;
  }

  /** Removes a quota; returns the tenants it applied to. */
  removeQuota(name: string): Set<string> {
    const old = this.#quotas.get(name);
    const affected = new Set<string>();
    if (!old) return affected;
    this.#quotas.delete(name);
    if (old.spec.tenant !== undefined) {
      this.#byTenant.get(old.spec.tenant)?.delete(name);
      affected.add(old.spec.tenant);
    }
    for (const t of this.#selected.get(name) ?? []) affected.add(t);
    this.#selected.delete(name);
    return affected;
  }

  /** Re-evaluates selectors for a tenant that appeared, changed or (with `undefined`) left; returns the quotas touched. */
  updateTenant(name: string, tenant: Tenant | undefined): Set<string> {
    const touched = new Set(this.#byTenant.get(name) ?? []);
    for (const [q, selected] of this.#selected) {
      const now = tenant !== undefined && grantSelects(this.#quotas.get(q)!, tenant);
      if (now || selected.has(name)) touched.add(q);
      if (now) selected.add(name);
      else selected.delete(name);
    }
    return touched;
  }

  /** The quotas that name or select the tenant, active or not. */
  grantsFor(name: string): Quota[] {
    const names = [...(this.#byTenant.get(name) ?? [])];
    for (const [q, selected] of this.#selected) if (selected.has(name)) names.push(q);
    return names.map((n) => this.#quotas.get(n)!);
  }

  /** The tenants a quota applies to (for a named tenant, whether it exists is the caller's question). */
  selectedBy(name: string): ReadonlySet<string> | undefined {
    return this.#selected.get(name);
  }
}

function setOf<K, V>(m: Map<K, Set<V>>, k: K): Set<V> {
  let s = m.get(k);
  if (!s) m.set(k, (s = new Set()));
  return s;
}
