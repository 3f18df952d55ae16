import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { parseCheckpoint } from '../checkpoint.ts';
import { readIfExists, readTileAt } from '../client/index.ts';
import { tileRefPath, tilesChanged } from '../tlog-tiles.ts';
import { AnchorConflictError, type AnchorBucket } from './anchor-bucket.ts';

export interface AnchorerOptions {
  /** The published log folder (checkpoint, tile/…): what LogPublisher writes. */
  logDir: string;
  bucket: AnchorBucket;
  now: () => number;
  /** Where the anchored size survives restarts (default LOG/anchor.json). */
  statePath?: string;
  /** Seconds between passes while healthy (default 10). */
  intervalMs?: number;
  /** Retry delays after a failed pass: doubling from `initialMs` to `maxMs` (default 500 ms → 60 s). */
  backoff?: { initialMs: number; maxMs: number };
  log?: (message: string) => void;
}

/** How far the bucket is behind the local log. */
export interface AnchorStatus {
  /** Size of the last checkpoint anchored (0 before the first). */
  anchoredSize: number;
  /** Size of the local checkpoint last read. */
  localSize: number;
  /** Since when the local log has held entries the bucket does not; undefined when caught up. */
  behindSince: number | undefined;
  /** Since when passes have been failing; undefined while they succeed. */
  failingSince: number | undefined;
  /** The object whose stored bytes differ from the log's, if any (a rewrite or a split view). */
  conflict: string | undefined;
  /**
   * When the last successful pass began: every entry published before then is in the bucket, so the oldest
   * entry not yet anchored is younger than this. Undefined before the first.
   */
  coveredAt: number | undefined;
  /** Objects created in the bucket since this anchorer opened. */
  uploaded: number;
  /** The last pass that anchored new entries: how many, the objects it created, and how long it took (ms). */
  lastPass: { entries: number; objects: number; ms: number } | undefined;
}

/**
 * Uploads the published log to the bucket: on each pass, every tile and entry bundle that changed since the
 * last anchored checkpoint (immutable objects), then the checkpoint itself as an immutable per-size object
 * `checkpoints/<size>`, then as the latest `checkpoint`; the anchored size is saved last. Tiles go up a few at a
 * time; the checkpoints only once every tile they commit to is in the bucket. The work queue is
 * therefore derived from the local log and the saved size: it survives restarts, is bounded by what the log
 * holds, and an outage only makes the next pass longer. Nothing is lost: a pass that fails is redone whole.
 */
export class Anchorer {
  readonly #o: AnchorerOptions;
  readonly #statePath: string;
  #status: AnchorStatus = { anchoredSize: 0, localSize: 0, behindSince: undefined, failingSince: undefined, conflict: undefined, coveredAt: undefined, uploaded: 0, lastPass: undefined };
  #timer: NodeJS.Timeout | undefined;
  #failures = 0;
  #running: Promise<unknown> = Promise.resolve();

  private constructor(o: AnchorerOptions) {
    this.#o = o;
    this.#statePath = o.statePath ?? join(o.logDir, 'anchor.json');
  }

  /** Reads the saved anchored size (0 when none). */
  static async open(o: AnchorerOptions): Promise<Anchorer> {
    const a = new Anchorer(o);
    const saved = await readFile(a.#statePath, 'utf8').then((t) => JSON.parse(t) as { anchoredSize?: unknown }, () => undefined);
    if (saved && Number.isSafeInteger(saved.anchoredSize)) a.#status.anchoredSize = saved.anchoredSize as number;
    return a;
  }

  status(): AnchorStatus {
    return { ...this.#status };
  }

  /** One pass; resolves with the objects written. Passes never overlap. */
  anchorOnce(): Promise<{ size: number; uploaded: number }> {
    const pass = this.#running.then(() => this.#pass());
    this.#running = pass.catch(() => undefined);
    return pass;
  }

  /** Passes every interval, backing off while they fail. */
  start(): void {
    const next = (ms: number): void => {
      this.#timer = setTimeout(() => {
        this.anchorOnce().then(
          () => next(this.#o.intervalMs ?? 10_000),
          (e: unknown) => next(this.#failed(e)),
        );
      }, ms);
      this.#timer.unref();
    };
    next(0);
  }

  /** Stops the timer and waits for a pass in flight. */
  async stop(): Promise<void> {
    clearTimeout(this.#timer);
    await this.#running;
  }

  async #pass(): Promise<{ size: number; uploaded: number }> {
    const started = this.#o.now();
    const s = this.#status;
    const checkpoint = await readIfExists(join(this.#o.logDir, 'checkpoint'));
    if (checkpoint === undefined) return { size: s.anchoredSize, uploaded: 0 }; // nothing published yet
    const size = sizeOf(checkpoint);
    s.localSize = size;
    if (size > s.anchoredSize) s.behindSince ??= this.#o.now();
    let uploaded = 0;
    if (size > s.anchoredSize) {
      const put = async (name: string, bytes: Uint8Array) => void ((await this.#o.bucket.putImmutable(name, bytes)) === 'created' && uploaded++);
      await inParallel(tilesChanged(s.anchoredSize, size), UPLOADS, async (ref) => put(tileRefPath(ref), await readTileAt(this.#o.logDir, ref)));
      await put(`checkpoints/${size}`, checkpoint);
      await this.#o.bucket.putLatest('checkpoint', checkpoint);
      await this.#save(size);
      s.lastPass = { entries: size - s.anchoredSize, objects: uploaded, ms: this.#o.now() - started };
    }
    Object.assign(s, { anchoredSize: Math.max(s.anchoredSize, size), behindSince: undefined, failingSince: undefined, conflict: undefined, coveredAt: started });
    s.uploaded += uploaded;
    this.#failures = 0;
    return { size, uploaded };
  }

  /** Records a failed pass; returns the delay before the next one. */
  #failed(e: unknown): number {
    const s = this.#status;
    if (s.failingSince === undefined) this.#o.log?.(`anchoring to ${this.#o.bucket.location} failed, will retry: ${(e as Error).message}`);
    s.failingSince ??= this.#o.now();
    if (e instanceof AnchorConflictError) s.conflict = e.object;
    const { initialMs, maxMs } = this.#o.backoff ?? { initialMs: 500, maxMs: 60_000 };
    return Math.min(maxMs, initialMs * 2 ** this.#failures++);
  }

  async #save(size: number): Promise<void> {
    await mkdir(dirname(this.#statePath), { recursive: true });
    await writeFile(`${this.#statePath}.tmp`, JSON.stringify({ anchoredSize: size }));
    await rename(`${this.#statePath}.tmp`, this.#statePath);
  }
}

/** Uploads in flight during a pass: enough to hide a round trip to GCS, few enough to be polite to the bucket. */
const UPLOADS = 8;

/** Runs `work` on every item, at most `limit` at a time; rejects with the first failure once all have settled. */
async function inParallel<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await work(items[next++]!);
  };
  const results = await Promise.allSettled(Array.from({ length: Math.min(limit, items.length) }, worker));
  const failed = results.find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
}

/** The tree size a signed checkpoint file names (its note text ends at the blank line before the signatures). */
function sizeOf(note: Uint8Array): number {
  const text = new TextDecoder().decode(note);
  const end = text.indexOf('\n\n');
  return parseCheckpoint(end < 0 ? text : text.slice(0, end + 1)).size;
}
