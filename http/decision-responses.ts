import { z } from 'zod';
import { ENFORCEMENTS, QUOTA_KINDS, RESETS, WINDOWS } from '../crds/index.ts';
import type {
  CheckDecision,
  CheckReason,
  ConsumeDecision,
  ConsumeReason,
  EffectiveDocument,
  ProvenanceStep,
  RateDecision,
  RateReason,
  TenantExplanation,
  ThresholdCrossing,
} from '../governor/index.ts';
import type { DecisionAnswer, WireAnswer } from './decision-api.ts';
import type { Readiness } from '../readiness/index.ts';
import type { Problem } from './problem.ts';
import type { ReceiptRef } from '../recording/recorded-governor.ts';

/**
 * The answers of the HTTP API (design §4) as zod schemas: the source of /openapi.json and what the typed client
 * validates answers with. Objects are not strict: the server may add fields, never change these.
 */

const hex256 = (what: string) => z.string().regex(/^[0-9a-f]{64}$/, `${what} must be 64 lowercase hex digits`);
const rfc3339 = z.iso.datetime();
const featureValue = z.union([z.boolean(), z.number(), z.string()]).describe('A boolean gate, a numeric allocation or a string setting.');

export const checkReason = z
  .enum(['Allowed', 'UnknownTenant', 'TenantSuspended', 'FeatureNotEntitled'])
  .describe('Why the check came out as it did.');
export const consumeReason = z
  .enum(['Allowed', 'AllowedOverage', 'QuotaExceeded', 'UnknownTenant', 'TenantSuspended', 'UnknownMetric', 'CountersUnavailable'])
  .describe(
    'Why the consumption came out as it did; AllowedOverage is a soft quota past its limit; CountersUnavailable: the shared counters could not be reached (a hard quota denies, soft and observe allow without counting).',
  );
export const rateReason = z
  .enum(['Allowed', 'RateLimited', 'UnknownTenant', 'TenantSuspended', 'UnknownMetric', 'CountersUnavailable'])
  .describe('Why the rate decision came out as it did; CountersUnavailable: the shared counters could not be reached and the rate limit failed open.');

export const receiptRef = z
  .object({
    index: z.int().nonnegative().describe("The receipt's position in the log, from 0."),
    leafHash: hex256('leafHash').describe('SHA-256(0x00 ‖ entry bytes) of the receipt, hex: what an inclusion proof proves.'),
    origin: z
      .string()
      .optional()
      .describe("The origin of the log holding the receipt, when replicas share counters: a retried idempotency key answered by another replica names the first replica's log."),
  })
  .describe("Where the decision's receipt sits in the receipt log.");

const decisionBase = {
  tenant: z.string().describe('The tenant asked about, as sent.'),
  allowed: z.boolean().describe('Whether the action may go ahead. A denial is a decision, not an error.'),
  policy: hex256('policy').optional().describe("Hex SHA-256 of the tenant's compiled entitlements that decided; absent for UnknownTenant."),
  receipt: receiptRef.optional().describe('The receipt recording this decision; present whenever the server records receipts (tai serve always does).'),
};

export const checkDecision = z
  .object({
    op: z.literal('check').describe('The operation answered.'),
    ...decisionBase,
    feature: z.string().describe('The feature asked about.'),
    reason: checkReason,
    value: featureValue.optional().describe("The feature's value whenever the tenant has the feature (also when it is false)."),
  })
  .describe('The answer to a check: may the tenant use a feature?');

export const thresholdCrossing = z
  .object({
    threshold: z.int().min(1).max(100).describe('The alertAt percentage crossed.'),
    percent: z.int().nonnegative().describe('Whole percent of the limit used after the consumption (100 for a limit of 0).'),
    used: z.int().describe('Usage after the consumption.'),
    limit: z.int().nonnegative().describe('The effective limit.'),
    windowStart: z.int().nullable().describe('Start of the window, ms since the epoch; null for gauges and metrics without a window.'),
  })
  .describe('A threshold this consumption crossed; announced once per window.');

