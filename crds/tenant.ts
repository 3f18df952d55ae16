import { z } from 'zod';
import { count } from './entitlements.ts';
import { API_VERSION, commonStatus, labelSelector, objectMeta, objectName, timestamp } from './meta.ts';

export const addOn = z.strictObject({
  sku: objectName.describe('Name of the add-on SKU.'),
  quantity: count.min(1).optional().describe('How many units of the add-on: numbers add limit × quantity, booleans OR. Default 1.'),
});

const patchMap = z
  .record(z.string(), z.unknown())
  .meta({ 'x-kubernetes-preserve-unknown-fields': true })
  .optional();

export const overrides = z
  .strictObject({
    features: patchMap.describe('Merge patch over the resolved features; null removes a feature.'),
    quotas: patchMap.describe('Merge patch over the resolved quotas, e.g. {api-calls: {limit: 2000000}}; null removes a quota.'),
    rates: patchMap.describe('Merge patch over the resolved rates; null removes a rate.'),
    resources: patchMap.describe('Merge patch over the resolved resource caps; null removes a cap.'),
  })
  .describe(
    'An RFC 7396 JSON merge patch applied over the entitlements resolved from the SKU chain and add-ons. ' +
      'Objects merge key by key, other values replace, null deletes. Applied before Quota resources.',
  );

export const tenantSpec = z
  .strictObject({
    sku: objectName.describe('Name of the SKU (plan) this tenant is on.'),
    addOns: z.array(addOn).max(64).optional().describe('Add-on SKUs stacked on the plan.'),
    suspended: z.boolean().optional().describe('A suspended tenant is denied every decision and every admission.'),
    billingAnchor: timestamp
      .optional()
      .describe('Start of the billing cycle; quotas with reset: anchor start their windows here (day 31 clamps to the month end).'),
    namespaceSelector: labelSelector
      .optional()
      .describe("Selects the tenant's namespaces. Default: matchLabels {tai.dev/tenant: <name>}."),
    overrides: overrides.optional(),
  })
  .describe('A customer of the SaaS: its plan, add-ons and per-tenant overrides.');
export type TenantSpec = z.infer<typeof tenantSpec>;

export const usageSummary = z.strictObject({
  metric: z.string().describe('Metric name.'),
  used: z.int().describe('Units used in the current window.'),
  limit: z.int().describe('Effective limit.'),
  percent: z.int().describe('used × 100 / limit, rounded down.'),
  resetsAt: z.string().optional().describe('When the current window ends; absent for gauges and window none.'),
});

export const tenantStatus = z
  .looseObject({
    ...commonStatus,
    namespaces: z.int().nonnegative().optional().describe("Number of the tenant's namespaces."),
    usagePercent: z.int().nonnegative().optional().describe('Highest usage percentage over all quotas.'),
    usage: z.array(usageSummary).optional().describe('Usage per metric, refreshed at most every 10 s.'),
  })
  .describe('Observed state of the tenant.');

export const tenant = z.strictObject({
  apiVersion: z.literal(API_VERSION),
  kind: z.literal('Tenant'),
  metadata: objectMeta,
  spec: tenantSpec,
  status: tenantStatus.optional(),
});
export type Tenant = z.infer<typeof tenant>;
