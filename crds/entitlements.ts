import { z } from 'zod';
import { mapKey } from './meta.ts';
import { isQuantity } from './quantity.ts';

/** Largest integer a limit may take: JSON numbers past 2^53 lose precision. */
export const MAX_LIMIT = Number.MAX_SAFE_INTEGER;

/** A non-negative whole number that survives JSON and YAML round-trips exactly. */
const COUNT_RULE = `must be a whole number from 0 to ${MAX_LIMIT} (2^53-1)`;
export const count = z
  .int({ error: (i) => `${COUNT_RULE}, got ${i.input === undefined ? 'nothing' : JSON.stringify(i.input)}` })
  .nonnegative({ error: (i) => `${COUNT_RULE}, got ${String(i.input)}` })
  .max(MAX_LIMIT, { error: COUNT_RULE });

export const WINDOWS = ['none', 'minute', 'hour', 'day', 'week', 'month', 'year'] as const;
export type WindowUnit = (typeof WINDOWS)[number];
export const RESETS = ['calendar', 'anchor'] as const;
export type ResetMode = (typeof RESETS)[number];
export const ENFORCEMENTS = ['hard', 'soft', 'observe'] as const;
export type Enforcement = (typeof ENFORCEMENTS)[number];
export const QUOTA_KINDS = ['counter', 'gauge'] as const;
export type QuotaKind = (typeof QUOTA_KINDS)[number];

/** Defaults applied by the compiler, never by the API server (server defaults make Argo CD show drift). */
export const QUOTA_DEFAULTS = {
  kind: 'counter',
  window: 'month',
  reset: 'calendar',
  enforcement: 'hard',
  alertAt: [70, 90, 100],
} as const satisfies Omit<QuotaSpec, 'limit'>;

export const featureValue = z
  .union([z.boolean(), z.number().finite(), z.string().max(1024)])
  .meta({ 'x-kubernetes-preserve-unknown-fields': true })
  .describe('A boolean gate, a numeric allocation or a string setting.');
export type FeatureValue = z.infer<typeof featureValue>;

export const percent = z.int().min(1).max(100);

export const quotaSpec = z
  .strictObject({
    limit: count.describe('Units allowed per window (counter) or at once (gauge). A whole number, at most 2^53-1.'),
    kind: z
      .enum(QUOTA_KINDS)
      .optional()
      .describe('counter: usage accumulates over the window. gauge: a current allocation (consume +n, release -n), no window. Default counter.'),
    window: z.enum(WINDOWS).optional().describe('Window over which a counter accumulates. Default month; ignored for gauges.'),
    reset: z
      .enum(RESETS)
      .optional()
      .describe("calendar: windows start on UTC boundaries. anchor: windows start at the tenant's billingAnchor. Default calendar."),
    enforcement: z
      .enum(ENFORCEMENTS)
      .optional()
      .describe('hard: deny past the limit. soft: allow and mark overage. observe: allow and record. Default hard.'),
    alertAt: z
      .array(percent)
      .max(10)
      .optional()
      .describe('Percentages of the limit (1-100) that raise a threshold event once per window. Default [70, 90, 100].'),
  })
  .meta({
    'x-kubernetes-validations': [
      { rule: '!has(self.alertAt) || self.alertAt.all(p, p >= 1 && p <= 100)', message: 'alertAt percentages must be between 1 and 100' },
    ],
  })
  .describe('A metered limit.');
export type QuotaSpec = z.infer<typeof quotaSpec>;

export const rateSpec = z
  .strictObject({
    perSecond: count.min(1).describe('Tokens added per second.'),
    burst: count.min(1).optional().describe('Bucket capacity; default perSecond.'),
  })
  .describe('A token bucket.');
export type RateSpec = z.infer<typeof rateSpec>;

export const quantityValue = z
  .union([count, z.string()])
  .refine((v) => isQuantity(v), { message: 'must be a Kubernetes quantity such as 10, "500m", "64" or "256Gi"' })
  .meta({ 'x-kubernetes-int-or-string': true })
  .describe('A Kubernetes quantity: a count, cores, or bytes.');

/** The resource names a cap may name, after Kubernetes ResourceQuota. */
export const RESOURCE_NAME = /^(namespaces|services\.loadbalancers|services\.nodeports|requests\.(cpu|memory|storage|ephemeral-storage)|limits\.(cpu|memory|ephemeral-storage)|count\/[a-z0-9.-]+)$/;
export const resourceName = z.string().regex(RESOURCE_NAME, {
  message: 'must be namespaces, count/<resource>, requests.cpu, requests.memory, requests.storage, limits.cpu, limits.memory or services.loadbalancers',
});

/** Most entries one map may hold: bounds memory per tenant and the API server's CEL cost estimate. */
export const MAX_ENTRIES = 256;

/** A bounded map: `maxProperties` in the CRD, the same limit offline. */
function boundedMap<K extends z.core.$ZodType<string>, V extends z.ZodType>(key: K, value: V) {
  return z
    .record(key, value)
    .refine((m) => Object.keys(m).length <= MAX_ENTRIES, { message: `at most ${MAX_ENTRIES} entries` })
    .meta({ maxProperties: MAX_ENTRIES });
}

/** The four maps an SKU grants; also the shape a Tenant's overrides patch. */
export const entitlementFields = {
  features: boundedMap(mapKey, featureValue)
    .optional()
    .describe('Boolean gates, numeric allocations or string settings, by feature name.'),
  quotas: boundedMap(mapKey, quotaSpec).optional().describe('Metered limits, by metric name.'),
  rates: boundedMap(mapKey, rateSpec).optional().describe('Token-bucket rate limits, by name.'),
  resources: boundedMap(resourceName, quantityValue)
    .optional()
    .describe("Caps summed over all of the tenant's namespaces, enforced at admission (namespaces, count/pods, requests.cpu, ...)."),
};

/** The resolved entitlements document a merge patch applies to. */
export const entitlementsDocument = z.strictObject(entitlementFields);
export type EntitlementsDocument = z.infer<typeof entitlementsDocument>;
