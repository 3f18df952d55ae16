import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { ReceiptBody, ReceiptKind } from '../receipt.ts';
import { ChainError, ReceiptChain, type ChainedEntry, type ChainState } from '../receipt-chain.ts';
import { auditEntryFile, EntryFileRefusal, type PublishedHead, type ReadLeafTile } from './entry-audit.ts';
import { EntryFile, FRAME_HEADER, FrameTooLargeError, MAX_ENTRY_BYTES, type EntryFileRecovery, type EntryFs } from './entry-file.ts';
import { hashPrefix } from './entry-frames.ts';
import { FileDigest } from './file-digest.ts';

export type Durability = 'sync' | 'async';

/** What a caller gets back for an appended receipt: where it is, and when it is on disk. */
export interface AppendedReceipt {
  index: number;
  leafHash: Uint8Array;
  /** Resolves once the receipt is on disk (fsync'd); rejects if the write failed. */
  durable: Promise<void>;
}

/** A resume point that does not match the entry file: open again without it (and without the state it came with). */
export class StaleResumeError extends Error {
  override name = 'StaleResumeError';
}

/**
 * The log cannot write (docs/adr/0010). `outcome` says what the caller may rely on:
 * - `refused`: nothing was appended, so a decision refused with it changed nothing;
 * - `unknown`: the entry was appended but its write failed: it is kept in memory and written when the log
 *   recovers (a retry with the same idempotency key then answers it), and lost if the process ends first.
 */
export class LogUnavailableError extends Error {
  override name = 'LogUnavailableError';
  readonly outcome: 'refused' | 'unknown';

  constructor(message: string, outcome: 'refused' | 'unknown' = 'refused') {
    super(message);
    this.outcome = outcome;
  }
}

/** Whether the log can write; while it cannot, what failed and what waits to be written. */
export type LogHealth =
  | { writable: true }
  | {
      writable: false;
      /** The last write or fdatasync error. */
      error: string;
      /** ms since the epoch when writing first failed. */
      since: number;
      /** Entries appended but not on disk, rewritten from memory at each attempt. */
      pendingEntries: number;
      /** Attempts to write them so far, the failed write included. */
      attempts: number;
    };

/** The retry after a failed write: the first delay, doubled after each failed attempt up to `maxMs`. */
export interface LogRetry {
  firstMs: number;
  maxMs: number;
}

const DEFAULT_RETRY: LogRetry = { firstMs: 100, maxMs: 5000 };

/**
 * Where a previous run left the log, to skip re-reading what it already processed (design §5: a local snapshot
 * bounds replay). Checked before use: the frame ending at `offset` must hash to the chain's head.
 */
export interface ResumePoint {
  size: number;
  /** Bytes of the entry file holding the first `size` entries. */
  offset: number;
  /** Where the last of those entries' frame starts. */
  lastOffset: number;
  chain: ChainState;
  /**
   * SHA-256 (hex) of the file's first `offset` bytes, as they were durable when the point was taken: a start that
   * finds them unchanged hashes only the entries after them (docs/receipts.md §7). Unsigned; absent in old files.
   */
  digest?: string | undefined;
}

export interface ReceiptLogOptions {
  dir: string;
  durability: Durability;
  /** ms since the epoch; receipts carry microseconds. */
  clock: { now(): number };
  /** In async mode, the longest an answered receipt waits before it is written (default 50 ms). */
  asyncDelayMs?: number;
  /** Hears every entry, replayed at open and appended after, in order (for usage rebuild). */
  onEntry?: (entry: ChainedEntry) => void;
  /** Hears every entry once it is on disk, stored ones at open included, in order (for publishing tiles). */
  onDurable?: (entry: ChainedEntry) => void;
  /** Resume after this point instead of reading the whole file; StaleResumeError if it does not match the file. */
  resume?: ResumePoint | undefined;
  /** The entry file's file operations (default node:fs/promises): tests inject faults here. */
  fs?: EntryFs;
  /** How often a failed write is retried (default 100 ms doubling to 5 s). */
  retry?: LogRetry;
  /** Hears when writing starts failing (once per outage) and when the log writes again. */
  onHealth?: (health: LogHealth) => void;
  /**
   * Tree heads already published (signed checkpoints): the file must reproduce each one's root, or open throws
   * PublishedHistoryError and changes nothing; the entries they cover are never cut off.
   */
  published?: readonly PublishedHead[] | undefined;
  /** The level-0 tiles of the published log, to name the first differing entry (default: none, unnamed). */
  leafTile?: ReadLeafTile | undefined;
}

