import type { LabelSelector, Tenant } from '../crds/index.ts';
import { matchesSelector } from '../governor/index.ts';
import type { Informer } from './informer.ts';

/** The label that places a namespace in a tenant when the Tenant names no selector. */
export const TENANT_LABEL = 'tai.dev/tenant';

/** A tenant's namespace selector: its own, or `tai.dev/tenant: <name>`. */
export function tenantSelector(tenant: Pick<Tenant, 'metadata' | 'spec'>): LabelSelector {
  return tenant.spec.namespaceSelector ?? { matchLabels: { [TENANT_LABEL]: tenant.metadata.name } };
}

/** Counts the live (not terminating) namespaces a tenant's selector matches, from the namespace informer's cache. */
export function countTenantNamespaces(namespaces: Informer, tenant: Pick<Tenant, 'metadata' | 'spec'> | undefined): number {
  if (!tenant) return 0;
  const selector = tenantSelector(tenant);
  let n = 0;
  for (const ns of namespaces.list()) {
    if (!ns.metadata.deletionTimestamp && matchesSelector(selector, ns.metadata.labels ?? {})) n++;
  }
  return n;
}
