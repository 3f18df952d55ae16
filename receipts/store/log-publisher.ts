import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { signCheckpoint } from '../checkpoint.ts';
import { CompactRange, type CompactRangeState } from '../compact-range.ts';
import type { ChainedEntry } from '../receipt-chain.ts';
import type { NoteSigner } from '../signed-note.ts';
import { TileBuilder, type TileBuilderState, type TileFile } from '../tile-builder.ts';
import { entryBundlePath, TILE_WIDTH, tilePath } from '../tlog-tiles.ts';
import { writeWholeFile } from './whole-file.ts';

export interface PublisherState {
  tiles: TileBuilderState;
  tree: CompactRangeState;
}

/**
 * How long a partial tile stays after a wider one replaces it: a client that fetched a checkpoint up to this long
 * ago can still fetch every tile of that checkpoint's size (C2SP tlog-tiles), byte for byte, from the folder.
 */
export const PARTIAL_TILE_RETENTION_MS = 10 * 60 * 1000;

/** A published full tile whose bytes on disk are not the ones the entries give: the folder was altered. */
export class TileConflictError extends Error {
  override name = 'TileConflictError';
}

/**
 * Publishes the durable part of the log in the C2SP tlog-tiles layout under `dir` (tile/…, tile/entries/…) and
 * a signed `checkpoint` naming its size and root. Every file is written whole (temp file, fsync, rename or link),
 * so none is ever short. Full tiles are written once; the rightmost partial tiles are added as they grow and the
 * superseded ones deleted only after `partialRetentionMs`; the checkpoint is written last, so it never names tiles
 * that are not there.
 */
export class LogPublisher {
  readonly #dir: string;
  readonly #origin: string;
  readonly #signer: NoteSigner;
  readonly #tiles: TileBuilder;
  readonly #tree: CompactRange;
  readonly #now: () => number;
  readonly #retentionMs: number;
  #published = -1;
  /** Partial tiles the last checkpoint needs. */
  #partials = new Set<string>();
  /** Partial tiles no current checkpoint needs, and when they stopped being needed (ms). */
  readonly #superseded = new Map<string, number>();
  #leftoversAdopted = false;
  #publishing: Promise<void> = Promise.resolve();
  readonly #waiting = new Map<number, Array<(state: PublisherState) => void>>();
  /** Full files a publish in flight has drained and not yet written: part of any state taken meanwhile. */
  #unwritten: TileFile[] = [];

