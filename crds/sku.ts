import { z } from 'zod';
import { entitlementFields } from './entitlements.ts';
import { API_VERSION, commonStatus, objectMeta, objectName } from './meta.ts';

export const skuSpec = z
  .strictObject({
    displayName: z.string().max(256).optional().describe('Human-readable plan name shown in dashboards and reports.'),
    extends: objectName
      .optional()
      .describe('Name of a parent SKU. The parent chain is resolved root first, then this spec is merged over it.'),
    ...entitlementFields,
  })
  .describe('A plan: the features, quotas, rates and resource caps a tenant on it receives.');
export type SkuSpec = z.infer<typeof skuSpec>;

export const skuStatus = z.looseObject({ ...commonStatus }).describe('Observed state of the SKU.');

export const sku = z.strictObject({
  apiVersion: z.literal(API_VERSION),
  kind: z.literal('SKU'),
  metadata: objectMeta,
  spec: skuSpec,
  status: skuStatus.optional(),
});
export type Sku = z.infer<typeof sku>;
