// verifyLog on every core (issue 19): the entry bundles are checked in ranges by worker threads (verify-worker.ts,
// the receipts core's checkBundleRange), and this thread reads the files, stitches the ranges' results in log
// order (RangeStitcher), compares the hash tiles and the root. Same result and defects as verifyLog: each range
// stops at its first defect, and the ranges are taken in order, so the first defect reported is verifyLog's.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import {
  checkBundleRange,
  compareTiles,
  entryBundlePath,
  finishVerification,
  openCheckpoint,
  RangeStitcher,
  TILE_WIDTH,
  verifyEntries,
  type BundleRange,
  type ChainedEntry,
  type Checkpoint,
  type LogDefect,
  type LogVerification,
  type RangeCheck,
  type ReadLogFile,
} from '../index.ts';

/** Bundles per range sent to a worker (8 192 entries: ~0.1 s of work, a small share of a message). */
const CHUNK_BUNDLES = 32;
/** Below this many bundles one thread is quicker than starting workers. */
const MIN_BUNDLES = 64;

export interface WorkerVerifyOptions {
  read: ReadLogFile;
  verifierKey: string;
  /**
   * Every good entry in order: given, the log is verified in this thread (verifyLog), since the entries would
   * have to be decoded here again anyway.
   */
  onEntry?: ((e: ChainedEntry) => void) | undefined;
  /** Worker threads; default os.availableParallelism(). One: verifyLog in this thread. */
  workers?: number;
  /** Bundles per range (default 32). */
  rangeBundles?: number;
  /** Logs of fewer bundles are verified in this thread (default 64). */
  minBundles?: number;
  /** Check ranges in this thread until a worker has loaded (default true); false sends every range to a worker. */
  startInThisThread?: boolean;
}

/** verifyLog, with the entries checked by worker threads when the log is large enough to gain from them. */
export async function verifyLogInWorkers(opts: WorkerVerifyOptions): Promise<LogVerification> {
  const checkpoint = await openCheckpoint(opts.read, opts.verifierKey);
  if ('defects' in checkpoint) return checkpoint;
  const workers = Math.max(1, Math.floor(opts.workers ?? availableParallelism()) || 1);
  const bundles = Math.ceil(checkpoint.size / TILE_WIDTH);
  if (opts.onEntry !== undefined || workers < 2 || bundles < (opts.minBundles ?? MIN_BUNDLES)) {
    return verifyEntries({ read: opts.read, checkpoint, onEntry: opts.onEntry });
  }
  const pool = new VerifyPool(workers, opts.startInThisThread ?? true);
  try {
    return await verifyRanges({ read: opts.read, checkpoint, pool, rangeBundles: Math.max(1, opts.rangeBundles ?? CHUNK_BUNDLES) });
  } finally {
    await pool.close();
  }
}

/** A range as read, then as checked; `failed` when a read threw (rethrown when the range's turn comes). */
interface RangeResult {
  check: RangeCheck;
  failed?: { thrown: unknown } | undefined;
}

async function verifyRanges(c: { read: ReadLogFile; checkpoint: Checkpoint; pool: VerifyPool; rangeBundles: number }): Promise<LogVerification> {
  const { read, checkpoint } = c;
  const reader = new RangeReader({ read, size: checkpoint.size, rangeBundles: c.rangeBundles });
  const stitcher = new RangeStitcher(checkpoint.size);
  const ahead: Promise<RangeResult>[] = [];
  while (reader.more || ahead.length > 0) {
    while (reader.more && ahead.length < c.pool.size * 2) ahead.push(handled(checkRange(reader.next(), c.pool)));
    const defects = await stitch({ read, stitcher, result: await ahead.shift()! });
    if (defects.length > 0) return { ok: false, checkpoint, entries: defects[0]!.index ?? stitcher.entries, defects };
  }
  return finishVerification({ read, checkpoint, root: stitcher.root() });
}

/** Marks the promise handled (a range after the first defect is never awaited) and returns it. */
function handled<T>(p: Promise<T>): Promise<T> {
  p.catch(() => undefined);
  return p;
}

async function checkRange(reading: Promise<{ range: BundleRange; failed?: { thrown: unknown } }>, pool: VerifyPool): Promise<RangeResult> {
  const { range, failed } = await reading;
  return { check: range.bundles.length > 0 ? await pool.run(range) : { bundles: [] }, failed };
}

/** One range's bundles into the tree, comparing the hash tiles each completes; then its defect, if any. */
async function stitch(c: { read: ReadLogFile; stitcher: RangeStitcher; result: RangeResult }): Promise<LogDefect[]> {
  for (const bundle of c.result.check.bundles) {
    const defects = await compareTiles(c.read, c.stitcher.add(bundle), true);
    if (defects.length > 0) return defects;
  }
  if (c.result.check.defect) return [c.result.check.defect];
  if (c.result.failed) throw c.result.failed.thrown;
  return [];
}

/**
 * Reads the ranges' bundles in order, each range after the one before (whose last bundle it needs for its
 * first `prev`). A read that throws ends its range there; no later range is read.
 */