/** An outage: what failed, the entries waiting, and who waits for the log to write again. */
interface Failure {
  error: unknown;
  since: number;
  pending: ChainedEntry[];
  attempts: number;
  recovered: Promise<void>;
  resolve: () => void;
}

/** One group commit: the entries in it and the promise they all share. */
interface Batch {
  entries: ChainedEntry[];
  done: Promise<void>;
  settle: (error?: unknown) => void;
}

/**
 * The receipt log on disk (design §5): appends chain and hash at once in memory; writes go to the entry file in
 * groups, one write and one fdatasync per group, however many decisions it holds. In `sync` durability a caller
 * answers only after `durable` resolves; in `async` it answers at once and the group is written within
 * `asyncDelayMs`.
 */
export class ReceiptLog {
  readonly #chain: ReceiptChain;
  readonly #file: EntryFile;
  readonly #opts: ReceiptLogOptions;
  #batch: Batch | undefined;
  /** The group being written, if any; the open batch waits for it. */
  #writing: Promise<void> | undefined;
  #inflight: Batch | undefined;
  #durableSize: number;
  #lastOffset: number;
  /** Sizes whose file offsets a captured resume point waits for, and the offsets once written. */
  readonly #wantOffsets = new Set<number>();
  readonly #offsets = new Map<number, { end: number; last: number; digest?: string | undefined }>();
  /** Of the file's durable bytes, taken after each successful fdatasync. */
  readonly #digest: FileDigest;
  readonly #pendingPoints = new Map<number, Promise<ResumePoint>>();
  /** The entries appended to the file by the last write (synced or not), and where they end. */
  #written: { size: number; end: number; last: number } | undefined;
  #failure: Failure | undefined;
  #retryTimer: NodeJS.Timeout | undefined;
  #closed = false;
  /** What open found: cut-off bytes, where replay resumed, and notes on the published heads (audit). */
  readonly recovery: EntryFileRecovery & { resumedAt: number; notes: string[]; hashedFrames: number };

  private constructor(c: { chain: ReceiptChain; file: EntryFile; opts: ReceiptLogOptions; recovery: ReceiptLog['recovery']; lastOffset: number; digest: FileDigest }) {
    this.#chain = c.chain;
    this.#file = c.file;
    this.#digest = c.digest;
    this.#opts = c.opts;
    this.recovery = c.recovery;
    this.#durableSize = c.chain.size;
    this.#lastOffset = c.lastOffset;
  }

  /**
   * Opens the log in `dir`: first checks, reading only, that the file holds every published entry (each head's
   * root) and that the resume point names its prefix (one hashing pass over the file); then replays and checks
   * every stored entry after the resume point (all of them without one). A torn last entry is cut off unless a
   * published head covers it.
   */
  static async open(opts: ReceiptLogOptions): Promise<ReceiptLog> {
    await mkdir(opts.dir, { recursive: true });
    const path = join(opts.dir, 'entries');
    const { resume, coveredBytes, notes, hashedFrames, digest } = await audited(path, opts);
    const chain = new ReceiptChain(resume?.chain);
    let lastOffset = resume?.lastOffset ?? -1;
    const { file, recovery } = await EntryFile.open(
      path,
      (bytes, offset) => {
        const entry = chain.replay(bytes);
        digest.addFrame(bytes);
        lastOffset = offset;
        opts.onEntry?.(entry);
        opts.onDurable?.(entry);
      },
      { startOffset: resume?.offset ?? 0, keepBytes: coveredBytes, fs: opts.fs },
    ).catch((e: unknown) => {
      if (e instanceof FrameTooLargeError) throw oversizeRefusal(path, e, chain.size);
      throw e instanceof ChainError ? corruptionRefusal(path, e) : e;
    });
    if (lostData(recovery)) notes.push(zeroTailNote(path, recovery, chain.size));
    digest.expect(file.length);
    return new ReceiptLog({ chain, file, opts, recovery: { ...recovery, resumedAt: resume?.size ?? 0, notes, hashedFrames }, lastOffset, digest });
  }