export const consumeDecision = z
  .object({
    op: z.literal('consume').describe('The operation answered.'),
    ...decisionBase,
    metric: z.string().describe('The metric consumed.'),
    amount: z.int().describe('Units asked for: 0 peeks, negative releases a gauge.'),
    reason: consumeReason,
    used: z.int().describe('Usage after the decision (unchanged when denied); 0 when the metric is unknown.'),
    limit: z.int().nonnegative().describe('The effective limit.'),
    remaining: z.int().nonnegative().describe('max(0, limit − used).'),
    resetsAt: rfc3339.nullable().describe('When the window ends (RFC 3339 UTC); null without a window.'),
    windowStart: rfc3339.nullable().describe('When the window counted in began (RFC 3339 UTC); null without a window.'),
    crossing: thresholdCrossing.optional().describe('Present when this consumption crossed an alertAt threshold.'),
    rearmed: z
      .int()
      .min(0)
      .max(100)
      .optional()
      .describe('A gauge fell back and re-armed thresholds: the highest alertAt percentage still fired (0 when none); the ones above may fire again.'),
  })
  .describe('The answer to a consume: may the tenant use this many units of a metered quota?');

export const rateDecision = z
  .object({
    op: z.literal('rate').describe('The operation answered.'),
    ...decisionBase,
    name: z.string().describe('The rate (token bucket) asked about.'),
    cost: z.int().nonnegative().describe('Tokens asked for.'),
    reason: rateReason,
    remaining: z.int().nonnegative().describe('Whole tokens left in the bucket.'),
    retryAfterMs: z.int().min(-1).describe('0 when allowed; ms until cost tokens exist; -1 when cost exceeds the burst (never).'),
  })
  .describe('The answer to a rate: may the tenant take tokens from a token bucket?');

export const batchResults = z
  .object({
    results: z
      .array(z.discriminatedUnion('op', [checkDecision, consumeDecision, rateDecision]))
      .describe('One answer per requested decision, in the order asked.'),
  })
  .describe('The answers to a batch.');

const quotaPolicy = {
  kind: z.enum(QUOTA_KINDS).describe('counter accumulates over the window; gauge is a current allocation.'),
  window: z.enum(WINDOWS).describe('Window over which a counter accumulates.'),
  reset: z.enum(RESETS).describe('calendar: windows start on UTC boundaries; anchor: at the billing anchor.'),
  enforcement: z.enum(ENFORCEMENTS).describe('hard denies past the limit; soft allows and marks overage; observe allows.'),
  alertAt: z.array(z.int().min(1).max(100)).readonly().describe('Percentages of the limit that raise a threshold event once per window.'),
};

export const entitlementsDocument = z
  .object({
    tenant: z.string().describe('The tenant.'),
    digest: hex256('digest').describe('Hex SHA-256 of these entitlements; decisions name their policy by it.'),
    sku: z.string().describe('The SKU (plan) the tenant is on.'),
    suspended: z.boolean().describe('A suspended tenant is denied every decision.'),
    billingAnchor: rfc3339.optional().describe('Start of the billing cycle (RFC 3339 UTC), when the tenant has one.'),
    features: z.record(z.string(), featureValue).describe('Feature values, by feature name.'),
    quotas: z
      .record(z.string(), z.object({ limit: z.int().nonnegative().describe('Units allowed per window or at once.'), ...quotaPolicy }).describe('A metered limit.'))
      .describe('Effective quotas, by metric name.'),
    rates: z
      .record(
        z.string(),
        z.object({ perSecond: z.int().positive().describe('Tokens added per second.'), burst: z.int().positive().describe('Bucket capacity.') }).describe('A token bucket.'),
      )
      .describe('Effective rates, by name.'),
    resources: z.record(z.string(), z.string().describe('A Kubernetes quantity as written, e.g. "256Gi".')).describe('Resource caps enforced at admission, by resource name.'),
  })
  .describe("A tenant's effective entitlements, without provenance.");

export const provenanceStep = z
  .object({
    source: z.string().describe('The resource that contributed: SKU/growth, Tenant/acme overrides, Quota/acme-black-friday.'),
    op: z.enum(['set', 'add', 'or', 'unset']).describe('set replaced the value, add added to it, or is a boolean OR, unset removed it.'),
    value: z.unknown().describe('The value this step contributed.'),
  })
  .describe('One step in how an effective value was reached.');