class RangeReader {
  readonly #read: ReadLogFile;
  readonly #size: number;
  readonly #rangeBundles: number;
  readonly #bundles: number;
  #next = 0;
  #tail: Promise<{ range: BundleRange; failed?: { thrown: unknown } }> | undefined;

  constructor(c: { read: ReadLogFile; size: number; rangeBundles: number }) {
    this.#read = c.read;
    this.#size = c.size;
    this.#rangeBundles = c.rangeBundles;
    this.#bundles = Math.ceil(c.size / TILE_WIDTH);
  }

  get more(): boolean {
    return this.#next < this.#bundles;
  }

  next(): Promise<{ range: BundleRange; failed?: { thrown: unknown } }> {
    const first = this.#next;
    const count = Math.min(this.#rangeBundles, this.#bundles - first);
    this.#next += count;
    const before = this.#tail;
    this.#tail = (async () => {
      const prior = await before;
      if (prior?.failed) return { range: { size: this.#size, first, bundles: [] }, failed: prior.failed };
      return this.#readRange({ first, count, before: prior?.range.bundles.at(-1) });
    })();
    return this.#tail;
  }

  async #readRange(c: { first: number; count: number; before: Uint8Array | undefined }): Promise<{ range: BundleRange; failed?: { thrown: unknown } }> {
    const paths = Array.from({ length: c.count }, (_, i) => entryBundlePath({ index: c.first + i, width: Math.min(TILE_WIDTH, this.#size - (c.first + i) * TILE_WIDTH) }));
    const settled = await Promise.allSettled(paths.map((p) => this.#read(p)));
    const failedAt = settled.findIndex((s) => s.status === 'rejected');
    const kept = failedAt < 0 ? settled : settled.slice(0, failedAt);
    const bundles = kept.map((s) => (s as PromiseFulfilledResult<Uint8Array | undefined>).value);
    const range: BundleRange = { size: this.#size, first: c.first, bundles, before: c.before };
    return failedAt < 0 ? { range } : { range, failed: { thrown: (settled[failedAt] as PromiseRejectedResult).reason } };
  }
}

function inThisThread(range: BundleRange): Promise<RangeCheck> {
  return new Promise((resolve, reject) =>
    setImmediate(() => {
      try {
        resolve(checkBundleRange(range));
      } catch (e) {
        reject(e as Error);
      }
    }),
  );
}

interface Job {
  resolve: (check: RangeCheck) => void;
  reject: (e: Error) => void;
  slot: Slot;
}

interface Slot {
  worker: Worker;
  busy: number;
  /** The worker has loaded its modules (its first message). */
  ready: boolean;
}

/** The worker's module beside this one: .ts as shipped, .js in the emitted build (`npm run build`), whose rewrite of extensions reaches imports only. */
const WORKER_FILE = new URL(`./verify-worker${import.meta.url.endsWith('.js') ? '.js' : '.ts'}`, import.meta.url);

/** Worker threads running verify-worker.ts; each range goes to the least busy one. */
class VerifyPool {
  readonly #slots: Slot[] = [];
  readonly #jobs = new Map<number, Job>();
  #ids = 0;
  #broken: Error | undefined;

  readonly #startHere: boolean;

  constructor(workers: number, startHere: boolean) {
    this.#startHere = startHere;
    for (let i = 0; i < workers; i++) {
      const worker = new Worker(WORKER_FILE);
      const slot: Slot = { worker, busy: 0, ready: false };
      worker.on('message', (m: { id: number; check?: RangeCheck; error?: string; ready?: true }) => (m.ready ? (slot.ready = true) : this.#settle(m)));
      worker.on('error', (e) => this.#fail(e));
      worker.on('exit', (code) => this.#fail(new Error(`verify worker exited (code ${code})`)));
      this.#slots.push(slot);
    }
  }

  get size(): number {
    return this.#slots.length;
  }

  run(range: BundleRange): Promise<RangeCheck> {
    if (this.#broken) return Promise.reject(this.#broken);
    // A worker takes ~0.1 s to load its modules: until one has, this thread checks the range itself (the same
    // pure checkBundleRange), so a log of a few seconds does not wait for the pool. In a setImmediate, so the
    // workers' "ready" messages are heard between two such ranges.
    if (this.#startHere && !this.#slots.some((s) => s.ready)) return inThisThread(range);
    const slot = this.#slots.reduce((a, b) => (b.busy < a.busy ? b : a));
    const id = this.#ids++;
    slot.busy++;
    return new Promise((resolve, reject) => {
      this.#jobs.set(id, { resolve, reject, slot });
      slot.worker.postMessage({ id, range });
    });
  }

  async close(): Promise<void> {
    this.#broken ??= new Error('verify pool closed');
    await Promise.all(this.#slots.map((s) => s.worker.terminate()));
  }

  #settle(m: { id: number; check?: RangeCheck; error?: string }): void {
    const job = this.#jobs.get(m.id);
    if (!job) return;
    this.#jobs.delete(m.id);
    job.slot.busy--;
    if (m.check) job.resolve(m.check);
    else job.reject(new Error(`verify worker: ${m.error}`));
  }

  #fail(e: Error): void {
    this.#broken ??= e;
    for (const job of this.#jobs.values()) job.reject(this.#broken);
    this.#jobs.clear();
  }
}
