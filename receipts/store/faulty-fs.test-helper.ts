// The real filesystem with one call failing: an EntryFs for fault-injection tests. Every call is node:fs/promises'
// own except the planned fault, so what the log leaves on disk is what a real failure would leave.
import { open, type FileHandle } from 'node:fs/promises';
import type { EntryFs, EntryHandle } from './entry-file.ts';

/**
 * - `ENOSPC`: the write fails, nothing written (a full disk);
 * - `EIO`: all but the last 3 bytes are written, then the write fails (whole frames left behind an error);
 * - `short`: all but the last 3 bytes are written and the short count returned (the rest goes in the next call);
 * - `short-then-ENOSPC`: a short write and the next write fails with ENOSPC (what a filling tmpfs does);
 * - `fdatasync`: fdatasync fails with EIO and the unsynced bytes are zeroed (Linux dropped the dirty pages);
 * - `fdatasync-kept`: fdatasync fails with EIO although the bytes are in the file (and stay there).
 */
export type Fault = 'ENOSPC' | 'EIO' | 'short' | 'short-then-ENOSPC' | 'fdatasync' | 'fdatasync-kept';

export const WRITE_FAULTS: readonly Fault[] = ['ENOSPC', 'EIO', 'short', 'short-then-ENOSPC'];
export const SYNC_FAULTS: readonly Fault[] = ['fdatasync', 'fdatasync-kept'];

/**
 * Inject `fault` at the `at`-th write call (1-based), or the `at`-th fdatasync for `fdatasync`; with `until: 'healed'`
 * at every such call from then on, until `heal()` (a disk that stays full).
 */
export interface FaultPlan {
  fault: Fault;
  at: number;
  until?: 'healed';
}

function errno(code: 'ENOSPC' | 'EIO', syscall: string): NodeJS.ErrnoException {
  const text = code === 'ENOSPC' ? 'no space left on device' : 'i/o error';
  return Object.assign(new Error(`${code}: ${text}, ${syscall}`), { code, syscall, errno: code === 'ENOSPC' ? -28 : -5 });
}

/** Counts write and fdatasync calls across the handles it opens, and fails the planned one. */
export class FaultyFs implements EntryFs {
  writes = 0;
  syncs = 0;
  /** Faults actually injected (0 when the plan's call never came). */
  injected = 0;
  readonly plan: FaultPlan | undefined;
  #healed = false;

  constructor(plan?: FaultPlan) {
    this.plan = plan;
  }

  /** Ends a lasting fault: every later call is the real one. */
  heal(): void {
    this.#healed = true;
  }

  async open(path: string, flags: string): Promise<EntryHandle> {
    return new FaultyHandle(await open(path, flags), path, this);
  }

  /** Whether the fault planned for this call of this kind applies. */
  hits(kind: 'write' | 'sync', call: number): Fault | undefined {
    const p = this.plan;
    if (p === undefined || this.#healed || SYNC_FAULTS.includes(p.fault) !== (kind === 'sync')) return undefined;
    if (p.until === 'healed' ? call < p.at : call !== p.at) return undefined;
    this.injected++;
    return p.fault;
  }
}

class FaultyHandle implements EntryHandle {
  readonly #real: FileHandle;
  readonly #path: string;
  readonly #fs: FaultyFs;
  /** File length at the last successful fdatasync. */
  #synced: number | undefined;
  #enospcNext = false;

  constructor(real: FileHandle, path: string, fs: FaultyFs) {
    this.#real = real;
    this.#path = path;
    this.#fs = fs;
  }

  async write(buffer: Uint8Array, offset: number, length: number, position: null): Promise<{ bytesWritten: number }> {
    this.#synced ??= (await this.#real.stat()).size;
    const fault = this.#fs.hits('write', ++this.#fs.writes);
    if (this.#enospcNext || fault === 'ENOSPC') {
      this.#enospcNext = false;
      throw errno('ENOSPC', 'write');
    }
    if (fault === undefined) return this.#real.write(buffer, offset, length, position);
    const part = Math.max(1, length - 3);
    await this.#real.write(buffer, offset, part, position);
    if (fault === 'EIO') throw errno('EIO', 'write');
    this.#enospcNext = fault === 'short-then-ENOSPC';
    return { bytesWritten: part };
  }

  async datasync(): Promise<void> {
    this.#synced ??= (await this.#real.stat()).size;
    const fault = this.#fs.hits('sync', ++this.#fs.syncs);
    if (fault === 'fdatasync') await this.#dropUnsynced();
    if (fault !== undefined) throw errno('EIO', 'fdatasync');
    await this.#real.datasync();
    this.#synced = (await this.#real.stat()).size;
  }

  /** What Linux may do after a failed fsync: the dirty pages are gone; reads see other bytes (zeros here). */
  async #dropUnsynced(): Promise<void> {
    const size = (await this.#real.stat()).size;
    const from = this.#synced ?? 0;
    if (size <= from) return;
    const other = await open(this.#path, 'r+');
    try {
      await other.write(Buffer.alloc(size - from), 0, size - from, from);
    } finally {
      await other.close();
    }
  }

  read(buffer: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesRead: number }> {
    return this.#real.read(buffer, offset, length, position);
  }

  async truncate(length: number): Promise<void> {
    await this.#real.truncate(length);
    if (this.#synced !== undefined && length < this.#synced) this.#synced = length;
  }

  stat(): Promise<{ size: number }> {
    return this.#real.stat();
  }

  close(): Promise<void> {
    return this.#real.close();
  }
}
