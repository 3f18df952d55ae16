import { open } from 'node:fs/promises';
import { MAX_ENTRY_SIZE } from '../tlog-tiles.ts';

/** Bytes of the big-endian length that frames each entry in the file. */
export const FRAME_HEADER = 4;
const READ_CHUNK = 8 * 1024 * 1024;
/**
 * Largest entry written or read back: the entry bundle's limit (a 2-byte length), one limit for the writer, the
 * reader and the published bundles; a larger frame length means a torn or foreign file.
 */
export const MAX_ENTRY_BYTES = MAX_ENTRY_SIZE;

/** The file operations the entry file uses: a FileHandle of node:fs/promises satisfies it. */
export interface EntryHandle {
  write(buffer: Uint8Array, offset: number, length: number, position: null): Promise<{ bytesWritten: number }>;
  read(buffer: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesRead: number }>;
  datasync(): Promise<void>;
  truncate(length: number): Promise<void>;
  stat(): Promise<{ size: number }>;
  close(): Promise<void>;
}

/**
 * Where the entry file's handle comes from: node:fs/promises by default. The seam lets a test inject a fault at
 * the file's edge (ENOSPC, EIO, a short write, a failed fdatasync) while every other call is the real one.
 */
export interface EntryFs {
  open(path: string, flags: string): Promise<EntryHandle>;
}

export const nodeEntryFs: EntryFs = { open: (path, flags) => open(path, flags) };

/** What recovery found at the end of the file. */
export interface EntryFileRecovery {
  entries: number;
  /** Bytes of an incomplete last entry that were cut off (a write the crash interrupted, never acknowledged). */
  truncatedBytes: number;
  /**
   * How many of the bytes cut off are zeros ending the file: data of a write that never reached the disk (a
   * failed fdatasync whose dirty pages were dropped, or a power loss on a filesystem that persisted the size
   * before the data).
   */
  zeroBytes: number;
}

/**
 * A frame claims more than {@link MAX_ENTRY_BYTES}: a file written before the entry limit (TAI up to 506cf6e
 * accepted entries up to 1 MiB), or damage. Carries where the frame starts and what it claims.
 */
export class FrameTooLargeError extends Error {
  override name = 'FrameTooLargeError';
  readonly offset: number;
  readonly size: number;

  constructor(offset: number, size: number) {
    super(`the frame at byte ${offset} claims ${size} bytes, over the ${MAX_ENTRY_BYTES}-byte entry limit: not a TAI entry file, or corrupt`);
    this.offset = offset;
    this.size = size;
  }
}

/**
 * The log's durable form: one append-only file of framed entries (uint32 big-endian length ‖ receipt bytes).
 * Appends are one write of a whole group; `sync` is one fdatasync for the group (group commit). The tiles and
 * checkpoints of the published layout are derived from it, so a crash can leave only an incomplete last frame,
 * which recovery cuts off.
 */
export class EntryFile {
  readonly #handle: EntryHandle;
  #length: number;
  /** Bytes known on disk: the length when the last fdatasync succeeded. */
  #durableLength: number;

  private constructor(handle: EntryHandle, length: number) {
    this.#handle = handle;
    this.#length = length;
    this.#durableLength = length;
  }

  /**
   * Opens (or creates) the file and reads every entry in order into `onEntry`, which may throw to reject one
   * (a broken chain). A rejected or incomplete entry is cut off when nothing follows it but zero bytes (a torn
   * write, or one whose data never reached the disk); otherwise the file is corrupt and the error propagates,
   * changing nothing. The first `keepBytes` (what a published checkpoint covers) are never cut off: a rejected
   * entry there propagates too.
   */
  static async open(
    path: string,
    onEntry: (bytes: Uint8Array, offset: number) => void,
    o: { startOffset?: number; keepBytes?: number; fs?: EntryFs } = {},
  ): Promise<{ file: EntryFile; recovery: EntryFileRecovery }> {
    const { startOffset = 0, keepBytes = 0, fs = nodeEntryFs } = o;
    const handle = await fs.open(path, 'a+');
    try {
      const { entries, validLength, fileLength, zeroBytes } = await readEntries(handle, onEntry, startOffset);
      if (validLength < keepBytes) throw new Error(`${path}: the entry at byte ${validLength} is unreadable, but a published checkpoint covers the file up to byte ${keepBytes}; it is not cut off`);
      if (validLength < fileLength) await handle.truncate(validLength);
      if (validLength < fileLength) await handle.datasync();
      return { file: new EntryFile(handle, validLength), recovery: { entries, truncatedBytes: fileLength - validLength, zeroBytes } };
    } catch (e) {
      await handle.close();
      throw e;
    }
  }

  /** Bytes written, synced or not. */
  get length(): number {
    return this.#length;
  }

  /** Bytes known on disk (the length at the last successful `sync`). */
  get durableLength(): number {
    return this.#durableLength;
  }

  /**
   * Appends the entries as one write (continued while the kernel takes part of it). Not durable until `sync`.
   * When it throws, part of the frames may be in the file: `rollBack` before writing again. Returns the bytes
   * written (the frames end to end).
   */
  async append(entries: readonly Uint8Array[]): Promise<Uint8Array> {
    const total = entries.reduce((n, e) => n + FRAME_HEADER + e.length, 0);
    const buf = Buffer.allocUnsafe(total);
    let at = 0;
    for (const e of entries) {
      buf.writeUInt32BE(e.length, at);
      buf.set(e, at + FRAME_HEADER);
      at += FRAME_HEADER + e.length;
    }
    for (let done = 0; done < total; ) {
      const { bytesWritten } = await this.#handle.write(buf, done, total - done, null);
      if (!(bytesWritten > 0)) throw new Error(`write made no progress at byte ${this.#length + done} of the entry file`);
      done += bytesWritten;
    }
    this.#length += total;
    return buf;
  }

