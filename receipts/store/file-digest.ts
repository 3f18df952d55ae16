// The running SHA-256 of the entries file's durable bytes, which a resume point records (state.json `digest`) so
// that the next start can skip re-hashing the entries of a prefix it finds unchanged (docs/receipts.md §7).
import type { Hash } from 'node:crypto';
import { FRAME_HEADER } from './entry-file.ts';

export class FileDigest {
  #hash: Hash | undefined;
  #length: number;

  /** `hash` has taken the file's first `length` bytes; undefined: unknown, no digest is given. */
  constructor(hash: Hash | undefined, length: number) {
    this.#hash = hash;
    this.#length = length;
  }

  /** Takes the next frame of the file (its length header, then the entry), as it lies there. */
  addFrame(entry: Uint8Array): void {
    if (this.#hash === undefined) return;
    const header = Buffer.allocUnsafe(FRAME_HEADER);
    header.writeUInt32BE(entry.length, 0);
    this.#hash.update(header).update(entry);
    this.#length += FRAME_HEADER + entry.length;
  }

  /** Takes the next bytes of the file as they lie there, whole frames or not (a group commit's write, in one update). */
  addBytes(bytes: Uint8Array): void {
    if (this.#hash === undefined) return;
    this.#hash.update(bytes);
    this.#length += bytes.length;
  }

  /** The SHA-256 (hex) of the file's first `length` bytes, if that is what it has taken; otherwise undefined. */
  at(length: number): string | undefined {
    return this.#hash !== undefined && this.#length === length ? this.#hash.copy().digest('hex') : undefined;
  }

  /** Gives no digest from now on unless it has taken exactly the file's first `length` bytes. */
  expect(length: number): void {
    if (this.#length !== length) this.#hash = undefined;
  }
}
