import type { Tenant } from '../../crds/index.ts';
import { matchesSelector, TENANT_LABEL } from '../../governor/index.ts';
import type { ResourceLedger } from './resource-ledger.ts';
import { addInto, type ResourceVector } from './resource-vector.ts';

/** The Tenant resources as the compiler holds them, and the generation that changes whenever they do. */
export interface TenantSource {
  tenants(): ReadonlyMap<string, Tenant>;
  generation(): number;
}

/** Whose namespace this is: a tenant's, one labelled for a tenant that does not exist, or nobody's. */
export type Membership = { tenant: string } | { unknownTenant: string } | undefined;

/**
 * Which namespaces belong to which tenant: a namespace labelled `tai.dev/tenant: T` belongs to T when T has no
 * selector of its own; otherwise to the first tenant (by name) whose `namespaceSelector` matches its labels.
 * Tenants with their own selectors are few, so they are scanned; the label case is an index lookup.
 */
export class TenantMembership {
  readonly #policy: TenantSource;
  readonly #ledger: ResourceLedger;
  #selecting: { generation: number; tenants: Tenant[] } | undefined;

  constructor(policy: TenantSource, ledger: ResourceLedger) {
    this.#policy = policy;
    this.#ledger = ledger;
  }

  #tenants(): ReadonlyMap<string, Tenant> {
    return this.#policy.tenants();
  }

  /** The tenant a namespace with these labels belongs to. */
  of(labels: Readonly<Record<string, string>>): Membership {
    const tenants = this.#tenants();
    const labelled = labels[TENANT_LABEL];
    const byLabel = labelled === undefined ? undefined : tenants.get(labelled);
    if (byLabel && !byLabel.spec.namespaceSelector) return { tenant: labelled! };
    const selecting = this.#withSelectors().find((t) => matchesSelector(t.spec.namespaceSelector!, labels));
    if (selecting) return { tenant: selecting.metadata.name };
    return labelled !== undefined && !byLabel ? { unknownTenant: labelled } : undefined;
  }

  /** The live namespaces of a tenant. */
  namespacesOf(tenant: string): string[] {
    const t = this.#tenants().get(tenant);
    if (!t) return [];
    const candidates = t.spec.namespaceSelector ? [...this.#ledger.namespaces()].map(([n]) => n) : this.#ledger.labelledFor(tenant);
    return [...candidates].filter((n) => {
      const m = this.of(this.#ledger.labels(n) ?? {});
      return m !== undefined && 'tenant' in m && m.tenant === tenant;
    });
  }

  /** What a tenant's namespaces use now, summed. */
  usageOf(tenant: string): ResourceVector {
    const out: ResourceVector = new Map();
    for (const ns of this.namespacesOf(tenant)) addInto(out, this.#ledger.totals(ns));
    return out;
  }

  /** Tenants with their own namespaceSelector, by name; recomputed when the policy generation moves. */
  #withSelectors(): Tenant[] {
    const generation = this.#policy.generation();
    if (this.#selecting?.generation !== generation) {
      const tenants = [...this.#tenants().values()].filter((t) => t.spec.namespaceSelector).sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : 1));
      this.#selecting = { generation, tenants };
    }
    return this.#selecting.tenants;
  }
}
