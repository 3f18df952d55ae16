import { z } from 'zod';
import { LONE_SURROGATE_DETAIL } from '../governor/index.ts';

/**
 * Text a receipt records: well-formed Unicode, so it has a UTF-8 encoding. A lone surrogate (`"k\\ud800"`) is a
 * 400 naming the field, before anything is decided (issue 15).
 */
const recordable = (s: z.ZodString) => s.refine((v) => v.isWellFormed(), { message: LONE_SURROGATE_DETAIL });

/** Request bodies of the decision API (design §4). Strict: an unknown field is a 400, so typos surface. */
const tenant = recordable(z.string().min(1).max(253)).describe('Tenant name.');
const name = recordable(z.string().min(1).max(128));

export const checkBody = z.strictObject({ tenant, feature: name.describe('Feature name.') });
export const consumeBody = z.strictObject({
  tenant,
  metric: name.describe('Metric name.'),
  amount: z.number().describe('Units to consume: a whole number; 0 peeks; negative releases a gauge.'),
  idempotencyKey: recordable(z.string().min(1).max(256)).optional().describe('Replays return the first decision for 24 h.'),
});
export const rateBody = z.strictObject({
  tenant,
  name: name.describe('Rate name.'),
  cost: z.number().optional().describe('Tokens to take; default 1.'),
});

export const MAX_BATCH = 1000;
export const batchBody = z.strictObject({
  decisions: z
    .array(
      z.discriminatedUnion('op', [
        checkBody.extend({ op: z.literal('check') }),
        consumeBody.extend({ op: z.literal('consume') }),
        rateBody.extend({ op: z.literal('rate') }),
      ]),
    )
    .min(1)
    .max(MAX_BATCH)
    .describe(`Up to ${MAX_BATCH} decisions, answered in order.`),
});

/** `decisions[2].amount`: how a client finds the field. */
export function fieldPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : `${out ? '.' : ''}${String(p)}`;
  return out || '(body)';
}

/** `field.path: message` for the first issues: what a client needs to fix its request. */
export function describeIssues(error: z.ZodError): string {
  return error.issues.slice(0, 5).map((i) => `${fieldPath(i.path)}: ${i.message}`).join('; ');
}
