import { z } from 'zod';
import { describeIssues } from '../decision-schemas.ts';

/** The only AdmissionReview version TAI registers (`admissionReviewVersions: [v1]`). */
export const ADMISSION_API_VERSION = 'admission.k8s.io/v1';

const groupVersionKind = z.object({ group: z.string(), version: z.string(), kind: z.string() });
const groupVersionResource = z.object({ group: z.string(), version: z.string(), resource: z.string() });
const object = z.record(z.string(), z.unknown());

/** The fields of an AdmissionRequest that TAI reads; others are allowed and ignored (the API may add some). */
export const admissionRequest = z.object({
  uid: z.string().min(1).max(128).describe('Identifies this review; echoed in the response.'),
  kind: groupVersionKind,
  resource: groupVersionResource,
  subResource: z.string().optional(),
  name: z.string().optional(),
  namespace: z.string().optional(),
  operation: z.enum(['CREATE', 'UPDATE', 'DELETE', 'CONNECT']),
  userInfo: z.object({ username: z.string().optional() }).optional(),
  object: object.nullable().optional(),
  oldObject: object.nullable().optional(),
  dryRun: z.boolean().optional(),
});
export type AdmissionRequest = z.infer<typeof admissionRequest>;

const admissionReview = z.object({
  apiVersion: z.string(),
  kind: z.literal('AdmissionReview'),
  request: admissionRequest,
});

/** The answer of a review: allowed or not, why, and warnings shown to the kubectl user. */
export interface AdmissionVerdict {
  allowed: boolean;
  /** CamelCase, e.g. `Allowed`, `TenantSuspended`, `ResourceCapExceeded`; shown by kubectl as `Error from server (Reason)`. */
  reason: string;
  message?: string | undefined;
  warnings?: string[] | undefined;
}

/** Parses an AdmissionReview body; a wrong version or shape is a precise message for a 400. */
export function parseAdmissionReview(body: unknown): { request: AdmissionRequest } | { error: string } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return { error: 'body must be an AdmissionReview object' };
  const apiVersion = (body as { apiVersion?: unknown }).apiVersion;
  if (apiVersion !== ADMISSION_API_VERSION) {
    return { error: `apiVersion must be ${ADMISSION_API_VERSION} (register the webhook with admissionReviewVersions: [v1]), got ${JSON.stringify(apiVersion ?? null)}` };
  }
  const parsed = admissionReview.safeParse(body);
  if (!parsed.success) return { error: describeIssues(parsed.error) };
  const malformed = recordedText(parsed.data.request).find(([, v]) => typeof v === 'string' && !v.isWellFormed());
  if (malformed) return { error: `${malformed[0]}: text has a lone UTF-16 surrogate (not valid Unicode)` };
  return { request: parsed.data.request };
}

/** The texts an admission receipt records, by field path: each must be well-formed Unicode. */
function recordedText(r: AdmissionRequest): Array<[string, unknown]> {
  const meta = (r.object ?? r.oldObject)?.metadata as { name?: unknown; namespace?: unknown } | undefined;
  return [
    ['request.uid', r.uid], ['request.kind.kind', r.kind.kind], ['request.resource.group', r.resource.group], ['request.resource.version', r.resource.version],
    ['request.resource.resource', r.resource.resource], ['request.namespace', r.namespace], ['request.name', r.name],
    ['request.userInfo.username', r.userInfo?.username], ['request.object.metadata.name', meta?.name],
  ];
}

/** The AdmissionReview response body for a verdict (HTTP 200 either way: a denial is an answer). */
export function admissionResponse(uid: string, v: AdmissionVerdict): object {
  const response: Record<string, unknown> = { uid, allowed: v.allowed };
  if (!v.allowed) response.status = { code: 403, reason: v.reason, message: v.message ?? v.reason };
  if (v.warnings && v.warnings.length > 0) response.warnings = v.warnings;
  return { apiVersion: ADMISSION_API_VERSION, kind: 'AdmissionReview', response };
}
