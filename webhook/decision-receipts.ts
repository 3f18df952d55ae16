import { percentUsed, rfc3339, type ConsumeDecision, type Decision } from '../governor/index.ts';
import { decisionBody, type ReceiptBody } from '../receipts/index.ts';

/** The receipt body of a decision (design §5): enough to audit it and to rebuild the answer on replay. */
export function decisionReceiptBody(d: Decision, idempotencyKey?: string): ReceiptBody {
  const common = { tenant: d.tenant, op: d.op, allowed: d.allowed, reason: d.reason, policyDigest: d.policy };
  if (d.op === 'check') return decisionBody({ ...common, subject: d.feature, value: d.value });
  if (d.op === 'rate') return decisionBody({ ...common, subject: d.name, amount: d.cost, remaining: d.remaining, retryAfterMs: d.retryAfterMs });
  return decisionBody({
    ...common,
    subject: d.metric,
    amount: d.amount,
    used: d.used,
    limit: d.limit,
    idempotencyKey,
    windowStart: d.windowStart === null ? null : Date.parse(d.windowStart),
    resetsAt: d.resetsAt,
    threshold: d.crossing?.threshold,
    rearmed: d.rearmed,
  });
}

/** Rebuilds the consume answer a decision receipt records (for idempotent replays after a restart). */
export function consumeAnswerFrom(body: ReceiptBody): ConsumeDecision {
  const n = (k: string): number => body[k] as number;
  const windowStart = (body.windowStart as number | null | undefined) ?? null;
  const answer: ConsumeDecision = {
    op: 'consume',
    tenant: body.tenant as string,
    metric: body.subject as string,
    amount: n('amount'),
    allowed: body.allowed as boolean,
    reason: body.reason as ConsumeDecision['reason'],
    used: n('used'),
    limit: n('limit'),
    remaining: Math.max(0, n('limit') - n('used')),
    resetsAt: (body.resetsAt as string | null | undefined) ?? null,
    windowStart: windowStart === null ? null : rfc3339(windowStart),
  };
  if (body.policyDigest instanceof Uint8Array) answer.policy = Buffer.from(body.policyDigest).toString('hex');
  if (typeof body.rearmed === 'number') answer.rearmed = body.rearmed;
  if (typeof body.threshold === 'number') {
    answer.crossing = { threshold: body.threshold, percent: percentUsed(answer.used, answer.limit), used: answer.used, limit: answer.limit, windowStart };
  }
  return answer;
}

