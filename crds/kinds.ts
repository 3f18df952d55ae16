import type { z } from 'zod';
import { quota, quotaGrantSpec, quotaStatus } from './quota.ts';
import { sku, skuSpec, skuStatus } from './sku.ts';
import { tenant, tenantSpec, tenantStatus } from './tenant.ts';

export interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'boolean' | 'date';
  jsonPath: string;
  description: string;
  priority?: number;
}

/** Everything the generator and the loaders need to know about one kind. */
export interface KindInfo {
  kind: 'SKU' | 'Tenant' | 'Quota';
  plural: string;
  singular: string;
  shortNames: string[];
  description: string;
  schema: z.ZodType;
  spec: z.ZodType;
  status: z.ZodType;
  printerColumns: PrinterColumn[];
}

const ready: PrinterColumn = {
  name: 'Ready',
  type: 'string',
  jsonPath: '.status.conditions[?(@.type=="Ready")].status',
  description: 'Whether the resource compiled into the governor.',
};
const age: PrinterColumn = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp', description: 'Age.' };

export const KINDS: readonly KindInfo[] = [
  {
    kind: 'SKU',
    plural: 'skus',
    singular: 'sku',
    shortNames: ['sku'],
    description: 'SKU is a plan: features, metered quotas, rates and resource caps, optionally extending a parent SKU.',
    schema: sku,
    spec: skuSpec,
    status: skuStatus,
    printerColumns: [
      { name: 'Display', type: 'string', jsonPath: '.spec.displayName', description: 'Display name.' },
      { name: 'Extends', type: 'string', jsonPath: '.spec.extends', description: 'Parent SKU.' },
      ready,
      age,
    ],
  },
  {
    kind: 'Tenant',
    plural: 'tenants',
    singular: 'tenant',
    shortNames: ['tn'],
    description: 'Tenant is a customer of the SaaS: its SKU, add-ons, suspension and per-tenant overrides.',
    schema: tenant,
    spec: tenantSpec,
    status: tenantStatus,
    printerColumns: [
      { name: 'SKU', type: 'string', jsonPath: '.spec.sku', description: 'The plan.' },
      { name: 'Suspended', type: 'boolean', jsonPath: '.spec.suspended', description: 'Whether the tenant is suspended.' },
      { name: 'Namespaces', type: 'integer', jsonPath: '.status.namespaces', description: "Number of the tenant's namespaces." },
      { name: 'Usage', type: 'integer', jsonPath: '.status.usagePercent', description: 'Highest quota usage, percent.' },
      ready,
      age,
    ],
  },
  {
    kind: 'Quota',
    plural: 'quotas',
    singular: 'quota',
    shortNames: ['tq'],
    description: 'Quota grants or overrides one metric for a tenant or a label-selected set of tenants, optionally time-boxed.',
    schema: quota,
    spec: quotaGrantSpec,
    status: quotaStatus,
    printerColumns: [
      { name: 'Tenant', type: 'string', jsonPath: '.spec.tenant', description: 'The tenant, when one is named.' },
      { name: 'Metric', type: 'string', jsonPath: '.spec.metric', description: 'The metric.' },
      { name: 'Mode', type: 'string', jsonPath: '.spec.mode', description: 'add or replace.' },
      { name: 'Limit', type: 'integer', jsonPath: '.spec.limit', description: 'Units granted.' },
      { name: 'Active', type: 'boolean', jsonPath: '.status.active', description: 'Inside its validity period.' },
      ready,
      age,
    ],
  },
];

/** Looks a kind up by name; undefined for kinds TAI does not own. */
export function kindInfo(kind: string): KindInfo | undefined {
  return KINDS.find((k) => k.kind === kind);
}
