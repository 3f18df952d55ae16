// Which receipts a reading of the log keeps: the conditions `tai log query` takes, tested the same way by the
// audit report and the dashboard, so their counts are what the command prints. Pure.
import type { Receipt, ReceiptKind } from '../receipts/index.ts';

/** Which entries to keep; every given condition must hold. Times are microseconds, since ≤ time < until. */
export interface QueryFilter {
  tenant?: string;
  kind?: ReceiptKind;
  /** true: `allowed` decisions; false: denied ones. Entries without `allowed` never match. */
  allowed?: boolean;
  reason?: string;
  since?: number;
  until?: number;
}

/** True when receipt `r` meets every condition of `f`. */
export function matchesQuery(f: QueryFilter, r: Receipt): boolean {
  const checks: [unknown, unknown][] = [
    [f.tenant, r.body.tenant],
    [f.kind, r.kind],
    [f.allowed, r.body.allowed],
    [f.reason, r.body.reason],
  ];
  if (checks.some(([want, got]) => want !== undefined && want !== got)) return false;
  return (f.since === undefined || r.time >= f.since) && (f.until === undefined || r.time < f.until);
}

/** The resource a reconcile receipt names for tenant `name` (docs/receipts.md §3: `Tenant/<name>`). */
export function tenantResource(name: string): string {
  return `Tenant/${name}`;
}
