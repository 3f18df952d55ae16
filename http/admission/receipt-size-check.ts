import type { Sku, TaiResource, Tenant } from '../../crds/index.ts';
import { PolicyCompiler, resolveSku, type SkuResolution } from '../../governor/index.ts';
import { checkEntitlementsReceipt } from '../../recording/reconcile-size.ts';
import { deny, type Denial } from './cap-checks.ts';

/** How many refused tenants a denial names. */
const NAMED = 3;

/**
 * A Tenant or an SKU that would give a tenant entitlements too large to record in the receipt log is refused
 * (`ReceiptTooLarge`, naming the tenants, their receipt size and the limit). A Tenant is compiled against the
 * stored SKUs; an SKU against every stored tenant whose plan or add-ons go through it, one per distinct spec
 * (tenants with the same spec get the same entitlements). Quota grants are left out: they add a quota entry,
 * and a tenant they would tip over is refused by the governor's compile (Ready=False), its last good state kept.
 */
export function checkReceiptSize(resource: TaiResource, c: { skus: ReadonlyMap<string, Sku>; tenants: ReadonlyMap<string, Tenant> }): Denial | undefined {
  if (resource.kind === 'Quota') return undefined;
  const skus = resource.kind === 'SKU' ? new Map(c.skus).set(resource.metadata.name, resource) : c.skus;
  const tenants = resource.kind === 'Tenant' ? [resource] : dependents(resource.metadata.name, skus, c.tenants.values());
  if (tenants.length === 0) return undefined;
  const compiler = new PolicyCompiler({ checkTenant: checkEntitlementsReceipt });
  // Time matters to Quotas only, and none is compiled here.
  const snapshot = compiler.apply({ upsert: [...skus.values(), ...tenants] }, 0);
  const refused = tenants.map((t) => snapshot.statuses.get(`Tenant/${t.metadata.name}`)).filter((s) => s?.reason === 'ReceiptTooLarge');
  if (refused.length === 0) return undefined;
  const more = refused.length > NAMED ? ` (and ${refused.length - NAMED} more)` : '';
  return deny('ReceiptTooLarge', `${resource.kind}/${resource.metadata.name}: ${refused.slice(0, NAMED).map((s) => s!.message).join('; ')}${more}`);
}

/** Stored tenants whose plan or add-ons resolve through `sku`, one per distinct spec (the longest name of each). */
function dependents(sku: string, skus: ReadonlyMap<string, Sku>, tenants: Iterable<Tenant>): Tenant[] {
  const memo = new Map<string, SkuResolution>();
  const through = (name: string): boolean => {
    const r = resolveSku(name, skus, memo);
    return (r.ok ? r.sku.chain : r.chain).includes(sku);
  };
  const bySpec = new Map<string, Tenant>();
  for (const t of tenants) {
    if (!through(t.spec.sku) && !(t.spec.addOns ?? []).some((a) => through(a.sku))) continue;
    const key = JSON.stringify(t.spec);
    const seen = bySpec.get(key);
    if (!seen || seen.metadata.name.length < t.metadata.name.length) bySpec.set(key, t);
  }
  return [...bySpec.values()];
}
