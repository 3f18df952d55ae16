/**
 * A reconcile queue, as controller-runtime keeps one per controller: a key waits at most once however often
 * it is added; a key being processed and added again runs once more afterwards (never twice at the same
 * time); a failed key is retried with per-key exponential backoff; `addAfter` schedules a later visit.
 */
export class WorkQueue {
  readonly #handle: (key: string) => Promise<void>;
  readonly #onError: (key: string, error: unknown) => void;
  readonly #queued = new Set<string>();
  readonly #running = new Set<string>();
  readonly #dirty = new Set<string>();
  readonly #failures = new Map<string, number>();
  readonly #timers = new Map<string, NodeJS.Timeout>();
  readonly #concurrency: number;
  #active = 0;
  #stopped = false;
  #idle: Array<() => void> = [];

  constructor(options: { handle: (key: string) => Promise<void>; onError: (key: string, error: unknown) => void; concurrency?: number }) {
    this.#handle = options.handle;
    this.#onError = options.onError;
    this.#concurrency = options.concurrency ?? 2;
  }

  add(key: string): void {
    if (this.#stopped) return;
    if (this.#running.has(key)) {
      this.#dirty.add(key);
      return;
    }
    this.#queued.add(key);
    this.#pump();
  }

  /** Adds the key after `ms`, unless a visit is already scheduled sooner. */
  addAfter(key: string, ms: number): void {
    if (this.#stopped || this.#timers.has(key)) return;
    const timer = setTimeout(() => {
      this.#timers.delete(key);
      this.add(key);
    }, ms);
    timer.unref();
    this.#timers.set(key, timer);
  }

  /** Keys waiting or running. */
  get length(): number {
    return this.#queued.size + this.#running.size;
  }

  /** Resolves when nothing is queued or running (scheduled visits do not count). */
  drained(): Promise<void> {
    if (this.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  stop(): void {
    this.#stopped = true;
    for (const t of this.#timers.values()) clearTimeout(t);
    this.#timers.clear();
    this.#queued.clear();
  }

  #pump(): void {
    while (this.#active < this.#concurrency && this.#queued.size > 0) {
      const key = this.#queued.values().next().value as string;
      this.#queued.delete(key);
      this.#running.add(key);
      this.#active++;
      void this.#run(key);
    }
    if (this.length === 0) for (const resolve of this.#idle.splice(0)) resolve();
  }

  async #run(key: string): Promise<void> {
    try {
      await this.#handle(key);
      this.#failures.delete(key);
    } catch (error) {
      const n = (this.#failures.get(key) ?? 0) + 1;
      this.#failures.set(key, n);
      this.#onError(key, error);
      this.addAfter(key, Math.min(60_000, 50 * 2 ** Math.min(n, 11)));
    } finally {
      this.#running.delete(key);
      this.#active--;
      if (this.#dirty.delete(key)) this.add(key);
      this.#pump();
    }
  }
}
