import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { ReceiptBody, ReceiptKind } from '../receipt.ts';
import { ReceiptChain, type ChainedEntry } from '../receipt-chain.ts';
import { EntryFile, type EntryFileRecovery } from './entry-file.ts';

export type Durability = 'sync' | 'async';

/** What a caller gets back for an appended receipt: where it is, and when it is on disk. */
export interface AppendedReceipt {
  index: number;
  leafHash: Uint8Array;
  /** Resolves once the receipt is on disk (fsync'd); rejects if the write failed. */
  durable: Promise<void>;
}

/** The log cannot take more entries: a write failed and the process must restart to recover. */
export class LogUnavailableError extends Error {
  override name = 'LogUnavailableError';
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
  #failure: unknown;
  readonly recovery: EntryFileRecovery;

  private constructor(c: { chain: ReceiptChain; file: EntryFile; opts: ReceiptLogOptions; recovery: EntryFileRecovery }) {
    this.#chain = c.chain;
    this.#file = c.file;
    this.#opts = c.opts;
    this.recovery = c.recovery;
    this.#durableSize = c.chain.size;
  }

  /** Opens the log in `dir`, replaying and checking every stored entry (a torn last entry is cut off). */
  static async open(opts: ReceiptLogOptions): Promise<ReceiptLog> {
    await mkdir(opts.dir, { recursive: true });
    const chain = new ReceiptChain();
    const { file, recovery } = await EntryFile.open(join(opts.dir, 'entries'), (bytes) => {
      const entry = chain.replay(bytes);
      opts.onEntry?.(entry);
      opts.onDurable?.(entry);
    });
    return new ReceiptLog({ chain, file, opts, recovery });
  }

  get size(): number {
    return this.#chain.size;
  }

  /** Entries known to be on disk. */
  get durableSize(): number {
    return this.#durableSize;
  }

  root(): Uint8Array {
    return this.#chain.root();
  }

  /** Appends a receipt now (index and leaf hash are final); `durable` says when it is on disk. */
  append(kind: ReceiptKind, body: ReceiptBody): AppendedReceipt {
    if (this.#failure !== undefined) throw new LogUnavailableError(`the receipt log is not accepting entries: ${String(this.#failure)}`);
    const entry = this.#chain.append(kind, body, Math.trunc(this.#opts.clock.now() * 1000));
    const batch = this.#openBatch();
    batch.entries.push(entry);
    this.#opts.onEntry?.(entry);
    return { index: entry.index, leafHash: entry.leafHash, durable: batch.done };
  }

  /** Resolves once entry `index` is on disk. */
  whenDurable(index: number): Promise<void> {
    if (index < this.#durableSize) return Promise.resolve();
    // Entries past the durable size are in the group being written or in the open one, written after it.
    return this.#batch?.done ?? this.#inflight?.done ?? Promise.resolve();
  }

  /** Writes everything appended so far and waits until it is on disk. */
  async flush(): Promise<void> {
    const batch = this.#batch;
    if (batch) this.#commit(batch);
    await this.#writing;
    if (batch) await batch.done;
  }

  async close(): Promise<void> {
    await this.flush().catch(() => undefined);
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
      if (this.#failure !== undefined) throw this.#failure;
      await this.#file.append(batch.entries.map((e) => e.bytes));
      await this.#file.sync();
      this.#durableSize += batch.entries.length;
      for (const e of batch.entries) this.#opts.onDurable?.(e);
      batch.settle();
    } catch (e) {
      this.#failure ??= e;
      batch.settle(new LogUnavailableError(`receipt write failed: ${(e as Error).message}`));
    }
  }
}
