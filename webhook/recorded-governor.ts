import type { CheckDecision, CheckRequest, ConsumeDecision, ConsumeRequest, Decision, DecisionRequest, Governor, RateDecision, RateRequest, ThresholdEvent } from '../governor/index.ts';
import { thresholdBody, toHex } from '../receipts/index.ts';
import type { ReceiptLog } from '../receipts/store/index.ts';
import { decisionReceiptBody } from './decision-receipts.ts';

/** Where a decision's receipt sits in the log, as answers carry it (design §4). */
export interface ReceiptRef {
  index: number;
  leafHash: string;
}

/** A decision with its receipt's place in the log: what a RecordedGovernor answers. */
export type Recorded<D extends Decision> = D & { receipt: ReceiptRef };

/**
 * The governor with every decision recorded (design §5): each decision appends a receipt and is answered once
 * the receipt is durable (sync) or at once (async: the log writes it within its delay). An idempotent replay
 * returns the first answer, receipt included, and appends nothing.
 *
 * While the log cannot write, every request is refused before the governor decides anything (LogUnavailableError,
 * outcome `refused`): usage, rate buckets and idempotency keys stay as they were (docs/adr/0010).
 */
export class RecordedGovernor {
  readonly #governor: Governor;
  readonly #log: ReceiptLog;

  constructor(governor: Governor, log: ReceiptLog) {
    this.#governor = governor;
    this.#log = log;
  }

  check(r: CheckRequest): Promise<Recorded<CheckDecision>> {
    this.#log.checkWritable();
    return this.#record(this.#governor.check(r));
  }

  consume(r: ConsumeRequest): Promise<Recorded<ConsumeDecision>> {
    this.#log.checkWritable();
    return this.#record(this.#governor.consume(r), r.idempotencyKey);
  }

  rate(r: RateRequest): Promise<Recorded<RateDecision>> {
    this.#log.checkWritable();
    return this.#record(this.#governor.rate(r));
  }

  async batch(rs: readonly DecisionRequest[]): Promise<Recorded<Decision>[]> {
    this.#log.checkWritable();
    const decisions = this.#governor.batch(rs);
    return Promise.all(decisions.map((d, i) => this.#record(d, (rs[i] as ConsumeRequest).idempotencyKey)));
  }

  async #record<D extends Decision>(d: D, idempotencyKey?: string): Promise<Recorded<D>> {
    const recorded = d as Recorded<D>;
    if (recorded.receipt !== undefined) {
      // A replay: the first answer, once its receipt is durable.
      if (this.#log.durability === 'sync') await this.#log.whenDurable(recorded.receipt.index);
      return recorded;
    }
    const appended = this.#log.append('decision', decisionReceiptBody(d, d.op === 'consume' ? idempotencyKey : undefined));
    // Attached to the decision object itself, which the idempotency cache holds: replays carry it.
    recorded.receipt = { index: appended.index, leafHash: toHex(appended.leafHash) };
    if (this.#log.durability === 'sync') await appended.durable;
    return recorded;
  }
}

/**
 * Appends the `threshold` receipt of a crossing (design §3: each crossing is a receipt). The Governor's
 * `onThreshold` calls it, before the decision that crossed is recorded, so replay sees the mark first.
 */
export function recordThreshold(log: ReceiptLog, e: ThresholdEvent): void {
  log.append('threshold', thresholdBody({ tenant: e.tenant, metric: e.metric, threshold: e.threshold, percent: e.percent, used: e.used, limit: e.limit, windowStart: e.windowStart }));
}
