import mergePatch from 'json-merge-patch';
import { copied, MarkedMap, MemoryUsageStore, type Capture, type EffectiveDocument, type Governor, type StoredAnswer, type UsageCell } from '../governor/index.ts';
import { ReceiptBodyError, readDecisionBody, readReconcileBody, readThresholdBody, toHex, type ChainedEntry, type ConsumeDecisionBody, type DecisionBody, type ReconcileBody, type ThresholdBody } from '../receipts/index.ts';
import { jsonObjectOf, type JsonObjectEntries } from '../receipts/store/json-slices.ts';
import { consumeAnswerFrom } from './decision-receipts.ts';

/** What the governor holds in memory, saved so a restart replays only the log's tail. */
export interface ReplayState {
  cells: UsageCell[];
  answers: { tenant: string; key: string; value: object; storedAt: number }[];
  effective: Record<string, EffectiveDocument>;
}

/**
 * A ReplayState as captured for a save, in the tick the log's size is read, and read as the save writes it, a slice
 * at a time (receipts/store/json-slices.ts writes the captures as arrays and `effective` as an object): each
 * part is a Capture (governor/marked-map.ts), taken in O(1), that yields exactly what the governor held when it
 * was taken, however the governor changes while it is read. `release` ends the captures of a save that failed
 * before reading them to the end (a function: left out of the JSON).
 */
export interface CapturedReplayState {
  cells: Iterable<UsageCell>;
  answers: Iterable<StoredAnswer<unknown>>;
  effective: JsonObjectEntries;
  release(): void;
}

/**
 * What the governor holds in memory at `now`, for the saved run state (receipts/store/run-state.ts): it matches
 * the log exactly at the size read in the same tick. `effective` is each tenant's last recorded entitlements.
 */
export function replayStateOf(governor: Governor, effective: ReadonlyMap<string, EffectiveDocument> | MarkedMap<string, EffectiveDocument>, now: number): CapturedReplayState {
  const cells = governor.usage.capture?.() ?? copied([...governor.usage.cells()]);
  const answers = governor.idempotency.capture(now);
  return capturedState(cells, answers, effective);
}

function capturedState(cells: Capture<UsageCell>, answers: Capture<StoredAnswer<unknown>>, effective: ReadonlyMap<string, EffectiveDocument> | MarkedMap<string, EffectiveDocument>): CapturedReplayState {
  const recorded = effective instanceof MarkedMap ? effective.capture() : copied([...effective]);
  const release = (): void => [cells, answers, recorded].forEach((c) => c.release());
  return { cells, answers, effective: jsonObjectOf(recorded), release };
}

/**
 * Rebuilds what lives only in memory from the receipt log at start (design §5): usage counters and fired
 * thresholds, idempotent answers, and each tenant's last recorded effective entitlements (so a restart does
 * not record a reconcile receipt for a policy that did not change).
 */
export class LogReplay {
  /** Usage as the log left it: captured in O(1) for a save while the replay follows the log (replicas sharing counters). */
  readonly #cells = new MemoryUsageStore();
  readonly #answers: { tenant: string; key: string; answer: object; at: number }[] = [];
  readonly effective = new Map<string, EffectiveDocument>();
  entries = 0;

  readonly #keepAnswers: boolean;
  #following = false;

  /**
   * Starts from a saved state (see run-state.ts), so only the entries after it are replayed. `answers: false`
   * (replicas sharing counters keep idempotent answers in the shared store) collects none.
   */
  constructor(saved?: ReplayState, o: { answers?: boolean } = {}) {
    this.#keepAnswers = o.answers !== false;
    if (saved !== undefined) this.#resume(saved);
  }

