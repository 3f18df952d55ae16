// One tenant's history as the log records it, for the dashboard's tenant page: its recent decisions and their
// counts, its threshold crossings (with the re-arming that explains a gauge's repeat), its policy changes with
// their merge patches, and its usage per metric and window. The same rows as the audit report's. Pure.
import type { ChainedEntry } from '../receipts/index.ts';
import { Crossings, isPeek, outcome, policyChange, PATCH_LIMIT, text } from './entry-rows.ts';
import { tenantResource } from './filter.ts';
import { LastRows } from './last-rows.ts';
import type { OutcomeCounts, OutcomeTallyResult, PolicyChange, ThresholdCrossing } from './model.ts';
import { OutcomeTally } from './outcome-tally.ts';
import { rfc3339FromMicros } from './time.ts';
import { UsageTally, type UsageRow } from './usage-tally.ts';

/** One decision receipt of the tenant. */
export interface TenantDecision {
  index: number;
  time: string;
  op: string;
  subject: string;
  allowed: boolean;
  reason: string;
  /** A consume of amount 0: it read usage and changed nothing. */
  peek: boolean;
  /** Consume and rate: units asked; consume: usage after and the limit. */
  amount?: number;
  used?: number;
  limit?: number;
}

export interface TenantView {
  tenant: string;
  /** Its decisions counted by outcome and reason (peeks apart), and the last `limit`, newest first. */
  decisions: OutcomeTallyResult & { peeks: OutcomeCounts; recent: TenantDecision[] };
  /** Its threshold crossings: how many, and the last `limit`, newest first. */
  thresholds: { total: number; recent: ThresholdCrossing[] };
  /** The reconcile receipts of `Tenant/<name>`: how many, and the last `limit`, newest first, with their patches. */
  policyHistory: { total: number; recent: PolicyChange[] };
  /** Usage per metric and window: the highest `used` recorded, the limit, the allowed consumes. */
  usage: UsageRow[];
}

export interface TenantFoldOptions {
  /** Rows kept of each list (default 50). */
  limit?: number;
  /** Characters of a pretty-printed patch kept (default 4000). */
  patchLimit?: number;
}

const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);

function decision(e: ChainedEntry): TenantDecision {
  const { body, time } = e.receipt;
  const { allowed, reason } = outcome(body);
  const row: TenantDecision = { index: e.index, time: rfc3339FromMicros(time), op: text(body.op), subject: text(body.subject), allowed, reason, peek: isPeek(body) };
  for (const k of ['amount', 'used', 'limit'] as const) {
    const v = num(body[k]);
    if (v !== undefined) row[k] = v;
  }
  return row;
}

/** Feed entries in log order with `add` (any tenant's: others are skipped), then read `view()`. */
export class TenantFold {
  readonly tenant: string;
  readonly #resource: string;
  readonly #patchLimit: number;
  readonly #outcomes = new OutcomeTally();
  readonly #decisions: LastRows<TenantDecision>;
  readonly #thresholds: LastRows<ThresholdCrossing>;
  readonly #policy: LastRows<PolicyChange>;
  readonly #crossings = new Crossings();
  readonly #usage = new UsageTally('');

  constructor(tenant: string, opts: TenantFoldOptions = {}) {
    this.tenant = tenant;
    this.#resource = tenantResource(tenant);
    this.#patchLimit = opts.patchLimit ?? PATCH_LIMIT;
    const limit = opts.limit ?? 50;
    this.#decisions = new LastRows(limit);
    this.#thresholds = new LastRows(limit);
    this.#policy = new LastRows(limit);
  }

  add(e: ChainedEntry): void {
    const { kind, body } = e.receipt;
    if (kind === 'reconcile' && body.resource === this.#resource) this.#policy.add(policyChange(e, this.#patchLimit));
    if (body.tenant !== this.tenant) return;
    if (kind === 'decision') this.#decision(e);
    else if (kind === 'threshold') this.#thresholds.add(this.#crossings.crossing(e));
    if (kind === 'decision' || kind === 'threshold') this.#usage.add(kind, body);
  }

  #decision(e: ChainedEntry): void {
    const row = decision(e);
    this.#crossings.decision(e);
    this.#decisions.add(row);
    if (row.peek) this.#outcomes.peek(row.allowed);
    else this.#outcomes.add({ tenant: this.tenant, allowed: row.allowed, reason: row.reason });
  }

  view(): TenantView {
    const counts = this.#outcomes.result();
    return {
      tenant: this.tenant,
      decisions: { ...counts, peeks: counts.peeks ?? { total: 0, allowed: 0, denied: 0 }, recent: this.#decisions.newestFirst() },
      thresholds: { total: this.#thresholds.total, recent: this.#thresholds.newestFirst() },
      policyHistory: { total: this.#policy.total, recent: this.#policy.newestFirst() },
      usage: this.#usage.rows(),
    };
  }
}

/**
 * One tenant's view of `entries` (in log order).
 *
 * @example foldTenant(entries, 'acme', { limit: 20 }).decisions.recent[0] // its latest decision
 */
export function foldTenant(entries: Iterable<ChainedEntry>, tenant: string, opts: TenantFoldOptions = {}): TenantView {
  const fold = new TenantFold(tenant, opts);
  for (const e of entries) fold.add(e);
  return fold.view();
}
