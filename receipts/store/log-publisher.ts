import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { signCheckpoint } from '../checkpoint.ts';
import { CompactRange, type CompactRangeState } from '../compact-range.ts';
import type { ChainedEntry } from '../receipt-chain.ts';
import type { NoteSigner } from '../signed-note.ts';
import { TileBuilder, type TileBuilderState } from '../tile-builder.ts';

export interface PublisherState {
  tiles: TileBuilderState;
  tree: CompactRangeState;
}

/**
 * Publishes the durable part of the log in the C2SP tlog-tiles layout under `dir` (tile/…, tile/entries/…) and
 * a signed `checkpoint` naming its size and root. Full tiles are written once; the rightmost partial tiles are
 * replaced as they grow; the checkpoint is written last, so it never names tiles that are not there.
 */
export class LogPublisher {
  readonly #dir: string;
  readonly #origin: string;
  readonly #signer: NoteSigner;
  readonly #tiles: TileBuilder;
  readonly #tree: CompactRange;
  #published = -1;
  #partials = new Set<string>();
  #publishing: Promise<void> = Promise.resolve();
  readonly #waiting = new Map<number, (state: PublisherState) => void>();

  /** `resume`: the state() of a previous run whose files are already written. */
  constructor(opts: { dir: string; origin: string; signer: NoteSigner; resume?: PublisherState | undefined }) {
    this.#dir = opts.dir;
    this.#origin = opts.origin;
    this.#signer = opts.signer;
    this.#tiles = opts.resume ? TileBuilder.fromState(opts.resume.tiles) : new TileBuilder();
    this.#tree = opts.resume ? CompactRange.fromState(opts.resume.tree) : new CompactRange();
    if (this.#tiles.size !== this.#tree.size) throw new RangeError('publisher state: tiles and tree disagree on the size');
  }

  /** What resuming at `size` needs, taken when the publisher has been given exactly `size` entries. */
  stateAt(size: number): Promise<PublisherState> {
    if (this.#tiles.size === size) return Promise.resolve(this.#state());
    if (this.#tiles.size > size) return Promise.reject(new RangeError(`publisher is past ${size}`));
    return new Promise((resolve) => this.#waiting.set(size, resolve));
  }

  #state(): PublisherState {
    return { tiles: this.#tiles.state(), tree: this.#tree.toState() };
  }

  /** Size of the last published checkpoint (-1 before the first). */
  get publishedSize(): number {
    return this.#published;
  }

  /** Adds the next durable entry. */
  add(entry: ChainedEntry): void {
    this.#tiles.add(entry);
    this.#tree.append(entry.leafHash);
    const waiter = this.#waiting.get(this.#tiles.size);
    if (waiter) {
      this.#waiting.delete(this.#tiles.size);
      waiter(this.#state());
    }
  }

  /** Writes what changed and a new signed checkpoint, if the log grew (or nothing was ever published). */
  publish(): Promise<void> {
    this.#publishing = this.#publishing.then(() => this.#publish());
    return this.#publishing;
  }

  async #publish(): Promise<void> {
    const size = this.#tiles.size;
    if (size === this.#published) return;
    const files = this.#tiles.drain();
    const partials = new Set<string>();
    for (const f of files) {
      if (!f.full) partials.add(f.path);
      await this.#write(f.path, f.bytes, f.full);
    }
    const checkpoint = signCheckpoint({ origin: this.#origin, size, root: this.#tree.root() }, this.#signer);
    await this.#write('checkpoint', new TextEncoder().encode(checkpoint), false);
    for (const old of this.#partials) if (!partials.has(old)) await rm(join(this.#dir, old), { force: true });
    this.#partials = partials;
    this.#published = size;
  }

  /** Full tiles are immutable: an existing one is left alone. Others are replaced atomically. */
  async #write(path: string, bytes: Uint8Array, immutable: boolean): Promise<void> {
    const file = join(this.#dir, path);
    await mkdir(dirname(file), { recursive: true });
    if (immutable) {
      await writeFile(file, bytes, { flag: 'wx' }).catch((e: NodeJS.ErrnoException) => {
        if (e.code !== 'EEXIST') throw e;
      });
      return;
    }
    await writeFile(`${file}.tmp`, bytes);
    await rename(`${file}.tmp`, file);
  }
}
