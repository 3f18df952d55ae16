import { API_VERSION, type Quota, type QuotaGrantSpec, type Sku, type SkuSpec, type Tenant, type TenantSpec } from '../crds/index.ts';

/** Builders for policy resources in tests. */
export const skuOf = (name: string, spec: SkuSpec): Sku => ({ apiVersion: API_VERSION, kind: 'SKU', metadata: { name, generation: 1 }, spec });
export const tenantOf = (name: string, spec: TenantSpec, labels?: Record<string, string>): Tenant => ({
  apiVersion: API_VERSION,
  kind: 'Tenant',
  metadata: { name, generation: 1, ...(labels ? { labels } : {}) },
  spec,
});
export const quotaOf = (name: string, spec: QuotaGrantSpec): Quota => ({ apiVersion: API_VERSION, kind: 'Quota', metadata: { name, generation: 1 }, spec });
