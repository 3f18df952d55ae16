import { z } from 'zod';

/** API group and version of every TAI kind. */
export const GROUP = 'tai.dev';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;

/** A Kubernetes object name (RFC 1123 subdomain), as the API server would accept it. */
export const objectName = z
  .string()
  .min(1)
  .max(253)
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/, {
    message: 'must be a lowercase RFC 1123 name: a-z, 0-9, "-" and ".", starting and ending alphanumeric',
  });

/** Keys of user-defined maps (features, metrics, rates): short, printable, and never prototype names. */
export const mapKey = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?$/, {
    message: 'must be 1-128 characters of letters, digits, "-", "_", "." or "/", starting and ending alphanumeric',
  })
  .refine((k) => !FORBIDDEN_KEYS.has(k), { message: 'is a reserved JavaScript name; choose another key' });

/** Keys that would reach Object.prototype if merged naively (json-merge-patch drops keys after them). */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** An RFC 3339 timestamp in UTC or with an offset, as metav1.Time serialises. */
export const timestamp = z.iso.datetime({ offset: true }).describe('RFC 3339 timestamp, e.g. 2026-03-14T00:00:00Z.');

/** The subset of ObjectMeta that TAI reads. Unknown metadata fields are kept by the API server, ignored here. */
export const objectMeta = z.looseObject({
  name: objectName.describe('Name of the resource, unique in the cluster.'),
  labels: z.record(z.string(), z.string()).optional(),
  annotations: z.record(z.string(), z.string()).optional(),
  generation: z.int().nonnegative().optional(),
  resourceVersion: z.string().optional(),
  uid: z.string().optional(),
  creationTimestamp: z.string().optional(),
});
export type ObjectMeta = z.infer<typeof objectMeta>;

/** A label selector (metav1.LabelSelector). */
export const labelSelector = z
  .strictObject({
    matchLabels: z.record(z.string(), z.string()).optional().describe('Labels that must all match exactly.'),
    matchExpressions: z
      .array(
        z.strictObject({
          key: z.string().min(1).describe('The label key the requirement applies to.'),
          operator: z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist']).describe('How the key relates to the values.'),
          values: z.array(z.string()).optional().describe('Values for In and NotIn; empty for Exists and DoesNotExist.'),
        }),
      )
      .optional()
      .describe('Set-based requirements that must all hold.'),
  })
  .describe('A Kubernetes label selector; an empty selector matches everything.');
export type LabelSelector = z.infer<typeof labelSelector>;

/** A status condition (metav1.Condition). */
export const condition = z.strictObject({
  type: z.string().describe('Condition type: Ready, Suspended, QuotaWarning or QuotaExhausted.'),
  status: z.enum(['True', 'False', 'Unknown']).describe('Status of the condition.'),
  observedGeneration: z.int().nonnegative().optional().describe('The metadata.generation this condition was set for.'),
  lastTransitionTime: timestamp.describe('When the status last changed.'),
  reason: z.string().describe('CamelCase reason for the last transition.'),
  message: z.string().describe('Human-readable detail; names the offending field when there is one.'),
});
export type Condition = z.infer<typeof condition>;

export const commonStatus = {
  observedGeneration: z.int().nonnegative().optional().describe('The metadata.generation the controller last acted on.'),
  conditions: z
    .array(condition)
    .max(16)
    .meta({ 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'] })
    .optional()
    .describe('Current state of the resource; Ready on every kind.'),
};
