// What a reading of the log yields, as data: counts by outcome, threshold crossings, policy changes, lifecycle
// events. Every field is JSON-ready (hashes as hex, times as RFC 3339): the audit report prints these as they
// are, and the dashboard renders them. Pure.
import type { UsageRow } from './usage-tally.ts';

export interface OutcomeCounts {
  total: number;
  allowed: number;
  denied: number;
}

/** Counts for one tenant or reason; `key` null: receipts without one (an admission of a non-tenant object). */
export interface CountRow extends OutcomeCounts {
  key: string | null;
}

/** Receipts counted by outcome, by tenant and by reason; rows sorted by total, largest first. */
export interface OutcomeTallyResult extends OutcomeCounts {
  byTenant: CountRow[];
  byReason: CountRow[];
  /**
   * Consumes of amount 0 (peeks: they read usage and change nothing), counted apart from the decisions above:
   * a peek at a full quota answers allowed: false but refused nothing. Absent when there were none.
   */
  peeks?: OutcomeCounts;
  /**
   * Names asked about that were no tenant (reason UnknownTenant), apart from `byTenant`; they still count in the
   * totals and under their reason. Absent when there were none.
   */
  unknownTenants?: CountRow[];
}

/** The consume whose receipt re-armed a gauge's thresholds (its `rearmed` field) before a crossing. */
export interface Rearm {
  index: number;
  time: string;
  /** Usage after that consume, and the limit. */
  used: number;
  limit: number;
  /** The highest threshold still fired then (0: none): every threshold above it could fire again. */
  stillFired: number;
  /** In a deployment's report: the log the entry is in. */
  origin?: string;
}

export interface ThresholdCrossing {
  index: number;
  time: string;
  tenant: string;
  metric: string;
  /** The alertAt percentage crossed. */
  threshold: number;
  /** Whole percent of the limit used after the consumption. */
  percent: number;
  /** Usage after the consumption and the limit, as the receipt records them (absent in a receipt without them). */
  used?: number;
  limit?: number;
  /**
   * A gauge's threshold fires again only after usage fell back and re-armed it (README, "Threshold alerts"):
   * the consume that re-armed it since this counter's previous crossing, when the log holds it.
   */
  rearmed?: Rearm;
  /** In a deployment's report: the log the entry is in (its index is that log's). */
  origin?: string;
}

export interface PolicyChange {
  index: number;
  time: string;
  resource: string;
  /** The tenant of a `Tenant/<name>` resource. */
  tenant: string | null;
  /**
   * The receipt's `generation` (docs/receipts.md §3): the resource's metadata.generation, or in embedded mode the
   * policy generation; 0 when the resource is gone, and in logs of embedded mode before it recorded one.
   */
  generation: number;
  /** The RFC 7396 merge patch, pretty-printed JSON (`null`: the tenant was deleted); cut at a few KB. */
  patch: string;
  /** In a deployment's report: the log the entry is in (its index is that log's). */
  origin?: string;
}

export interface LifecycleEvent {
  index: number;
  time: string;
  event: string;
  version: string;
  /** In a deployment's report: the log the entry is in (its index is that log's). */
  origin?: string;
}

/** Entries whose time is in [since, until): the lowest and highest index, their count and times. */
export interface EntryRange {
  first: number | null;
  last: number | null;
  entries: number;
  firstTime: string | null;
  lastTime: string | null;
}

/** What the audit fold found: everything of the report that comes from the entries themselves. */
export interface AuditTally {
  entriesRead: number;
  contiguous: boolean;
  range: EntryRange;
  decisions: OutcomeTallyResult;
  admissions: OutcomeTallyResult;
  thresholds: { total: number; shown: ThresholdCrossing[] };
  policyChanges: { total: number; shown: PolicyChange[] };
  lifecycle: { total: number; shown: LifecycleEvent[] };
  /** Per counter in scope: the highest `used` recorded and the allowed consumes (usage-tally.ts). */
  usage: UsageRow[];
}