  /** fdatasync: on success, everything written so far is durable. */
  async sync(): Promise<void> {
    const length = this.#length;
    await this.#handle.datasync();
    this.#durableLength = length;
  }

  /**
   * Cuts the file back to its durable length, dropping what a failed write left and what a failed fdatasync may
   * have lost (Linux can drop the dirty pages of a failed fsync: those bytes are not trusted, but rewritten).
   * The file is opened for appending, so the next write lands at the durable length.
   */
  async rollBack(): Promise<void> {
    await this.#handle.truncate(this.#durableLength);
    this.#length = this.#durableLength;
  }

  async close(): Promise<void> {
    await this.#handle.close();
  }
}

/** A frame read back: its bytes and the file offset just past it; `bytes` undefined when the file ends mid-frame. */
export interface Frame {
  bytes: Uint8Array | undefined;
  end: number;
}

/**
 * Reads frames in order, in chunks, so a large log is never held in memory whole. Throws
 * {@link FrameTooLargeError} when a frame claims more than {@link MAX_ENTRY_BYTES}.
 */
export async function* readFrames(handle: EntryHandle, fileLength: number, from: number): AsyncGenerator<Frame> {
  let buf = Buffer.alloc(0);
  let bufStart = from; // file offset of buf[0]
  let readTo = from;
  for (;;) {
    const have = buf.length;
    const size = have >= FRAME_HEADER ? buf.readUInt32BE(0) : -1;
    if (size > MAX_ENTRY_BYTES) throw new FrameTooLargeError(bufStart, size);
    if (size >= 0 && have >= FRAME_HEADER + size) {
      yield { bytes: buf.subarray(FRAME_HEADER, FRAME_HEADER + size).slice(), end: bufStart + FRAME_HEADER + size };
      buf = buf.subarray(FRAME_HEADER + size);
      bufStart += FRAME_HEADER + size;
      continue;
    }
    if (readTo >= fileLength) {
      if (have > 0) yield { bytes: undefined, end: fileLength };
      return;
    }
    const chunk = Buffer.allocUnsafe(Math.min(READ_CHUNK, fileLength - readTo));
    const { bytesRead } = await handle.read(chunk, 0, chunk.length, readTo);
    readTo += bytesRead;
    buf = Buffer.concat([buf, chunk.subarray(0, bytesRead)]);
  }
}

/**
 * Feeds every complete, accepted frame to `onEntry`. The first incomplete or rejected frame ends the log if
 * nothing but zero bytes follows it: a torn write, never acknowledged, or one whose data never reached the disk
 * (zeros parse as empty frames, which no receipt is, from where the lost data starts, maybe within that frame).
 * Anything else after it is corruption.
 */
async function readEntries(
  handle: EntryHandle,
  onEntry: (bytes: Uint8Array, offset: number) => void,
  from: number,
): Promise<{ entries: number; validLength: number; fileLength: number; zeroBytes: number }> {
  const fileLength = (await handle.stat()).size;
  if (from > fileLength) throw new Error(`cannot resume at byte ${from}: the entry file has ${fileLength}`);
  let entries = 0;
  let validLength = from;
  for await (const frame of readFrames(handle, fileLength, from)) {
    try {
      if (frame.bytes === undefined) throw new Error(`entry ${entries} is incomplete`);
      onEntry(frame.bytes, validLength);
    } catch (e) {
      if ((await dataEnd(handle, frame.end, fileLength)) === frame.end) break;
      throw e;
    }
    entries++;
    validLength = frame.end;
  }
  return { entries, validLength, fileLength, zeroBytes: fileLength - (await dataEnd(handle, validLength, fileLength)) };
}

/** The offset just past the last non-zero byte of the file in [from, to); `from` when they are all zero. */
async function dataEnd(handle: EntryHandle, from: number, to: number): Promise<number> {
  const chunk = Buffer.allocUnsafe(Math.max(0, Math.min(READ_CHUNK, to - from)));
  let end = from;
  for (let at = from; at < to; ) {
    const { bytesRead } = await handle.read(chunk, 0, Math.min(chunk.length, to - at), at);
    if (!(bytesRead > 0)) throw new Error(`the entry file ends at byte ${at}, before its length ${to}`);
    let last = bytesRead - 1;
    while (last >= 0 && chunk[last] === 0) last--;
    if (last >= 0) end = at + last + 1;
    at += bytesRead;
  }
  return end;
}

/** Reads the frame that starts at `offset` in the file at `path` (undefined if there is none). Never writes. */
export async function readFrameAtPath(path: string, offset: number): Promise<Uint8Array | undefined> {
  const handle = await open(path, 'r');
  try {
    return await readFrameAt(handle, offset);
  } finally {
    await handle.close();
  }
}

async function readFrameAt(handle: EntryHandle, offset: number): Promise<Uint8Array | undefined> {
  const header = Buffer.alloc(FRAME_HEADER);
  if ((await handle.read(header, 0, FRAME_HEADER, offset)).bytesRead < FRAME_HEADER) return undefined;
  const size = header.readUInt32BE(0);
  if (size > MAX_ENTRY_BYTES) return undefined;
  const body = Buffer.alloc(size);
  if ((await handle.read(body, 0, size, offset + FRAME_HEADER)).bytesRead < size) return undefined;
  return new Uint8Array(body);
}
