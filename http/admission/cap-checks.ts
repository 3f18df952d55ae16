import type { CompiledTenant } from '../../governor/index.ts';
import type { AdmissionVerdict } from './review.ts';
import { formatAmount, milli, type ResourceVector } from './resource-vector.ts';

/** What a create or update in a tenant's namespaces is judged on. */
export interface CapInput {
  /** The tenant the namespace belongs to (by label or selector). */
  tenant: string;
  /** Its compiled entitlements; undefined when no such Tenant exists. */
  compiled: CompiledTenant | undefined;
  /** For messages: `Pod team-a/web-1`, `namespace team-a`. */
  subject: string;
  /** What the tenant's namespaces use now: the informers' counts plus in-flight reservations. */
  used: ReadonlyMap<string, number>;
  /** What this request adds (the growth of an update). */
  adds: ReadonlyMap<string, number>;
  /** How `unknownTenant` came about, for its message. */
  labelledBy: string;
}

export type Denial = Required<Pick<AdmissionVerdict, 'reason' | 'message'>> & { allowed: false; cap?: CapBreach };

/** The cap a denial names, with its value and the usage it met (quantities as Kubernetes writes them). */
export interface CapBreach {
  resource: string;
  limit: string;
  used: string;
  requested: string;
}

type CapCheck = (input: CapInput) => Denial | undefined;

/** The checks on the tenant itself, before its caps (shared reservations run these before asking the store). */
export const TENANT_CHECKS: readonly CapCheck[] = [
  // The namespace names a tenant that does not exist: nothing may be admitted for it.
  (i) =>
    i.compiled
      ? undefined
      : deny('UnknownTenant', `${i.subject}: ${i.labelledBy}, but there is no Tenant "${i.tenant}"; create the Tenant or fix the namespace's labels`),
  // A suspended tenant creates and changes nothing until it is resumed.
  (i) =>
    i.compiled?.suspended
      ? deny('TenantSuspended', `tenant "${i.tenant}" is suspended: ${i.subject} is refused; set spec.suspended: false on Tenant ${i.tenant} to resume`)
      : undefined,
];

/** Ordered; the first denial wins (cert-manager's shape). */
export const CAP_CHECKS: readonly CapCheck[] = [
  ...TENANT_CHECKS,
  // Every cap this request adds to holds across all of the tenant's namespaces.
  (i) => firstBreach(i),
];

/** The caps a request adds to: resource → limit (milli), in name order. */
export function cappedBy(caps: CompiledTenant['resources'], adds: ReadonlyMap<string, number>): Map<string, number> {
  return new Map(Object.keys(caps).sort().filter((r) => (adds.get(r) ?? 0) > 0).map((r) => [r, milli(caps[r]!.value)]));
}

export function runChecks<I>(checks: readonly ((input: I) => Denial | undefined)[], input: I): Denial | undefined {
  for (const check of checks) {
    const denial = check(input);
    if (denial) return denial;
  }
  return undefined;
}

/** The caps (in name order) that `used + adds` would pass. */
export function breaches(caps: CompiledTenant['resources'], used: ReadonlyMap<string, number>, adds: ResourceVector | ReadonlyMap<string, number>): CapBreach[] {
  const out: CapBreach[] = [];
  for (const resource of Object.keys(caps).sort()) {
    const add = adds.get(resource) ?? 0;
    if (add <= 0) continue;
    const limit = milli(caps[resource]!.value);
    const now = used.get(resource) ?? 0;
    if (now + add > limit) out.push({ resource, limit: caps[resource]!.quantity, used: formatAmount(resource, now), requested: formatAmount(resource, add) });
  }
  return out;
}

function firstBreach(i: CapInput): Denial | undefined {
  const [b] = breaches(i.compiled?.resources ?? {}, i.used, i.adds);
  if (!b) return undefined;
  return {
    ...deny('ResourceCapExceeded', `tenant "${i.tenant}": ${b.resource} cap is ${b.limit} and ${b.used} is in use across its namespaces; ${i.subject} needs ${b.requested} more`),
    cap: b,
  };
}

export function deny(reason: string, message: string): Denial {
  return { allowed: false, reason, message };
}
