// Folds the entries of a log, as verifyLog hands them over, into the audit report's counts and lists. Memory is
// bounded by tenants, reasons and the list caps, not by the log's length. Pure.
import { toHex, type ChainedEntry, type ReceiptBody, type ReceiptKind } from '../../receipts/index.ts';
import { matchesQuery, type QueryFilter } from '../log-query.ts';
import { jsonSafe } from '../log-subcommand.ts';
import { rfc3339FromMicros } from '../rfc3339.ts';
import type { AuditTally, Coverage, LifecycleEvent, PolicyChange, ThresholdCrossing } from './audit-model.ts';
import { tenantResource } from './audit-scope.ts';
import { EvenSample } from './even-sample.ts';
import { OutcomeTally } from './outcome-tally.ts';
import { UsageTally } from './usage-tally.ts';

/** An entry in scope chosen for an inclusion proof. */
export interface SampleCandidate {
  index: number;
  kind: ReceiptKind;
  time: string;
  leafHash: string;
}

/** The first `limit` rows, and how many there were. */
class CappedRows<T> {
  total = 0;
  readonly shown: T[] = [];
  readonly #limit: number;

  constructor(limit: number) {
    this.#limit = limit;
  }

  add(make: () => T): void {
    this.total++;
    if (this.shown.length < this.#limit) this.shown.push(make());
  }
}

/** Rows kept of the threshold crossings and of the lifecycle events, and policy changes kept, by default. */
export const LIST_LIMIT = 50;
export const CHANGE_LIMIT = 20;

const text = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(jsonSafe(v)) ?? '');
const int = (v: unknown): number => (typeof v === 'number' ? v : Number(v));

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
 */
export class AuditFold {
  readonly #filter: QueryFilter;
  readonly #patchLimit: number;
  #next = 0;
  #contiguous = true;
  readonly #range: Coverage['range'] = { first: null, last: null, entries: 0, firstTime: null, lastTime: null };
  readonly #decisions = new OutcomeTally();
  readonly #admissions = new OutcomeTally();
  readonly #thresholds: CappedRows<ThresholdCrossing>;
  readonly #policyChanges: CappedRows<PolicyChange>;
  readonly #lifecycle: CappedRows<LifecycleEvent>;
  readonly #samples = new EvenSample<SampleCandidate>();
  readonly #usage: UsageTally;

  constructor(opts: AuditFoldOptions) {
    this.#filter = { tenant: opts.filter.tenant, since: opts.filter.since, until: opts.filter.until };
    this.#patchLimit = opts.patchLimit ?? 4000;
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
    if (kind === 'lifecycle') return (this.#lifecycle.add(() => ({ index: e.index, time: rfc3339FromMicros(e.receipt.time), event: text(body.event), version: text(body.version) })), true);
    if (!matchesQuery({ ...this.#filter, kind }, e.receipt)) return false;
    this.#usage.add(kind, body);
    if (kind === 'threshold') this.#thresholds.add(() => threshold(e));
    else (kind === 'decision' ? this.#decisions : this.#admissions).add(outcome(body));
    return true;
  }

  #reconcile(e: ChainedEntry): boolean {
    const { body } = e.receipt;
    if (this.#filter.tenant !== undefined && body.resource !== tenantResource(this.#filter.tenant)) return false;
    this.#policyChanges.add(() => policyChange(e, this.#patchLimit));
    return true;
  }

  tally(): AuditTally {
    const list = <T>(rows: CappedRows<T>): { total: number; shown: T[] } => ({ total: rows.total, shown: [...rows.shown] });
    return {
      entriesRead: this.#next,
      contiguous: this.#contiguous,
      range: { ...this.#range },
      decisions: this.#decisions.result(),
      admissions: this.#admissions.result(),
      thresholds: list(this.#thresholds),
      policyChanges: list(this.#policyChanges),
      lifecycle: list(this.#lifecycle),
      usage: this.#usage.rows(),
    };
  }

  /** Up to `n` entries in scope, evenly spaced from the first to the last. */
  sample(n: number): SampleCandidate[] {
    return this.#samples.pick(n);
  }
}

function outcome(body: ReceiptBody): { tenant: string | null; allowed: boolean; reason: string } {
  return { tenant: typeof body.tenant === 'string' ? body.tenant : null, allowed: body.allowed === true, reason: text(body.reason) };
}

function threshold(e: ChainedEntry): ThresholdCrossing {
  const { body, time } = e.receipt;
  return { index: e.index, time: rfc3339FromMicros(time), tenant: text(body.tenant), metric: text(body.metric), threshold: int(body.threshold), percent: int(body.percent) };
}

function policyChange(e: ChainedEntry, patchLimit: number): PolicyChange {
  const { body, time } = e.receipt;
  const resource = text(body.resource);
  const pretty = JSON.stringify(jsonSafe(body.patch ?? null), null, 2);
  const patch = pretty.length > patchLimit ? `${pretty.slice(0, patchLimit)}\n… (${pretty.length - patchLimit} more characters: tai log show ${e.index})` : pretty;
  const tenant = resource.startsWith('Tenant/') ? resource.slice('Tenant/'.length) : null;
  return { index: e.index, time: rfc3339FromMicros(time), resource, tenant, generation: int(body.generation), patch };
}