  /**
   * The point to resume at for everything appended so far: taken now (so it matches in-memory state taken in the
   * same tick), resolved once those entries are on disk and their file offsets are known.
   */
  captureResumePoint(): Promise<ResumePoint> {
    const size = this.#chain.size;
    const chain = this.#chain.state();
    const at = (): ResumePoint => {
      const { end, last, digest } = this.#offsets.get(size)!;
      return { size, chain, offset: end, lastOffset: last, digest };
    };
    if (size === this.#durableSize) return Promise.resolve({ size, chain, offset: this.#file.length, lastOffset: this.#lastOffset, digest: this.#digest.at(this.#file.length) });
    // Written but not yet synced: the offsets are known already (the write loop will not see a new want).
    const written = this.#written;
    if (written?.size === size) return this.whenDurable(size - 1).then(() => ({ size, chain, offset: written.end, lastOffset: written.last, digest: this.#digest.at(written.end) }));
    // Two captures at the same size (a periodic save racing the one at shutdown) share one answer.
    const pending = this.#pendingPoints.get(size);
    if (pending) return pending;
    this.#wantOffsets.add(size);
    const point = this.whenDurable(size - 1)
      .then(at)
      .finally(() => {
        this.#wantOffsets.delete(size);
        this.#offsets.delete(size);
        this.#pendingPoints.delete(size);
      });
    this.#pendingPoints.set(size, point);
    return point;
  }

  get size(): number {
    return this.#chain.size;
  }

  /** Whether callers answer once a receipt is on disk (sync) or at once (async). */
  get durability(): Durability {
    return this.#opts.durability;
  }

  /** Entries known to be on disk. */
  get durableSize(): number {
    return this.#durableSize;
  }

  root(): Uint8Array {
    return this.#chain.root();
  }

  /** Whether the log can write now; while it cannot, what failed and what waits. */
  get health(): LogHealth {
    const f = this.#failure;
    if (f === undefined) return { writable: true };
    return { writable: false, error: errorText(f.error), since: f.since, pendingEntries: f.pending.length, attempts: f.attempts };
  }

  /**
   * Throws LogUnavailableError (`refused`) while the log cannot write. Callers check it before deciding anything,
   * so a decision refused for the log changes no state.
   */
  checkWritable(): void {
    const f = this.#failure;
    if (f === undefined) return;
    throw new LogUnavailableError(`the receipt log cannot write (${errorText(f.error)}; retrying, ${f.pending.length} entries waiting)`, 'refused');
  }

  /** Resolves once the log can write again (at once when it can). */
  whenWritable(): Promise<void> {
    return this.#failure?.recovered ?? Promise.resolve();
  }

  /**
   * Appends a receipt now (index and leaf hash are final); `durable` says when it is on disk. Throws
   * LogUnavailableError (`refused`, nothing appended) while the log cannot write.
   */
  append(kind: ReceiptKind, body: ReceiptBody): AppendedReceipt {
    this.checkWritable();
    const entry = this.#chain.append(kind, body, Math.trunc(this.#opts.clock.now() * 1000));
    const batch = this.#openBatch();
    batch.entries.push(entry);
    this.#opts.onEntry?.(entry);
    return { index: entry.index, leafHash: entry.leafHash, durable: batch.done };
  }

  /** Resolves once entry `index` is on disk; rejects (`unknown`) while the log cannot write. */
  whenDurable(index: number): Promise<void> {
    if (index < this.#durableSize) return Promise.resolve();
    if (this.#failure !== undefined) return Promise.reject(unknownOutcome(this.#failure.error));
    // Entries past the durable size are in the group being written or in the open one, written after it.
    return this.#batch?.done ?? this.#inflight?.done ?? Promise.resolve();
  }

  /**
   * Writes everything appended so far and waits until it is on disk. While the log cannot write, makes one more
   * attempt at once and rejects (`unknown`) if it fails too.
   */
  async flush(): Promise<void> {
    await this.#writing;
    if (this.#failure !== undefined) {
      clearTimeout(this.#retryTimer);
      await this.#retry();
      if (this.#failure === undefined) return;
      this.#scheduleRetry();
      throw unknownOutcome(this.#failure.error);
    }
    const batch = this.#batch;
    if (batch) this.#commit(batch);
    await this.#writing;
    if (batch) await batch.done;
  }

  /** Flushes what it can, stops retrying and closes the file; entries not on disk by then are lost. */
  async close(): Promise<void> {
    await this.flush().catch(() => undefined);
    this.#closed = true;
    clearTimeout(this.#retryTimer);
    await this.#writing;
    await this.#file.close();
  }

  #openBatch(): Batch {
    if (this.#batch) return this.#batch;
    let settle!: (error?: unknown) => void;
    const done = new Promise<void>((resolve, reject) => {
      settle = (error) => (error === undefined ? resolve() : reject(error));
    });
    done.catch(() => undefined); // callers that never await `durable` (async mode) must not crash the process
    const batch: Batch = { entries: [], done, settle };
    this.#batch = batch;
    // sync: commit as soon as the current tick's decisions are in (group commit); async: within the delay.
    if (this.#opts.durability === 'sync') setImmediate(() => this.#commit(batch));
    else setTimeout(() => this.#commit(batch), this.#opts.asyncDelayMs ?? 50).unref();
    return batch;
  }

  /**
   * Starts writing the batch unless a write is in flight: then the batch stays open, collecting every append
   * that arrives meanwhile, and is written as one group (one fsync) when the current write ends.
   */
  #commit(batch: Batch): void {
    if (this.#batch !== batch || this.#writing !== undefined) return;
    this.#batch = undefined;
    this.#inflight = batch;
    this.#writing = this.#write(batch).finally(() => {
      this.#writing = undefined;
      this.#inflight = undefined;
      if (this.#batch) this.#commit(this.#batch);
    });
  }

  async #write(batch: Batch): Promise<void> {
    try {
      await this.#writeEntries(batch.entries);
      batch.settle();
    } catch (e) {
      await this.#fail(e, batch);
    }
  }

  /** Appends entries right after the durable ones and syncs them: on success they are durable, in order. */
  async #writeEntries(entries: readonly ChainedEntry[]): Promise<void> {
    let end = this.#file.length;
    const framed = await this.#file.append(entries.map((e) => e.bytes));
    for (const e of entries) {
      end += 4 + e.bytes.length;
      this.#lastOffset = end - 4 - e.bytes.length;
      if (this.#wantOffsets.delete(e.index + 1)) this.#offsets.set(e.index + 1, { end, last: this.#lastOffset });
    }
    this.#written = { size: entries.at(-1)!.index + 1, end, last: this.#lastOffset };
    await this.#file.sync();
    // Durable now, and only now: a failed write or sync is rolled back and rewritten, so each byte is taken once.
    // The group's bytes go to the digest in one update, split only where a resume point wants the digest.
    let from = 0;
    let at = 0;
    for (const e of entries) {
      at += 4 + e.bytes.length;
      const wanted = this.#offsets.get(e.index + 1);
      if (wanted === undefined) continue;
      this.#digest.addBytes(framed.subarray(from, at));
      from = at;
      wanted.digest = this.#digest.at(wanted.end);
    }
    this.#digest.addBytes(framed.subarray(from));
    this.#durableSize += entries.length;
    for (const e of entries) this.#opts.onDurable?.(e);
  }

  /**
   * A group's write or fdatasync failed: its callers and those of the group collecting meanwhile learn that the
   * outcome is unknown; their entries stay in memory, the file is cut back to its durable length, and writing
   * them is retried until it succeeds. Appends are refused until then.
   */
  async #fail(error: unknown, batch: Batch): Promise<void> {
    const collecting = this.#batch;
    this.#batch = undefined;
    let resolve!: () => void;
    const recovered = new Promise<void>((r) => (resolve = r));
    const pending = [...batch.entries, ...(collecting?.entries ?? [])];
    this.#failure = { error, since: this.#opts.clock.now(), pending, attempts: 1, recovered, resolve };
    batch.settle(unknownOutcome(error));
    collecting?.settle(unknownOutcome(error));
    this.#opts.onHealth?.(this.health);
    await this.#file.rollBack().catch(() => undefined);
    this.#scheduleRetry();
  }

  #scheduleRetry(): void {
    const f = this.#failure;
    if (f === undefined || this.#closed) return;
    const { firstMs, maxMs } = this.#opts.retry ?? DEFAULT_RETRY;
    // One retry loop at a time: a flush's attempt and a timer's can both end here, and only one timer is kept.
    clearTimeout(this.#retryTimer);
    const fire = (): void => {
      if (this.#closed) return;
      void this.#retry().then(() => this.#scheduleRetry());
    };
    // The log's own outage never keeps the process alive: close() ends it, and a stopping process stops retrying.
    this.#retryTimer = setTimeout(fire, Math.min(maxMs, firstMs * 2 ** (f.attempts - 1))).unref();
  }

  /** One attempt to write what waits, from memory (the file's bytes past its durable length are not trusted). */
  async #retry(): Promise<void> {
    const f = this.#failure;
    if (f === undefined || this.#writing !== undefined) return;
    const attempt = this.#rewrite(f);
    this.#writing = attempt.then(() => undefined);
    const written = await attempt;
    this.#writing = undefined;
    if (!written) return;
    this.#failure = undefined;
    f.resolve();
    this.#opts.onHealth?.(this.health);
    if (this.#batch) this.#commit(this.#batch); // appended by the listener
  }

  async #rewrite(f: Failure): Promise<boolean> {
    try {
      await this.#file.rollBack();
      await this.#writeEntries(f.pending);
      return true;
    } catch (e) {
      f.error = e;
      f.attempts++;
      await this.#file.rollBack().catch(() => undefined);
      return false;
    }
  }
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function unknownOutcome(error: unknown): LogUnavailableError {
  return new LogUnavailableError(
    `the receipt could not be written (${errorText(error)}): the decision is kept in memory and written when the log recovers, ` +
      'unless the server stops first; the outcome is unknown: retry with the same idempotencyKey once /readyz is ready',
    'unknown',
  );
}

/** The resume point, once the audit found that it names the file's prefix, and the bytes published heads cover. */
async function audited(path: string, opts: ReceiptLogOptions): Promise<{ resume: ResumePoint | undefined; coveredBytes: number; notes: string[]; hashedFrames: number; digest: FileDigest }> {
  // The file's bytes up to the resume point, hashed once: the audit skips their entries if they are unchanged,
  // and the running digest of the file goes on from them.
  const start = opts.resume?.offset ?? 0;
  const prefix = await hashPrefix(path, start);
  const audit = await auditEntryFile(path, { heads: opts.published ?? [], resume: opts.resume, leafTile: opts.leafTile ?? (() => Promise.resolve(undefined)), prefixDigest: prefix?.copy().digest('hex') });
  if (opts.resume && !audit.resumeMatches) throw new StaleResumeError('the resume point does not match the entry file');
  return { resume: opts.resume, coveredBytes: audit.coveredBytes, notes: audit.notes, hashedFrames: audit.hashedFrames, digest: new FileDigest(prefix, start) };
}

/** A bad entry with more after it, past what any checkpoint published: only this file holds those entries. */
function corruptionRefusal(path: string, e: ChainError): EntryFileRefusal {
  return new EntryFileRefusal(
    `${path}: ${e.message}, and more entries follow it: the file is corrupt past the last published checkpoint, so the server refuses and leaves it as it is. ` +
      `Restore ${path} from a backup; or, giving up entry ${e.index} and every entry after it (never published), cut the file where entry ${e.index} starts.`,
    { cause: e },
  );
}

/**
 * A frame over the entry limit: TAI up to 506cf6e wrote entries up to 1 MiB, but an entry bundle holds at most
 * MAX_ENTRY_BYTES, so publishing stalled on such an entry and neither it nor any entry after it was published.
 */
function oversizeRefusal(path: string, e: FrameTooLargeError, index: number): EntryFileRefusal {
  return new EntryFileRefusal(
    `${path}: entry ${index} at byte ${e.offset} is ${e.size} bytes, over the ${MAX_ENTRY_BYTES}-byte entry limit (docs/adr/0011). ` +
      `TAI before that limit wrote entries up to 1 MiB, but an entry bundle holds at most ${MAX_ENTRY_BYTES} bytes, so publishing stalled on it: ` +
      `entry ${index} and every entry after it were never published. The server refuses and leaves the file as it is. ` +
      `Keep a copy of ${path}, then cut it where entry ${index} starts, at byte ${e.offset} (truncate -s ${e.offset} ${path}), giving up entry ${index} and every entry after it; ` +
      `or restore ${path} from a backup taken before that entry was written. If no TAI before the limit wrote this file, it is damaged: restore it.`,
    { cause: e },
  );
}

/**
 * Whether the zeros ending what open cut off are data that never reached the disk rather than zero bytes a torn
 * receipt happens to end with (entry 0's `prev` is 32 of them): all of it, a frame header or more (a frame
 * header is never zero); or a sector or more.
 */
function lostData(r: EntryFileRecovery): boolean {
  return r.zeroBytes === r.truncatedBytes ? r.zeroBytes >= FRAME_HEADER : r.zeroBytes >= 512;
}

/** What open says when the bytes it cut off end in zeros: not damage, a write whose data never reached the disk. */
function zeroTailNote(path: string, r: EntryFileRecovery, size: number): string {
  const what = r.zeroBytes === r.truncatedBytes ? `${r.zeroBytes} zero bytes` : `${r.truncatedBytes} bytes of an unfinished write, the last ${r.zeroBytes} of them zeros`;
  return (
    `${path} ended in ${what} ${size > 0 ? `after entry ${size - 1}` : 'and nothing else'}: a write whose data never reached the disk ` +
    '(a failed fdatasync whose pages were dropped, or a power loss before the data was written), never acknowledged in sync durability; cut off as an unfinished write'
  );
}
