import { open, type FileHandle } from 'node:fs/promises';

/** Bytes of the big-endian length that frames each entry in the file. */
const FRAME_HEADER = 4;
const READ_CHUNK = 8 * 1024 * 1024;
/** Largest entry accepted back: receipts are small; a larger length means a torn or foreign file. */
import { MAX_ENTRY_SIZE as MAX_ENTRY_BYTES } from '../tlog-tiles.ts'; export { MAX_ENTRY_BYTES }; // one limit for writer, reader and bundles

/** What recovery found at the end of the file. */
export interface EntryFileRecovery {
  entries: number;
  /** Bytes of an incomplete last entry that were cut off (a write the crash interrupted, never acknowledged). */
  truncatedBytes: number;
}

/**
 * The log's durable form: one append-only file of framed entries (uint32 big-endian length ‖ receipt bytes).
 * Appends are one write of a whole group; `sync` is one fdatasync for the group (group commit). The tiles and
 * checkpoints of the published layout are derived from it, so a crash can leave only an incomplete last frame,
 * which recovery cuts off.
 */
export class EntryFile {
  readonly #handle: FileHandle;
  #length: number;

  private constructor(handle: FileHandle, length: number) {
    this.#handle = handle;
    this.#length = length;
  }

  /**
   * Opens (or creates) the file and reads every entry in order into `onEntry`, which may throw to reject one
   * (a broken chain). A rejected or incomplete entry is cut off when nothing valid follows it; otherwise the
   * file is corrupt and the error propagates, changing nothing.
   */
  static async open(
    path: string,
    onEntry: (bytes: Uint8Array, offset: number) => void,
    startOffset = 0,
  ): Promise<{ file: EntryFile; recovery: EntryFileRecovery }> {
    const handle = await open(path, 'a+');
    try {
      const { entries, validLength, fileLength } = await readEntries(handle, onEntry, startOffset);
      if (validLength < fileLength) await handle.truncate(validLength);
      if (validLength < fileLength) await handle.datasync();
      return { file: new EntryFile(handle, validLength), recovery: { entries, truncatedBytes: fileLength - validLength } };
    } catch (e) {
      await handle.close();
      throw e;
    }
  }

  get length(): number {
    return this.#length;
  }

  /** Appends the entries as one write. Not durable until `sync`. */
  async append(entries: readonly Uint8Array[]): Promise<void> {
    const total = entries.reduce((n, e) => n + FRAME_HEADER + e.length, 0);
    const buf = Buffer.allocUnsafe(total);
    let at = 0;
    for (const e of entries) {
      buf.writeUInt32BE(e.length, at);
      buf.set(e, at + FRAME_HEADER);
      at += FRAME_HEADER + e.length;
    }
    const { bytesWritten } = await this.#handle.write(buf, 0, total, null);
    if (bytesWritten !== total) throw new Error(`short write: ${bytesWritten} of ${total} bytes`);
    this.#length += total;
  }

  async sync(): Promise<void> {
    await this.#handle.datasync();
  }

  async close(): Promise<void> {
    await this.#handle.close();
  }
}

/** A frame read back: its bytes and the file offset just past it; `bytes` undefined when the file ends mid-frame. */
interface Frame {
  bytes: Uint8Array | undefined;
  end: number;
}

/** Reads frames in order, in chunks, so a large log is never held in memory whole. */
async function* readFrames(handle: FileHandle, fileLength: number, from: number): AsyncGenerator<Frame> {
  let buf = Buffer.alloc(0);
  let bufStart = from; // file offset of buf[0]
  let readTo = from;
  for (;;) {
    const have = buf.length;
    const size = have >= FRAME_HEADER ? buf.readUInt32BE(0) : -1;
    if (size > MAX_ENTRY_BYTES) throw new Error(`the frame at byte ${bufStart} claims ${size} bytes: not a TAI entry file, or corrupt`);
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
 * Feeds every complete, accepted frame to `onEntry`. The first incomplete or rejected frame ends the log if it
 * is the last thing in the file (a torn write, never acknowledged); anywhere else it is corruption.
 */
async function readEntries(
  handle: FileHandle,
  onEntry: (bytes: Uint8Array, offset: number) => void,
  from: number,
): Promise<{ entries: number; validLength: number; fileLength: number }> {
  const fileLength = (await handle.stat()).size;
  if (from > fileLength) throw new Error(`cannot resume at byte ${from}: the entry file has ${fileLength}`);
  let entries = 0;
  let validLength = from;
  for await (const frame of readFrames(handle, fileLength, from)) {
    try {
      if (frame.bytes === undefined) throw new Error(`entry ${entries} is incomplete`);
      onEntry(frame.bytes, validLength);
    } catch (e) {
      if (frame.end === fileLength) break;
      throw e;
    }
    entries++;
    validLength = frame.end;
  }
  return { entries, validLength, fileLength };
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

async function readFrameAt(handle: FileHandle, offset: number): Promise<Uint8Array | undefined> {
  const header = Buffer.alloc(FRAME_HEADER);
  if ((await handle.read(header, 0, FRAME_HEADER, offset)).bytesRead < FRAME_HEADER) return undefined;
  const size = header.readUInt32BE(0);
  if (size > MAX_ENTRY_BYTES) return undefined;
  const body = Buffer.alloc(size);
  if ((await handle.read(body, 0, size, offset + FRAME_HEADER)).bytesRead < size) return undefined;
  return new Uint8Array(body);
}
