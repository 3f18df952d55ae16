// Counts of allowed and denied receipts by tenant and by reason: what the report shows instead of one row per
// decision, so its size depends on the number of tenants and reasons, not of decisions. Pure.
import type { CountRow, OutcomeCounts, OutcomeTallyResult } from './model.ts';

const zero = (): OutcomeCounts => ({ total: 0, allowed: 0, denied: 0 });

function count(c: OutcomeCounts, allowed: boolean): void {
  c.total++;
  if (allowed) c.allowed++;
  else c.denied++;
}

/** Largest total first; ties by key (no key last), so the order is the same on every run. */
export function countRows(map: ReadonlyMap<string | null, OutcomeCounts>): CountRow[] {
  const byKey = (a: string | null, b: string | null): number => (a === b ? 0 : a === null ? 1 : b === null ? -1 : a < b ? -1 : 1);
  return [...map].map(([key, c]) => ({ key, ...c })).sort((a, b) => b.total - a.total || byKey(a.key, b.key));
}

function bump(map: Map<string | null, OutcomeCounts>, c: { key: string | null; allowed: boolean }): void {
  let counts = map.get(c.key);
  if (counts === undefined) map.set(c.key, (counts = zero()));
  count(counts, c.allowed);
}

/** One receipt: its tenant (null when it names none), outcome and reason; `unknownTenant`: the name is no tenant. */
export interface TalliedOutcome {
  tenant: string | null;
  allowed: boolean;
  reason: string;
  unknownTenant?: boolean;
}

/** Decision or admission receipts counted by outcome, tenant and reason; peeks and unknown names apart. */
export class OutcomeTally {
  readonly #all = zero();
  readonly #byTenant = new Map<string | null, OutcomeCounts>();
  readonly #byReason = new Map<string | null, OutcomeCounts>();
  readonly #unknown = new Map<string | null, OutcomeCounts>();
  readonly #peeks = zero();

  add(r: TalliedOutcome): void {
    count(this.#all, r.allowed);
    bump(r.unknownTenant === true ? this.#unknown : this.#byTenant, { key: r.tenant, allowed: r.allowed });
    bump(this.#byReason, { key: r.reason, allowed: r.allowed });
  }

  /** A consume of amount 0: counted apart, in none of the rows. */
  peek(allowed: boolean): void {
    count(this.#peeks, allowed);
  }

  result(): OutcomeTallyResult {
    const r: OutcomeTallyResult = { ...this.#all, byTenant: countRows(this.#byTenant), byReason: countRows(this.#byReason) };
    if (this.#peeks.total > 0) r.peeks = { ...this.#peeks };
    if (this.#unknown.size > 0) r.unknownTenants = countRows(this.#unknown);
    return r;
  }
}
