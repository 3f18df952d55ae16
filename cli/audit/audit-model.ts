// The audit report as data: what `tai audit report` renders as HTML or prints as JSON. Every field is JSON-ready
// (hashes as hex, times as RFC 3339) so `--json` is this object as is. Pure: the clock, the proofs and the
// anchors come in as inputs.
import type { AuditTally, EntryRange, LifecycleEvent, OutcomeTallyResult, PolicyChange, ThresholdCrossing, UsageRow } from '../../ledger/index.ts';
import { reconcileQuery, queryCommand, type AuditScope } from './audit-scope.ts';

export type { AuditTally, CountRow, LifecycleEvent, OutcomeCounts, PolicyChange, Rearm, ThresholdCrossing, UsageRow } from '../../ledger/index.ts';

/** Format tag of the JSON form; bumped on incompatible changes. */
export const AUDIT_REPORT_FORMAT = 'tai.audit-report/v1';

/** A checkpoint stored in the anchor bucket: its tree size and root (hex), when it was stored and how late. */
export interface AnchorRecord {
  size: number;
  root: string;
  /** RFC 3339, when the bucket stored it. */
  storedAt?: string;
  /** Seconds from the last entry it covers being written to its upload. */
  lagSeconds?: number;
  /** In a deployment's report: the log it anchors. */
  origin?: string;
}

/** What the report read and what that proves: the signed checkpoint, the chain without gaps, the range. */
export interface Coverage {
  origin: string;
  /** Entries the checkpoint signs; all of them were read and verified. */
  size: number;
  /** The Merkle root (hex) the entries were recomputed to. */
  root: string;
  /** `name+keyid` of the pinned verifier key that signed the checkpoint. */
  signedBy: string;
  /** Always true in a report: a log that fails verification gets no report. */
  rootVerified: boolean;
  /** Indexes 0 … size−1 each read once, in order. */
  contiguous: boolean;
  /** Entries whose time is in [since, until): the lowest and highest index, their count and times. */
  range: EntryRange;
}

/** Decision or admission receipts in scope, counted; rows sorted by total, largest first. */
export interface OutcomeBreakdown extends OutcomeTallyResult {
  /** The `tai log query` command that lists them. */
  query: string;
}

/** The first `shown.length` of `total` items, in log order; `query` lists all of them. */
export interface CappedList<T> {
  total: number;
  shown: T[];
  query: string;
}

/** An RFC 9162 inclusion proof of one sampled entry against the checkpoint, verified before rendering. */
export interface SampleProof {
  index: number;
  kind: string;
  time: string;
  leafHash: string;
  treeSize: number;
  root: string;
  /** The audit path, lowest node first (hex). */
  path: string[];
  verified: boolean;
  /** In a deployment's report: the log the entry is in (its index is that log's). */
  origin?: string;
}

export interface AuditReport {
  format: typeof AUDIT_REPORT_FORMAT;
  generatedAt: string;
  scope: AuditScope;
  coverage: Coverage;
  anchors: AnchorRecord[];
  decisions: OutcomeBreakdown;
  admissions: OutcomeBreakdown;
  thresholds: CappedList<ThresholdCrossing>;
  policyChanges: CappedList<PolicyChange>;
  lifecycle: CappedList<LifecycleEvent>;
  samples: SampleProof[];
  /** A report over several logs (tai audit report --from LOG LOG…): each log, and usage per counter. */
  deployment?: Deployment;
}

/** One log of a deployment: its coverage, where it was read, and the log its first entry says it succeeds. */
export interface DeploymentLog extends Coverage {
  location: string;
  predecessor?: { origin: string; size: number; root: string };
}

/**
 * The logs of a deployment, each verified, every succession between them checked (a report is written only
 * then), and usage per counter across them. The report's `coverage` then sums them up: its `origin` names the
 * number of logs, `size` and `range.entries` are totals, `root` is empty and `range.first`/`last` are null.
 */
export interface Deployment {
  logs: DeploymentLog[];
  usage: UsageRow[];
}

/** What {@link buildAuditReport} assembles; everything that needed I/O or a clock is already here. */
export interface AuditReportInput {
  scope: AuditScope;
  tally: AuditTally;
  checkpoint: { origin: string; size: number; root: string };
  signedBy: string;
  samples: SampleProof[];
  /** RFC 3339, when the report was made. */
  generatedAt: string;
  anchors?: AnchorRecord[];
}

/** The report of a verified log: the tally, the checkpoint it was verified against, proofs and anchors. */
export function buildAuditReport(input: AuditReportInput): AuditReport {
  const { scope, tally, checkpoint } = input;
  return {
    format: AUDIT_REPORT_FORMAT,
    generatedAt: input.generatedAt,
    scope,
    coverage: {
      ...checkpoint,
      signedBy: input.signedBy,
      rootVerified: true,
      contiguous: tally.contiguous && tally.entriesRead === checkpoint.size,
      range: tally.range,
    },
    anchors: [...(input.anchors ?? [])].sort((a, b) => a.size - b.size),
    decisions: { ...tally.decisions, query: queryCommand(scope, 'decision') },
    admissions: { ...tally.admissions, query: queryCommand(scope, 'admission') },
    thresholds: { ...tally.thresholds, query: queryCommand(scope, 'threshold') },
    policyChanges: { ...tally.policyChanges, query: reconcileQuery(scope) },
    lifecycle: { ...tally.lifecycle, query: queryCommand(scope, 'lifecycle') },
    samples: input.samples,
  };
}
