import type { CompiledTenant } from './types.ts';
import type { CheckDecision, CheckRequest } from './decide-types.ts';
import { own } from './own.ts';

/**
 * Is `request.feature` on for the tenant? `tenant` is the compiled tenant named by `request.tenant`, or
 * undefined when there is none.
 *
 * Only an absent feature or boolean `false` denies (FeatureNotEntitled). Every other value is an entitlement
 * and is allowed with its value — including the number 0 and the empty string: a numeric allocation of 0 or an
 * empty setting is still a value the caller asked for, and it is the caller's to interpret.
 *
 * @example
 * decideCheck(acme, { tenant: 'acme', feature: 'sso' }) // { op: 'check', allowed: true, reason: 'Allowed', value: true, ... }
 */
export function decideCheck(tenant: CompiledTenant | undefined, request: CheckRequest): CheckDecision {
  const { feature } = request;
  if (tenant === undefined) {
    return { op: 'check', tenant: request.tenant, feature, allowed: false, reason: 'UnknownTenant' };
  }
  const base = { op: 'check', tenant: request.tenant, feature, policy: tenant.digest } as const;
  if (tenant.suspended) return { ...base, allowed: false, reason: 'TenantSuspended' };
  const traced = own(tenant.features, feature);
  if (traced === undefined) return { ...base, allowed: false, reason: 'FeatureNotEntitled' };
  const { value } = traced;
  return value === false
    ? { ...base, allowed: false, reason: 'FeatureNotEntitled', value }
    : { ...base, allowed: true, reason: 'Allowed', value };
}
