import type { FeatureValue } from '../crds/index.ts';

/** Why a decision came out as it did (design §4). CamelCase, stable on the wire. */
export type CheckReason = 'Allowed' | 'UnknownTenant' | 'TenantSuspended' | 'FeatureNotEntitled';
/** Every ConsumeReason, to check one read back from a receipt. */
export const CONSUME_REASONS = ['Allowed', 'AllowedOverage', 'QuotaExceeded', 'UnknownTenant', 'TenantSuspended', 'UnknownMetric', 'CountersUnavailable'] as const;
export type ConsumeReason = (typeof CONSUME_REASONS)[number];
/** CountersUnavailable: the shared counters could not be reached; hard quotas deny, the rest allow uncounted (design §12). */
export type RateReason = 'Allowed' | 'RateLimited' | 'UnknownTenant' | 'TenantSuspended' | 'UnknownMetric' | 'CountersUnavailable';
export type Reason = CheckReason | ConsumeReason | RateReason;

export interface CheckRequest {
  op?: 'check';
  tenant: string;
  feature: string;
}

export interface ConsumeRequest {
  op?: 'consume';
  tenant: string;
  metric: string;
  /** A safe integer. 0 peeks; negative releases a gauge (an error for counters). */
  amount: number;
  idempotencyKey?: string | undefined;
}

export interface RateRequest {
  op?: 'rate';
  tenant: string;
  name: string;
  /** Tokens to take, a safe integer ≥ 0; default 1. */
  cost?: number | undefined;
}

/** One item of a batch, tagged with its operation. */
export type DecisionRequest =
  | (CheckRequest & { op: 'check' })
  | (ConsumeRequest & { op: 'consume' })
  | (RateRequest & { op: 'rate' });

/** Fields every decision carries. `policy` is the digest of the tenant's compiled entitlements; absent only for UnknownTenant. */
interface DecisionBase {
  tenant: string;
  allowed: boolean;
  policy?: string;
}

export interface CheckDecision extends DecisionBase {
  op: 'check';
  feature: string;
  reason: CheckReason;
  /** The feature's value, whenever the tenant has the feature (also when it is `false`). */
  value?: FeatureValue;
}

/** A threshold fired by a consumption: announced once per window (design §3). */
export interface ThresholdCrossing {
  /** The alertAt percentage crossed. */
  threshold: number;
  /** Whole percent of the limit used after the consumption (100 for a limit of 0). */
  percent: number;
  used: number;
  limit: number;
  /** Start of the window (ms since the epoch), or null for gauges and metrics without a window. */
  windowStart: number | null;
}

export interface ConsumeDecision extends DecisionBase {
  op: 'consume';
  metric: string;
  amount: number;
  reason: ConsumeReason;
  /** Usage after the decision (unchanged when denied). 0 when the metric is unknown. */
  used: number;
  limit: number;
  /** max(0, limit − used). */
  remaining: number;
  /** When the window ends (RFC 3339 UTC), or null without a window. */
  resetsAt: string | null;
  /**
   * When the window counted in began, ms since the epoch (as in the crossing and the receipt), or null without a
   * window. Only the HTTP answer writes it as RFC 3339 text.
   */
  windowStart: number | null;
  crossing?: ThresholdCrossing;
  /**
   * A gauge that fell back re-armed thresholds: the highest one still fired after this decision (0 when none),
   * present only when it was lowered and nothing fired. Recorded so that a restart re-arms the same thresholds.
   */
  rearmed?: number;
}

export interface RateDecision extends DecisionBase {
  op: 'rate';
  name: string;
  cost: number;
  reason: RateReason;
  /** Whole tokens left. */
  remaining: number;
  /** 0 when allowed; ms until `cost` tokens exist; -1 when cost exceeds the burst (never). */
  retryAfterMs: number;
}

export type Decision = CheckDecision | ConsumeDecision | RateDecision;