const explained = {
  value: z.unknown().describe('The effective value.'),
  explain: z.string().describe('The sentence saying where the value came from, e.g. "api-calls limit 25 = SKU/growth 10, Quota/bf +15".'),
  trace: z.array(provenanceStep).readonly().describe('The steps that produced the value, in order.'),
};
const explainedValue = z.object(explained).describe('A value with its provenance.');

export const tenantExplanation = z
  .object({
    tenant: z.string().describe('The tenant.'),
    sku: z.string().describe('The SKU (plan) the tenant is on.'),
    suspended: z.boolean().describe('A suspended tenant is denied every decision.'),
    digest: hex256('digest').describe('Hex SHA-256 of the effective entitlements.'),
    features: z.record(z.string(), explainedValue).describe('Features with provenance, by name.'),
    quotas: z
      .record(z.string(), z.object({ ...explained, policy: z.object(quotaPolicy).describe('How the quota counts and enforces.') }).describe('A quota limit with provenance.'))
      .describe('Quota limits with provenance, by metric name.'),
    rates: z
      .record(z.string(), z.object({ ...explained, burst: z.int().positive().describe('Bucket capacity.') }).describe('A rate (perSecond) with provenance.'))
      .describe('Rates with provenance, by name.'),
    resources: z.record(z.string(), explainedValue).describe('Resource caps with provenance, by resource name.'),
  })
  .describe("A tenant's effective entitlements, each value with the sentence and trace that explain it (?explain=1).");

export const readinessAnswer = z
  .object({
    status: z.enum(['ready', 'not ready']).describe('ready once a first policy snapshot is served, while the receipt log can write and publishing works.'),
    ready: z.boolean().describe('Whether decisions are being served from a policy snapshot and recorded in the log.'),
    generation: z.int().nonnegative().describe('Compile generation being served.'),
    tenants: z.int().nonnegative().describe('Tenants in the snapshot.'),
    problems: z.int().nonnegative().describe('Policy source problems keeping the last good state in service.'),
    staleMs: z.int().nonnegative().describe('ms since the policy source was last known good; 0 when healthy.'),
    source: z.string().describe('Where policy comes from.'),
    operator: z
      .object({
        leader: z.boolean().describe('Whether this replica holds the leader Lease.'),
        statusWrites: z.int().nonnegative().describe('Status writes made as leader.'),
        events: z.int().nonnegative().describe('Events emitted as leader.'),
      })
      .optional()
      .describe('Cluster mode only: leadership and what this replica wrote as leader.'),
    log: z
      .object({
        writable: z.boolean().describe('Whether the receipt log can write; while it cannot, the server is not ready and decisions answer 503.'),
        error: z.string().optional().describe('The last write or fdatasync error (e.g. ENOSPC).'),
        failingSince: z.string().optional().describe('RFC 3339: when writing first failed.'),
        pendingEntries: z.int().nonnegative().optional().describe('Entries made but not on disk yet, rewritten at each retry.'),
        attempts: z.int().nonnegative().optional().describe('Write attempts so far, the failed write included.'),
      })
      .optional()
      .describe('The receipt log. The server retries writing by itself and is ready again once it succeeds.'),
    publish: z
      .object({
        publishing: z.boolean().describe('False once every publish (one a second) has failed for more than 5 s: the server is then not ready.'),
        error: z.string().optional().describe('While publishing fails: the last error (e.g. a TileConflictError, ENOSPC).'),
        failingSince: z.string().optional().describe('RFC 3339: when publishing first failed.'),
        failures: z.int().nonnegative().optional().describe('Failed publishes so far in this outage.'),
      })
      .optional()
      .describe('Publishing the tiles and signed checkpoint. Retried every second; ready again once a publish succeeds.'),
    counters: z
      .object({
        connected: z.boolean().describe('Whether the connection to the shared counters is up; while it is not, decisions answer CountersUnavailable.'),
        latencyMs: z.number().nonnegative().describe('Round-trip time of recent calls (moving average), ms; 0 before the first.'),
        error: z.string().optional().describe('The last call that failed, while it is the latest outcome.'),
        state: z
          .enum(['ready', 'restoring', 'unknown'])
          .describe("ready while counting; restoring while counters the store lost are rebuilt from the replicas' logs (hard quotas deny meanwhile); unknown before the first check."),
        waitingFor: z.array(z.string()).optional().describe('While restoring: the replicas (log origins) whose logs are awaited.'),
      })
      .optional()
      .describe('With --counters only: the shared counters (Redis/Valkey). Informational: the server stays ready while they are down.'),
  })
  .describe('Readiness: 200 when ready, 503 when not (same body).');

