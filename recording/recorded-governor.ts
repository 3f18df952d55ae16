import { SharedGovernor, type CheckDecision, type CheckRequest, type ConsumeDecision, type ConsumeRequest, type Decision, type DecisionRequest, type Governor, type RateDecision, type RateRequest, type ThresholdEvent } from '../governor/index.ts';
import { thresholdBody, toHex } from '../receipts/index.ts';
import type { ReceiptLog } from '../receipts/store/index.ts';
import { decisionReceiptBody } from './decision-receipts.ts';

/** Where a decision's receipt sits in the log, as answers carry it (design §4). */
export interface ReceiptRef {
  index: number;
  leafHash: string;
  /** The log's origin, when replicas share counters (another replica may answer a retry with this receipt). */
  origin?: string;
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
 *
 * On shared counters (a SharedGovernor) the answer to a consume with an idempotency key is stored in the shared
 * store before it is given, its receipt naming this log's `origin`, so a retry on any replica gets it back.
 */
export class RecordedGovernor {
  readonly #governor: Governor | SharedGovernor;
  readonly #log: ReceiptLog;
  readonly #origin: string | undefined;

  constructor(governor: Governor | SharedGovernor, log: ReceiptLog, o: { origin?: string } = {}) {
    this.#governor = governor;
    this.#log = log;
    this.#origin = o.origin;
  }

  check(r: CheckRequest): Promise<Recorded<CheckDecision>> {
    this.#log.checkWritable();
    return this.#record(this.#governor.check(r));
  }

  async consume(r: ConsumeRequest): Promise<Recorded<ConsumeDecision>> {
    this.#log.checkWritable();
    return this.#record(await this.#governor.consume(r), r.idempotencyKey);
  }

  async rate(r: RateRequest): Promise<Recorded<RateDecision>> {
    this.#log.checkWritable();
    return this.#record(await this.#governor.rate(r));
  }

  async batch(rs: readonly DecisionRequest[]): Promise<Recorded<Decision>[]> {
    this.#log.checkWritable();
    const decisions = await this.#governor.batch(rs);
    // A key repeated within the batch replays the same decision object: it is recorded once, answered twice.
    const recorded = new Map<Decision, Promise<Recorded<Decision>>>();
    return Promise.all(
      decisions.map((d, i) => {
        let answer = recorded.get(d);
        if (!answer) recorded.set(d, (answer = this.#record(d, (rs[i] as ConsumeRequest).idempotencyKey)));
        return answer;
      }),
    );
  }

  async #record<D extends Decision>(d: D, idempotencyKey?: string): Promise<Recorded<D>> {
    if (isRecorded(d)) {
      // A replay: the first answer, once its receipt is durable.
      if (this.#log.durability === 'sync') await this.#log.whenDurable(d.receipt.index);
      return d;
    }
    const key = d.op === 'consume' ? idempotencyKey : undefined;
    const appended = this.#log.append('decision', decisionReceiptBody(d, key));
    const receipt: ReceiptRef = { index: appended.index, leafHash: toHex(appended.leafHash) };
    if (this.#origin !== undefined) receipt.origin = this.#origin;
    const recorded: Recorded<D> = { ...d, receipt };
    const remembered = key === undefined ? undefined : this.#rememberRecorded(key, d, recorded);
    if (this.#log.durability === 'sync') await appended.durable;
    await remembered;
    return recorded;
  }

  /**
   * Replays of an idempotent consume answer the recorded copy: in process, in place of the decision the cache
   * holds (which stays as decided); on shared counters, stored for every replica (a store that fails keeps the
   * key claimed until the claim expires; the answer is still given).
   */
  async #rememberRecorded(key: string, decided: Decision, recorded: Recorded<Decision>): Promise<void> {
    if (decided.op !== 'consume' || recorded.op !== 'consume' || decided.amount === 0) return;
    const governor = this.#governor;
    if (governor instanceof SharedGovernor) await governor.settle(decided.tenant, key, recorded).catch(() => undefined);
    else governor.idempotency.replace(decided.tenant, key, decided, recorded);
  }
}

/** Whether a decision already carries its receipt: an idempotent replay of a recorded answer. */
function isRecorded<D extends Decision>(d: D): d is Recorded<D> {
  return 'receipt' in d && d.receipt !== undefined;
}

/**
 * Appends the `threshold` receipt of a crossing (design §3: each crossing is a receipt). The Governor's
 * `onThreshold` calls it, before the decision that crossed is recorded, so replay sees the mark first.
 */
export function recordThreshold(log: ReceiptLog, e: ThresholdEvent): void {
  log.append('threshold', thresholdBody({ tenant: e.tenant, metric: e.metric, threshold: e.threshold, percent: e.percent, used: e.used, limit: e.limit, windowStart: e.windowStart }));
}
