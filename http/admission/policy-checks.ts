import { formatPolicyError, parseApiObject, type Sku, type TaiResource, type Tenant } from '../../crds/index.ts';
import { resolveSku } from '../../governor/index.ts';
import { deny, runChecks, type Denial } from './cap-checks.ts';
import { checkReceiptSize } from './receipt-size-check.ts';

/** A SKU, Tenant or Quota being created or changed, judged against the SKUs the governor holds. */
export interface PolicyInput {
  object: unknown;
  skus: ReadonlyMap<string, Sku>;
  /** The stored tenants (an SKU is checked against those that use it); none when left out. */
  tenants?: ReadonlyMap<string, Tenant>;
}

type Parsed = { resource: TaiResource } | { denial: Denial };

/**
 * Admission of TAI's own kinds: the object is valid by TAI's schema (stricter than what the CRD can state),
 * a Tenant's SKU and add-ons exist, and an SKU's parent exists without a cycle. `kubectl apply` of a broken
 * resource is refused with the field and the fix, instead of being stored and turning Ready=False. Quotas are
 * not refused for the tenant or metric they name: a Quota may arrive before its Tenant (Argo CD applies
 * kinds in name order, Quota first), and its Ready condition reports what does not resolve.
 */
export function checkPolicyObject(input: PolicyInput): Denial | undefined {
  const parsed = parse(input.object);
  if ('denial' in parsed) return parsed.denial;
  const { resource } = parsed;
  const structural = resource.kind === 'Tenant' ? runChecks(TENANT_CHECKS, { tenant: resource, skus: input.skus }) : resource.kind === 'SKU' ? skuChain(resource, input.skus) : undefined;
  return structural ?? checkReceiptSize(resource, { skus: input.skus, tenants: input.tenants ?? new Map() });
}

function parse(object: unknown): Parsed {
  const parsed = parseApiObject(object);
  if ('errors' in parsed) return { denial: deny('InvalidSpec', parsed.errors.slice(0, 5).map(formatPolicyError).join('; ')) };
  return { resource: parsed.resource.resource };
}

interface TenantInput {
  tenant: Tenant;
  skus: ReadonlyMap<string, Sku>;
}

const TENANT_CHECKS: readonly ((i: TenantInput) => Denial | undefined)[] = [
  // The plan exists.
  ({ tenant, skus }) => (skus.has(tenant.spec.sku) ? undefined : missingSku(tenant, 'spec.sku', tenant.spec.sku)),
  // Every add-on exists.
  ({ tenant, skus }) => {
    const i = (tenant.spec.addOns ?? []).findIndex((a) => !skus.has(a.sku));
    return i < 0 ? undefined : missingSku(tenant, `spec.addOns[${i}].sku`, tenant.spec.addOns![i]!.sku);
  },
];

function missingSku(tenant: Tenant, path: string, sku: string): Denial {
  return deny('SKUNotFound', `Tenant/${tenant.metadata.name}: ${path}: SKU "${sku}" does not exist; apply the SKU first or fix the name`);
}

/** The SKU's chain of parents, resolved as if this SKU were stored: a missing parent or a cycle is refused. */
function skuChain(sku: Sku, skus: ReadonlyMap<string, Sku>): Denial | undefined {
  const withThis = new Map(skus).set(sku.metadata.name, sku);
  const resolved = resolveSku(sku.metadata.name, withThis, new Map());
  if (resolved.ok) return undefined;
  return deny(resolved.issue.reason, `SKU/${sku.metadata.name}: ${resolved.issue.path}: ${resolved.issue.message}`);
}