export const healthAnswer = z.object({ status: z.literal('ok').describe('The process answers.') }).describe('Liveness.');

export const problemDetails = z
  .object({
    type: z.string().describe('A URI naming the kind of problem, e.g. https://tai.dev/problems/invalid-request.'),
    title: z.string().describe('A short summary of the kind of problem.'),
    status: z.int().min(400).max(599).describe('The HTTP status code.'),
    detail: z.string().describe('What went wrong with this request, naming the field and the fix.'),
    instance: z.string().optional().describe('The request path.'),
  })
  .describe('An RFC 9457 problem detail (application/problem+json).');

// Drift checks: tsc fails when a governor type and its wire schema stop describing the same shape. `Same` is
// mutual assignability. Where the governor types a value loosely (quota kind/window/... as string, feature values
// as unknown) the wire schema is narrower: `Narrows` checks the same keys both ways and every wire value valid.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Narrows<Wire, Gov> = Same<keyof Wire, keyof Gov> extends true ? ([Wire] extends [Gov] ? true : false) : false;
type Assert<T extends true> = T;
type Out<S extends z.ZodType> = z.output<S>;
type Answer<S extends z.ZodType> = Omit<Out<S>, 'receipt'>;
type WireEntitlements = Out<typeof entitlementsDocument>;
type WireExplanation = Out<typeof tenantExplanation>;
type Entry<R> = R extends Readonly<Record<string, infer V>> ? V : never;
export type _WireDrift = [
  Assert<Same<Out<typeof checkReason>, CheckReason>>,
  Assert<Same<Out<typeof consumeReason>, ConsumeReason>>,
  Assert<Same<Out<typeof rateReason>, RateReason>>,
  Assert<Same<Out<typeof receiptRef>, ReceiptRef>>,
  Assert<Same<Answer<typeof checkDecision>, CheckDecision>>,
  Assert<Same<Answer<typeof consumeDecision>, Omit<WireAnswer<ConsumeDecision>, 'receipt'>>>,
  Assert<Same<Answer<typeof rateDecision>, RateDecision>>,
  Assert<Same<Out<typeof checkDecision>, DecisionAnswer<CheckDecision>>>,
  Assert<Same<Out<typeof consumeDecision>, WireAnswer<ConsumeDecision>>>,
  Assert<Same<Out<typeof rateDecision>, DecisionAnswer<RateDecision>>>,
  Assert<Same<Out<typeof thresholdCrossing>, ThresholdCrossing>>,
  Assert<Same<Out<typeof provenanceStep>, ProvenanceStep>>,
  Assert<Same<Out<typeof readinessAnswer>, Readiness & { status: 'ready' | 'not ready' }>>,
  Assert<Same<Out<typeof problemDetails>, Problem>>,
  Assert<Narrows<Omit<WireEntitlements, 'tenant' | 'digest'>, EffectiveDocument>>,
  Assert<Same<Omit<WireEntitlements, 'tenant' | 'digest' | 'features' | 'quotas'>, Omit<EffectiveDocument, 'features' | 'quotas'>>>,
  Assert<Narrows<Entry<WireEntitlements['quotas']>, Entry<EffectiveDocument['quotas']>>>,
  Assert<Narrows<WireExplanation, TenantExplanation>>,
  Assert<Same<Omit<WireExplanation, 'quotas'>, Omit<TenantExplanation, 'quotas'>>>,
  Assert<Narrows<Entry<WireExplanation['quotas']>['policy'], Entry<TenantExplanation['quotas']>['policy']>>,
];
