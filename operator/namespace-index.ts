import type { Tenant } from '../crds/index.ts';
import { matchesSelector, tenantNamespaceSelector } from '../governor/index.ts';
import type { Informer } from './informer.ts';

export { TENANT_LABEL } from '../governor/index.ts';

/** Counts the live (not terminating) namespaces a tenant's selector matches, from the namespace informer's cache. */
export function countTenantNamespaces(namespaces: Informer, tenant: Pick<Tenant, 'metadata' | 'spec'> | undefined): number {
  if (!tenant) return 0;
  const selector = tenantNamespaceSelector(tenant);
  let n = 0;
  for (const ns of namespaces.list()) {
    if (!ns.metadata.deletionTimestamp && matchesSelector(selector, ns.metadata.labels ?? {})) n++;
  }
  return n;
}