  #resume(saved: ReplayState): void {
    this.#cells.restore(saved.cells ?? []);
    for (const a of saved.answers ?? []) this.#answers.push({ tenant: a.tenant, key: a.key, answer: a.value, at: a.storedAt });
    for (const [name, doc] of Object.entries(saved.effective ?? {})) this.effective.set(name, doc);
  }

  /**
   * Feeds one stored entry, in log order.
   *
   * @throws Error naming the entry's index and field when a decision, threshold or reconcile body is not as
   * docs/receipts.md describes it (no builder of ours writes one).
   */
  add(entry: ChainedEntry): void {
    this.entries++;
    const { kind, body } = entry.receipt;
    if (this.#following && kind !== 'decision' && kind !== 'threshold') return;
    if (kind === 'decision' && body.op === 'consume') this.#decision(entry, read(entry, readDecisionBody(body)));
    else if (kind === 'threshold') this.#threshold(read(entry, readThresholdBody(body)));
    else if (kind === 'reconcile') this.#reconcile(read(entry, readReconcileBody(body)));
  }

  /**
   * From now on only usage is followed (decisions and thresholds appended as the log grows; the policy's effective
   * entitlements are the recording layer's to keep): replicas sharing counters keep this log's own view of usage.
   */
  follow(): void {
    this.#following = true;
  }

  /**
   * What the replay holds, copied now: usage as the log left it (replicas sharing counters: this log's own view of
   * usage, kept to restore shared counters that were lost; `tai counters`). The run state's save takes `capture`.
   */
  state(): { cells: UsageCell[]; effective: ReadonlyMap<string, EffectiveDocument> } {
    return { cells: [...this.#cells.cells()], effective: this.effective };
  }

  /**
   * What the replay holds, captured for the saved run state in the tick the log's size is read and read as the
   * save writes it (see CapturedReplayState), with `effective`, the recording layer's last recorded entitlements.
   */
  capture(effective: ReadonlyMap<string, EffectiveDocument> | MarkedMap<string, EffectiveDocument>): CapturedReplayState {
    return capturedState(this.#cells.capture(), copied([]), effective);
  }

  /** Puts the rebuilt state into a governor (before it serves). */
  restore(governor: Governor): void {
    governor.usage.restore(this.#cells.cells());
    for (const a of this.#answers) governor.idempotency.remember(a.tenant, a.key, a.answer as never, a.at);
  }

  #decision(entry: ChainedEntry, body: DecisionBody): void {
    if (body.op === 'consume') this.#consume(entry, body);
  }

  #consume(entry: ChainedEntry, body: ConsumeDecisionBody): void {
    if (body.allowed && body.amount !== 0) {
      // The fired mark as this decision left it, in decision order: a batch's threshold receipts all precede its
      // decisions, so they alone cannot tell a re-arm between two crossings (a gauge that fell back re-arms).
      this.#cells.put({ tenant: body.tenant, metric: body.subject }, body.windowStart, { used: body.used, fired: body.rearmed ?? body.threshold });
    }
    if (this.#keepAnswers && body.idempotencyKey !== undefined && body.amount !== 0) {
      const answer = { ...read(entry, consumeAnswerFrom(body)), receipt: { index: entry.index, leafHash: toHex(entry.leafHash) } };
      this.#answers.push({ tenant: body.tenant, key: body.idempotencyKey, answer, at: Math.floor(entry.receipt.time / 1000) });
    }
  }

  #threshold(body: ThresholdBody): void {
    // Only a threshold above the mark fires, and the mark becomes it; a gauge's mark may have been lowered first.
    this.#cells.put({ tenant: body.tenant, metric: body.metric }, body.windowStart, { fired: body.threshold });
  }

  #reconcile(body: ReconcileBody): void {
    const [kind, name] = body.resource.split('/', 2);
    if (kind !== 'Tenant' || name === undefined) return;
    const next = mergePatch.apply(structuredClone(this.effective.get(name) ?? {}), body.patch) as EffectiveDocument | null;
    if (next === null) this.effective.delete(name);
    else this.effective.set(name, next);
  }
}

/** A body read, or the error naming the entry, so a start fails on a malformed log rather than guessing. */
function read<T>(entry: ChainedEntry, body: T | ReceiptBodyError): T {
  if (body instanceof ReceiptBodyError) throw new Error(`receipt log entry ${entry.index}: ${body.message}`, { cause: body });
  return body;
}
