// Folds the entries of a log, as verifyLog hands them over, into the audit report's counts and lists. Memory is
// bounded by tenants, reasons and the list caps, not by the log's length. Pure.
import { toHex, type ChainedEntry, type ReceiptKind } from '../receipts/index.ts';
import { CappedRows } from './capped-rows.ts';
import { Crossings, isPeek, lifecycleEvent, outcome, policyChange, PATCH_LIMIT, UNKNOWN_TENANT } from './entry-rows.ts';
import { EvenSample } from './even-sample.ts';
import { matchesQuery, tenantResource, type QueryFilter } from './filter.ts';
import type { AuditTally, EntryRange, LifecycleEvent, PolicyChange, ThresholdCrossing } from './model.ts';
import { OutcomeTally } from './outcome-tally.ts';
import { rfc3339FromMicros } from './time.ts';
import { UsageTally } from './usage-tally.ts';

/** An entry in scope chosen for an inclusion proof. */
export interface SampleCandidate {
  index: number;
  kind: ReceiptKind;
  time: string;
  leafHash: string;
}

/** Rows kept of the threshold crossings and of the lifecycle events, and policy changes kept, by default. */
export const LIST_LIMIT = 50;
export const CHANGE_LIMIT = 20;

export interface AuditFoldOptions {
  /** The tenant and time range (`scopeFilter`); kind is set per section. */
  filter: QueryFilter;
  /** Rows kept of the threshold crossings and of the lifecycle events (default 50). */
  listLimit?: number;
  /** Policy changes kept, each with its patch (default 20). */
  changeLimit?: number;
  /** Characters of a pretty-printed patch kept. */
  patchLimit?: number;
  /** The log's origin, named by the usage rows (a deployment's report merges several logs). */
  origin?: string;
}

/**
 * Feed every verified entry to `add`, in log order, then read `tally()` and `sample(n)`. Which entries count
 * is `matchesQuery` with the section's kind, the same test as `tai log query`; policy changes name their tenant
 * only as `Tenant/<name>` and lifecycle events none, so those two take the tenant from the resource, or none.
 * Peeks (consumes of amount 0) are counted apart from the decisions, and names that are no tenant apart from the
 * tenants; a threshold crossing names the consume that re-armed a gauge's threshold before it fired again.
 */
export class AuditFold {
  readonly #filter: QueryFilter;
  readonly #patchLimit: number;
  #next = 0;
  #contiguous = true;
  readonly #range: EntryRange = { first: null, last: null, entries: 0, firstTime: null, lastTime: null };
  readonly #decisions = new OutcomeTally();
  readonly #admissions = new OutcomeTally();
  readonly #thresholds: CappedRows<ThresholdCrossing>;
  readonly #policyChanges: CappedRows<PolicyChange>;
  readonly #lifecycle: CappedRows<LifecycleEvent>;
  readonly #samples = new EvenSample<SampleCandidate>();
  readonly #usage: UsageTally;
  readonly #crossings = new Crossings();

  constructor(opts: AuditFoldOptions) {
    this.#filter = { tenant: opts.filter.tenant, since: opts.filter.since, until: opts.filter.until };
    this.#patchLimit = opts.patchLimit ?? PATCH_LIMIT;
    const limit = opts.listLimit ?? LIST_LIMIT;
    this.#thresholds = new CappedRows(limit);
    this.#policyChanges = new CappedRows(opts.changeLimit ?? CHANGE_LIMIT);
    this.#lifecycle = new CappedRows(limit);
    this.#usage = new UsageTally(opts.origin ?? '');
  }

  add(e: ChainedEntry): void {
    if (e.index !== this.#next) this.#contiguous = false;
    this.#next = e.index + 1;
    const { receipt } = e;
    if (receipt.kind === 'decision') this.#crossings.decision(e); // a re-arm before --since still explains a crossing after it
    if (!matchesQuery({ since: this.#filter.since, until: this.#filter.until }, receipt)) return;
    this.#inRange(e);
    if (this.#section(e)) this.#samples.offer({ index: e.index, kind: receipt.kind, time: rfc3339FromMicros(receipt.time), leafHash: toHex(e.leafHash) });
  }

  #inRange(e: ChainedEntry): void {
    const r = this.#range;
    const time = rfc3339FromMicros(e.receipt.time);
    if (r.first === null) Object.assign(r, { first: e.index, firstTime: time });
    Object.assign(r, { last: e.index, lastTime: time, entries: r.entries + 1 });
  }

  /** Counts the entry in its section; false when it is out of scope (another tenant's). */
  #section(e: ChainedEntry): boolean {
    const { kind, body } = e.receipt;
    if (kind === 'reconcile') return this.#reconcile(e);
    if (kind === 'lifecycle') return (this.#lifecycle.add(() => lifecycleEvent(e)), true);
    if (!matchesQuery({ ...this.#filter, kind }, e.receipt)) return false;
    this.#usage.add(kind, body);
    if (kind === 'threshold') {
      const row = this.#crossings.crossing(e); // every crossing, so a repeat past the list's cap is still explained
      this.#thresholds.add(() => row);
    } else if (kind === 'admission') this.#admissions.add(outcome(body));
    else if (isPeek(body)) this.#decisions.peek(body.allowed === true);
    else this.#decisions.add({ ...outcome(body), unknownTenant: body.reason === UNKNOWN_TENANT });
    return true;
  }

  #reconcile(e: ChainedEntry): boolean {
    const { body } = e.receipt;
    if (this.#filter.tenant !== undefined && body.resource !== tenantResource(this.#filter.tenant)) return false;
    this.#policyChanges.add(() => policyChange(e, this.#patchLimit));
    return true;
  }

  tally(): AuditTally {
    return {
      entriesRead: this.#next,
      contiguous: this.#contiguous,
      range: { ...this.#range },
      decisions: this.#decisions.result(),
      admissions: this.#admissions.result(),
      thresholds: this.#thresholds.result(),
      policyChanges: this.#policyChanges.result(),
      lifecycle: this.#lifecycle.result(),
      usage: this.#usage.rows(),
    };
  }

  /** Up to `n` entries in scope, evenly spaced from the first to the last. */
  sample(n: number): SampleCandidate[] {
    return this.#samples.pick(n);
  }
}
