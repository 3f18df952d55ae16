import type { Quota, Tenant } from '../crds/index.ts';
import { matchesSelector } from './selector.ts';

/** Whether a grant is inside its validity period at `now` (validFrom inclusive, validUntil exclusive). */
export function isGrantActive(q: Quota, now: number): boolean {
  if (q.spec.validFrom !== undefined && now < Date.parse(q.spec.validFrom)) return false;
  return q.spec.validUntil === undefined || now < Date.parse(q.spec.validUntil);
}

/** Whether a grant names or selects the tenant (regardless of time). */
export function grantSelects(q: Quota, t: Tenant): boolean {
  if (q.spec.tenant !== undefined) return q.spec.tenant === t.metadata.name;
  return q.spec.tenantSelector !== undefined && matchesSelector(q.spec.tenantSelector, t.metadata.labels ?? {});
}

/** The earliest validity boundary strictly after `now`, over all grants. */
export function nextGrantBoundary(quotas: Iterable<Quota>, now: number): number | undefined {
  let next: number | undefined;
  for (const q of quotas) {
    for (const t of [q.spec.validFrom, q.spec.validUntil]) {
      const at = t === undefined ? NaN : Date.parse(t);
      if (at > now && (next === undefined || at < next)) next = at;
    }
  }
  return next;
}
