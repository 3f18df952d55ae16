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

/**
 * Issue 15, defect 6: a plan, `addOns` add-on SKUs of `features` string features of `chars` characters each, and
 * tenant `big` taking them all: valid by the schema, but its entitlements make a reconcile receipt of
 * about addOns × features × chars bytes (the defaults: 1.3 MB).
 */
export function oversizePolicy(o: { addOns?: number; features?: number; chars?: number } = {}): [Sku, ...Sku[], Tenant] {
  const { addOns = 5, features = 256, chars = 1000 } = o;
  const skus = Array.from({ length: addOns }, (_, i) =>
    skuOf(`addon-${i}`, { features: Object.fromEntries(Array.from({ length: features }, (_, j) => [`f${i}-${j}`, `${i}-${j}-`.padEnd(chars, 'x')])) }),
  );
  return [skuOf('plan', { features: { sso: true } }), ...skus, tenantOf('big', { sku: 'plan', addOns: skus.map((s) => ({ sku: s.metadata.name })) })];
}
