import type { LogPublisher } from './log-publisher.ts';
import type { ReceiptLog } from './receipt-log.ts';
import { saveRunState } from './run-state.ts';

/** How often a checkpoint is signed while entries arrive (design §5: at least every second). */
export const CHECKPOINT_EVERY_MS = 1000;

/** What the run state carries beside the log: `release` (if any) ends a capture that the save did not read to its end. */
export interface HeldState {
  release?(): void;
}

export interface LogDriverOptions<R extends HeldState> {
  log: ReceiptLog;
  publisher: LogPublisher;
  /** The run state file (state.json) that bounds replay at the next start. */
  statePath: string;
  /** Entries between two run-state saves. */
  stateEvery: number;
  /**
   * What the run state carries beside the log (recording/log-replay.ts), taken in the tick the log's size is read
   * (in O(1): captures read as the save writes them, issue 19).
   */
  replayState: () => R;
  clock: { now(): number };
  /** Each publish's outcome (the server reports an outage once and /readyz follows it). */
  onPublish: (outcome: { ok: true } | { ok: false; error: unknown }) => void;
  /** A periodic run-state save that failed: the next try comes after `stateEvery` more entries. */
  onStateError: (error: unknown) => void;
}

/**
 * The log's own jobs, as tessera's driver owns its checkpoint publishing: a signed checkpoint every second while
 * entries arrive, the run state every `stateEvery` durable entries, and the closing sequence. One tick at a time:
 * one still running when the next is due (a slow disk) makes that one skip.
 */
export class LogDriver<R extends HeldState> {
  readonly #o: LogDriverOptions<R>;
  #publishedAt: number;
  /** The size the last run-state save captured (0: none by this run or the one it resumed from). */
  #savedAt: number;
  /** The size state.json holds. */
  #stateAt: number;
  #ticking: Promise<void> | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(o: LogDriverOptions<R>) {
    this.#o = o;
    this.#publishedAt = o.clock.now();
    this.#savedAt = this.#stateAt = o.log.recovery.resumedAt;
  }

  /** When a checkpoint was last published (for its age on /metrics). */
  get publishedAt(): number {
    return this.#publishedAt;
  }

  /** Publishes what is durable; whether it did. */
  publish(): Promise<boolean> {
    return this.#o.publisher.publish().then(
      () => {
        this.#publishedAt = this.#o.clock.now();
        this.#o.onPublish({ ok: true });
        return true;
      },
      (error: unknown) => {
        this.#o.onPublish({ ok: false, error });
        return false;
      },
    );
  }

  /** Starts the every-second tick. */
  start(): void {
    this.#timer ??= setInterval(() => this.#tick(), CHECKPOINT_EVERY_MS);
  }

  #tick(): void {
    const { log, stateEvery } = this.#o;
    if (this.#ticking !== undefined || !log.health.writable) return; // the log reports its own outage and retries
    this.#ticking = this.publish()
      .then((published) => (published && log.durableSize - this.#savedAt >= stateEvery ? this.saveState() : undefined))
      .catch((e: unknown) => this.#o.onStateError(e))
      .finally(() => (this.#ticking = undefined));
  }

  /** Saves the run state at the log's current size, taken in one tick so usage and answers match the log exactly; written once it is durable. */
  async saveState(): Promise<void> {
    const { log, publisher } = this.#o;
    const replay = this.#o.replayState();
    const pointing = log.captureResumePoint();
    const size = log.size;
    this.#savedAt = size;
    try {
      const [point, published] = await Promise.all([pointing, publisher.stateAt(size)]);
      await saveRunState(this.#o.statePath, { version: 1, log: point, publisher: published, replay });
      this.#stateAt = point.size;
    } finally {
      replay.release?.(); // a save that failed before reading its capture to the end
    }
  }

  /**
   * The last steps of a stop: the tick stopped, `lastEntry` appended (the stop receipt), the log closed, published
   * and the run state saved. With a log that cannot write (after one more attempt), state.json is not rewritten:
   * memory holds entries the file does not, and the saved one still names a durable point. Returns what went
   * wrong, one phrase each.
   */
  async close(lastEntry: (log: ReceiptLog) => void): Promise<string[]> {
    clearInterval(this.#timer);
    await this.#ticking; // its save and the stop's would otherwise overlap
    const { log, statePath } = this.#o;
    const problems: string[] = [];
    await log.flush().catch(() => undefined); // one more attempt for a failing log
    if (log.health.writable) lastEntry(log);
    await log.flush().catch(() => undefined);
    await log.close(); // one more attempt: read the health it leaves
    const health = log.health;
    await this.#o.publisher.publish().catch((e: unknown) => problems.push(`publishing the log failed (${errorText(e)})`));
    if (!health.writable) {
      const at = this.#stateAt;
      problems.push(
        `the receipt log could not write (${health.error}): ${health.pendingEntries} entries answered "outcome unknown" (or, in async durability, answered) are not on disk; ` +
          `${statePath} ${at > 0 ? `stays at entry ${at}` : 'was not written'}; the next start rebuilds from the ${log.durableSize} entries on disk`,
      );
    } else await this.saveState().catch((e: unknown) => problems.push(`${statePath} not written (${errorText(e)}); the next start replays the log`));
    return problems;
  }
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
