import { CONSUME_REASONS, percentUsed, type ConsumeDecision, type Decision } from '../governor/index.ts';
import { decisionBody, ReceiptBodyError, type ConsumeDecisionBody, type ReceiptBody } from '../receipts/index.ts';

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
    windowStart: d.windowStart,
    resetsAt: d.resetsAt,
    threshold: d.crossing?.threshold,
    rearmed: d.rearmed,
  });
}

/**
 * Rebuilds the consume answer a decision receipt records (for idempotent replays after a restart), or the error
 * naming `reason` when it is not one a consume answers.
 */
export function consumeAnswerFrom(body: ConsumeDecisionBody): ConsumeDecision | ReceiptBodyError {
  const reason = CONSUME_REASONS.find((r) => r === body.reason);
  if (reason === undefined) return new ReceiptBodyError('decision', 'reason', `a consume reason (${CONSUME_REASONS.join(', ')})`, body.reason);
  const answer: ConsumeDecision = {
    op: 'consume',
    tenant: body.tenant,
    metric: body.subject,
    amount: body.amount,
    allowed: body.allowed,
    reason,
    used: body.used,
    limit: body.limit,
    remaining: Math.max(0, body.limit - body.used),
    resetsAt: body.resetsAt,
    windowStart: body.windowStart,
  };
  if (body.policyDigest !== undefined) answer.policy = Buffer.from(body.policyDigest).toString('hex');
  if (body.rearmed !== undefined) answer.rearmed = body.rearmed;
  if (body.threshold !== undefined) {
    answer.crossing = { threshold: body.threshold, percent: percentUsed(answer.used, answer.limit), used: answer.used, limit: answer.limit, windowStart: body.windowStart };
  }
  return answer;
}
