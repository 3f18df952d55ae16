import { z } from 'zod';
import { count } from './entitlements.ts';
import { API_VERSION, commonStatus, labelSelector, mapKey, objectMeta, objectName, timestamp } from './meta.ts';

export const QUOTA_MODES = ['add', 'replace'] as const;
export type QuotaMode = (typeof QUOTA_MODES)[number];

export const quotaGrantSpec = z
  .strictObject({
    tenant: objectName.optional().describe('The tenant this grant applies to. Exactly one of tenant and tenantSelector.'),
    tenantSelector: labelSelector.optional().describe('Tenants (by label) this grant applies to. Exactly one of tenant and tenantSelector.'),
    metric: mapKey.describe("Metric to change; it must exist in the tenant's resolved quotas."),
    mode: z.enum(QUOTA_MODES).optional().describe('add: on top of the resolved limit. replace: instead of it. Default add.'),
    limit: count.describe('Units added or the replacing limit. A whole number, at most 2^53-1.'),
    validFrom: timestamp.optional().describe('Start of the grant (inclusive). Default: always.'),
    validUntil: timestamp.optional().describe('End of the grant (exclusive). Default: never.'),
  })
  .meta({
    'x-kubernetes-validations': [
      { rule: 'has(self.tenant) != has(self.tenantSelector)', message: 'set exactly one of tenant and tenantSelector' },
      {
        rule: '!has(self.validFrom) || !has(self.validUntil) || timestamp(self.validUntil) > timestamp(self.validFrom)',
        message: 'validUntil must be after validFrom',
      },
    ],
  })
  .describe('A grant or override of one metric for one tenant or a label-selected set, optionally time-boxed.');
export type QuotaGrantSpec = z.infer<typeof quotaGrantSpec>;

/** The cross-field rules the CEL validations state, for offline validation. */
export const quotaGrantRules = quotaGrantSpec
  .refine((s) => (s.tenant === undefined) !== (s.tenantSelector === undefined), {
    message: 'set exactly one of tenant and tenantSelector',
    path: ['tenant'],
  })
  .refine((s) => !s.validFrom || !s.validUntil || Date.parse(s.validUntil) > Date.parse(s.validFrom), {
    message: 'validUntil must be after validFrom',
    path: ['validUntil'],
  });

export const quotaStatus = z
  .looseObject({
    ...commonStatus,
    active: z.boolean().optional().describe('Whether the grant is inside its validity period now.'),
    tenants: z.int().nonnegative().optional().describe('Number of tenants the grant applies to.'),
  })
  .describe('Observed state of the quota grant.');

export const quota = z.strictObject({
  apiVersion: z.literal(API_VERSION),
  kind: z.literal('Quota'),
  metadata: objectMeta,
  spec: quotaGrantRules,
  status: quotaStatus.optional(),
});
export type Quota = z.infer<typeof quota>;