  /** `resume`: a stateAt() of a previous run; the full files it lists as pending are written (again) by the next publish. */
  constructor(opts: { dir: string; origin: string; signer: NoteSigner; resume?: PublisherState | undefined; now?: () => number; partialRetentionMs?: number }) {
    this.#dir = opts.dir;
    this.#origin = opts.origin;
    this.#signer = opts.signer;
    this.#tiles = opts.resume ? TileBuilder.fromState(opts.resume.tiles) : new TileBuilder();
    this.#tree = opts.resume ? CompactRange.fromState(opts.resume.tree) : new CompactRange();
    this.#now = opts.now ?? Date.now;
    this.#retentionMs = opts.partialRetentionMs ?? PARTIAL_TILE_RETENTION_MS;
    if (this.#tiles.size !== this.#tree.size) throw new RangeError('publisher state: tiles and tree disagree on the size');
  }

  /** What resuming at `size` needs, taken when the publisher has been given exactly `size` entries. */
  stateAt(size: number): Promise<PublisherState> {
    if (this.#tiles.size === size) return Promise.resolve(this.#state());
    if (this.#tiles.size > size) return Promise.reject(new RangeError(`publisher is past ${size}`));
    return new Promise((resolve) => this.#waiting.set(size, [...(this.#waiting.get(size) ?? []), resolve]));
  }

  /**
   * The builder's state, with the full files a publish in flight is still writing put back among the pending ones:
   * a run resumed from it writes them again (an identical existing file is fine), so a crash between a drain and
   * its writes never leaves a full tile that no run writes.
   */
  #state(): PublisherState {
    const tiles = this.#tiles.state();
    const unwritten = this.#unwritten.map((f) => ({ path: f.path, bytes: Buffer.from(f.bytes).toString('base64') }));
    return { tiles: { ...tiles, pending: [...unwritten, ...tiles.pending] }, tree: this.#tree.toState() };
  }

  /** Size of the last published checkpoint (-1 before the first). */
  get publishedSize(): number {
    return this.#published;
  }

  /** Adds the next durable entry. */
  add(entry: ChainedEntry): void {
    this.#tiles.add(entry);
    this.#tree.append(entry.leafHash);
    const waiters = this.#waiting.get(this.#tiles.size);
    if (waiters) {
      this.#waiting.delete(this.#tiles.size);
      const state = this.#state();
      for (const resolve of waiters) resolve(state);
    }
  }

  /** Writes what changed and a new signed checkpoint, if the log grew (or nothing was ever published). */
  publish(): Promise<void> {
    // A failed publish is redone whole by the next one: the files it drained are kept until written.
    this.#publishing = this.#publishing.catch(() => undefined).then(() => this.#publish());
    return this.#publishing;
  }

  async #publish(): Promise<void> {
    // Size, root and files are taken in one tick: entries added while the files are written belong to the next
    // checkpoint, never to this one (a checkpoint whose root is not the root of its size is a signed lie).
    const size = this.#tiles.size;
    if (size === this.#published) return;
    const root = this.#tree.root();
    const files = this.#tiles.drain();
    this.#unwritten = files.filter((f) => f.full);
    try {
      for (const f of files) await this.#write(f);
    } catch (e) {
      this.#tiles.undrain(files);
      throw e;
    } finally {
      this.#unwritten = [];
    }
    const checkpoint = signCheckpoint({ origin: this.#origin, size, root }, this.#signer);
    await writeWholeFile(join(this.#dir, 'checkpoint'), new TextEncoder().encode(checkpoint), { exclusive: false });
    this.#published = size;
    await this.#retire(new Set(files.filter((f) => !f.full).map((f) => f.path)));
  }

  /** Full tiles are immutable: an existing one must hold the same bytes (a short one, from before, is repaired). */
  async #write(f: TileFile): Promise<void> {
    const file = join(this.#dir, f.path);
    if (!f.full || (await writeWholeFile(file, f.bytes, { exclusive: true })) === 'written') {
      if (!f.full) await writeWholeFile(file, f.bytes, { exclusive: false });
      return;
    }
    const existing = await readFile(file);
    if (existing.equals(f.bytes)) return;
    if (existing.length === f.bytes.length) throw new TileConflictError(`${file} holds other hashes than the entries give: the published log was altered`);
    await writeWholeFile(file, f.bytes, { exclusive: false }); // a short file never was a publication
  }

  /** Marks the partial tiles the new checkpoint no longer needs, and deletes those superseded long enough ago. */
  async #retire(current: Set<string>): Promise<void> {
    const now = this.#now();
    if (!this.#leftoversAdopted) await this.#adoptLeftovers(now);
    for (const old of this.#partials) if (!current.has(old)) this.#superseded.set(old, now);
    this.#partials = current;
    for (const [path, since] of this.#superseded) {
      if (now - since < this.#retentionMs || current.has(path)) continue;
      await rm(join(this.#dir, path), { force: true });
      this.#superseded.delete(path);
    }
  }

  /**
   * Partial tiles a previous run left (it may have stopped within their retention): retained from now on. Only
   * the rightmost two tile indices of each level can hold partials, so only their `.p/` folders are listed.
   */
  async #adoptLeftovers(now: number): Promise<void> {
    this.#leftoversAdopted = true;
    for (const dir of partialFolders(this.#tiles.size)) {
      const widths = await readdir(join(this.#dir, dir)).catch(() => [] as string[]);
      for (const w of widths) if (/^\d+$/.test(w)) this.#superseded.set(`${dir}/${w}`, now);
    }
  }
}

/** The `.p` folders that can hold partial tiles of a log of `size` entries or fewer: the last two indices per level. */
function partialFolders(size: number): string[] {
  const out: string[] = [];
  for (let level = 0, span = TILE_WIDTH; span / TILE_WIDTH <= Math.max(size, 1); level++, span *= TILE_WIDTH) {
    const last = Math.floor(size / span);
    for (const index of new Set([last, Math.max(0, last - 1)])) {
      out.push(tilePath({ level, index, width: 1 }).slice(0, -'/1'.length));
      if (level === 0) out.push(entryBundlePath({ index, width: 1 }).slice(0, -'/1'.length));
    }
  }
  return out;
}
